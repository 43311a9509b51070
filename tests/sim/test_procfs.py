"""The synthetic /proc: what ps, mount and hostname read, in the kernel's formats."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from sim_kernel_helpers import Box, boot, read_all
from stepbox.backends.sim.procfs import ROOT_STATIC, ProcFS
from stepbox.core.kernel.namespaces import NamespaceKind


@pytest.fixture
def k():
    return boot()


def read_in(box, paths, fn=None):
    """Contents of ``paths`` as the container's PID 1 reads them."""
    out = {}

    def prog(sys):
        if fn:
            yield from fn(sys)
        for p in paths:
            data = yield from read_all(sys, p)
            out[p] = data.decode()
        return 0

    status = box.run(prog)
    assert status.code == 0, box.stderr()
    return out


def status_fields(text):
    return {key: value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}


def test_listing_proc_shows_only_the_containers_pids(k, tmp_path):
    box = Box(k, tmp_path)
    names = []

    def prog(sys):
        def child(csys):
            yield from csys.sleep(5)
            return 0

        sys.fork(child)
        names.extend(sys.listdir("/proc"))
        names.append(sys.readlink("/proc/self"))
        return 0
        yield

    box.run(prog)
    pids = [n for n in names[:-1] if n.isdigit()]
    assert pids == ["1", "2"]
    assert names[-1] == "1"
    assert {"self", "mounts", "meminfo", "sys", "net"} <= set(names)


def test_status_of_a_container_process(k, tmp_path):
    box = Box(k, tmp_path)
    text = read_in(box, ["/proc/self/status"])["/proc/self/status"]
    f = status_fields(text)
    assert f["Name"] == "prog"
    assert f["State"] == "R (running)"
    assert (f["Pid"], f["PPid"], f["NSpid"], f["Tgid"]) == ("1", "0", "1", "1")
    assert f["Uid"].split() == ["0"] * 4
    assert f["CapEff"] == "00000000a80425fb"  # Docker's default set
    assert f["CapBnd"] == "00000000a80425fb"
    assert f["NoNewPrivs"] == "0"  # Docker leaves it off unless --security-opt no-new-privileges
    assert text.splitlines()[0] == "Name:\tprog"  # tab-separated like the kernel's


def test_host_view_shows_every_pid_level(k, tmp_path):
    box = Box(k, tmp_path)
    host = Box(k, tmp_path, namespaces=(), setup=False)  # a process on the host
    seen = {}

    def prog(sys):
        data = yield from read_all(sys, f"/proc/{box.pid}/status")
        seen.update(status_fields(data.decode()))
        seen["names"] = sys.listdir("/proc")
        return 0

    k.rootfs.write("/usr/bin/probe", host_program(k, prog), mode=0o755)
    host.handle.exec(["/usr/bin/probe"], {})
    assert host.handle.wait().code == 0
    assert seen["NSpid"].split() == [str(box.pid), "1"]
    assert seen["PPid"] == str(k.engine.pid)
    assert {"1", "2", str(box.pid)} <= set(seen["names"])


def host_program(k, fn):
    return k.register_program(f"host-{id(fn)}", fn)


def test_stat_line_has_52_fields(k, tmp_path):
    box = Box(k, tmp_path)
    line = read_in(box, ["/proc/1/stat"])["/proc/1/stat"]
    fields = line.split()
    assert len(fields) == 52 and fields[0] == "1" and fields[1] == "(prog)"
    assert fields[2] == "R" and fields[3] == "0"
    assert line.endswith("\n")


def test_cmdline_and_comm(k, tmp_path):
    box = Box(k, tmp_path)
    out = read_in(box, ["/proc/self/cmdline", "/proc/self/comm", "/proc/self/environ"])
    assert out["/proc/self/cmdline"] == "/bin/prog\0"
    assert out["/proc/self/comm"] == "prog\n"
    assert out["/proc/self/environ"] == "PATH=/bin\0"


def test_cgroup_file_inside_the_cgroup_namespace(k, tmp_path):
    box = Box(k, tmp_path)
    assert read_in(box, ["/proc/self/cgroup"])["/proc/self/cgroup"] == "0::/\n"


def test_cgroup_file_seen_from_the_host(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    from stepbox.backends.sim.procfs import ProcFS

    fs = ProcFS(k, k.init_pidns)  # the host's /proc, read by the engine
    assert fs.read(f"/{box.pid}/cgroup") == f"0::/{box.cgroup}\n".encode()


def test_mounts_file_matches_kernel_mounts(k, tmp_path):
    box = Box(k, tmp_path)
    expected = "".join(f"{m}\n" for m in k.mounts(box.pid))
    out = read_in(box, ["/proc/mounts", "/proc/self/mounts"])
    assert out["/proc/mounts"] == out["/proc/self/mounts"] == expected
    assert "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n" in expected
    assert "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0\n" in expected


def test_ns_links(k, tmp_path):
    box = Box(k, tmp_path)
    links = {}
    ns = k.namespaces.of(box.pid)

    def prog(sys):
        for kind in ("uts", "pid", "mnt", "net", "ipc", "cgroup", "user"):
            links[kind] = sys.readlink(f"/proc/self/ns/{kind}")
        return 0
        yield

    box.run(prog)
    for kind, text in links.items():
        assert text == f"{kind}:[{ns[NamespaceKind(kind)]}]"


def test_hostname_and_net_dev_follow_the_reader(k, tmp_path):
    box = Box(k, tmp_path, hostname="web")
    out = read_in(box, ["/proc/sys/kernel/hostname", "/proc/net/dev"])
    assert out["/proc/sys/kernel/hostname"] == "web\n"
    lines = out["/proc/net/dev"].splitlines()
    assert lines[0].startswith("Inter-|") and len(lines) == 3
    assert lines[2].split()[0] == "lo:"
    assert lines[2].startswith("    lo:       0       0")


def test_meminfo_format(k, tmp_path):
    box = Box(k, tmp_path)
    text = read_in(box, ["/proc/meminfo"])["/proc/meminfo"]
    first = text.splitlines()[0]
    assert first.startswith("MemTotal:") and first.endswith(" kB")
    assert len(first) == len("MemTotal:       24683652 kB")


def test_zombie_shows_z_and_empty_cmdline(k, tmp_path):
    box = Box(k, tmp_path)
    seen = {}

    def child(sys):
        return 0
        yield

    def prog(sys):
        pid = sys.fork(child)
        yield from sys.sleep(1)
        data = yield from read_all(sys, f"/proc/{pid}/status")
        seen["state"] = status_fields(data.decode())["State"]
        seen["cmdline"] = yield from read_all(sys, f"/proc/{pid}/cmdline")
        return 0

    box.run(prog)
    assert seen == {"state": "Z (zombie)", "cmdline": b""}


def test_proc_is_read_only_for_new_files(k, tmp_path):
    box = Box(k, tmp_path)
    errs = []

    def prog(sys):
        try:
            sys.open("/proc/newfile", os.O_WRONLY | os.O_CREAT)
        except OSError as e:
            errs.append(e.errno)
        fd = sys.open("/proc/1/status", os.O_WRONLY)  # root may open it...
        try:
            sys.write(fd, b"x")  # ...but not change it
        except OSError as e:
            errs.append(e.errno)
        return 0
        yield

    box.run(prog)
    assert errs == [2, 13]  # ENOENT as on Linux; then EACCES


_HOST_PROC: list[ProcFS] = []


def _host_proc() -> ProcFS:
    if not _HOST_PROC:
        k = boot()
        _HOST_PROC.append(ProcFS(k, k.init_pidns))
    return _HOST_PROC[0]


@settings(max_examples=300)
@given(
    hs.one_of(hs.sampled_from(ROOT_STATIC + ("1", "01", "99", "²", "asound", ".", "")), hs.text(max_size=12))
)
def test_lstat_of_a_name_in_proc_is_what_the_tree_says(name):
    """lstat's quick answer for names that are no entry of /proc is the
    error the tree (_entry) gives, and a name it has is not refused."""
    fs = _host_proc()
    path = "/" + name

    def outcome(call):
        try:
            got = call(path)
        except OSError as e:
            return ("error", e.errno, e.filename)
        except ValueError:
            return ("ValueError",)
        return ("ok", got.kind)

    assert outcome(fs.lstat) == outcome(fs._entry)
