"""The container lifecycle on the real kernel, driven through the
core.kernel interfaces only (no stepbox.core.container): the manual
equivalent of ``docker run``, and the limits the seed talks about --
the OOM killer, the fork bomb stopped by pids.max, CPU throttling, the
freezer -- and containers that outlive the program that started them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from linux_support import ENV, NO_LEAKS, leaks, linux_root, start_container
from stepbox.core.kernel import CgroupLimits, ExecFailed, ExitStatus, NamespaceKind, Stdio

pytestmark = [linux_root, pytest.mark.linux]


def poll(predicate, what, timeout=60.0):
    """Wait for something the kernel does asynchronously.  The timeout is
    only a guard against hanging forever, not an assertion about speed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_manual_lifecycle(linux_kernel, busybox_entries):
    k = linux_kernel
    mark = k.tracer.mark()
    c = start_container(k, busybox_entries, "c1", None, hostname="box1", exec_=False)
    try:
        h = c.handle
        # Before exec: PID 1 of new namespaces, in its cgroup.
        host = k.namespaces.of(os.getpid())
        ns = k.namespaces.of(h.pid)
        for kind in (
            NamespaceKind.PID,
            NamespaceKind.UTS,
            NamespaceKind.MNT,
            NamespaceKind.NET,
            NamespaceKind.IPC,
            NamespaceKind.CGROUP,
        ):
            assert ns[kind] != host[kind], kind
        assert ns[NamespaceKind.USER] == host[NamespaceKind.USER]
        assert k.namespaces.pid_in_namespace(h.pid) == 1
        assert k.namespaces.hostname(h.pid) == "box1"
        assert k.namespaces.interfaces(h.pid) == {"lo": True}
        assert h.pid in k.cgroups.procs(c.cgroup)
        info = {p.pid: p for p in k.processes.list()}[h.pid]
        assert info.ns_pid == 1 and info.cgroup.endswith("/stepbox/c1")

        from stepbox.core.kernel.capabilities import DOCKER_DEFAULT_CAPABILITIES

        h.drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)
        h.exec(
            ["/bin/sh", "-c", "hostname; echo $$; cat /proc/self/status | grep CapEff; cat /proc/mounts"], ENV
        )
        assert h.wait(timeout=60) == ExitStatus.exited(0)
        lines = c.out().splitlines()
        assert lines[0] == "box1"
        assert lines[1] == "1"
        assert lines[2].split() == ["CapEff:", "00000000a80425fb"]
        mounts = [line.split() for line in lines[3:]]
        assert ["overlay", "/", "overlay"] == mounts[0][:3]
        targets = {m[1]: m for m in mounts}
        assert targets["/proc/sys"][3].startswith("ro,")  # read-only path
        assert "/proc/keys" in targets  # masked (bound /dev/null)
        assert not any(m[1].startswith(k.state_dir) for m in mounts)  # no host path left
        assert c.err() == ""

        ops = [(op.call, op.detail) for op in k.tracer.since(mark)]
        calls = [call for call, _ in ops]
        clone = dict(ops)["clone"]
        for flag in (
            "CLONE_NEWNS",
            "CLONE_NEWPID",
            "CLONE_NEWUTS",
            "CLONE_NEWNET",
            "CLONE_NEWIPC",
            "CLONE_NEWCGROUP",
        ):
            assert flag in clone
        assert ("pivot_root", '".", "."') in ops
        assert ("sethostname", '"box1", 4') in ops
        assert any(call == "mount" and detail.startswith('"overlay"') for call, detail in ops)
        assert any(call.endswith("/cgroup.procs") for call in calls)
        assert calls.index("capset") < calls.index("execve")
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


def test_exec_of_a_missing_command_fails_like_docker(linux_kernel, busybox_entries):
    k = linux_kernel
    with pytest.raises(ExecFailed) as info:
        start_container(k, busybox_entries, "nocmd", ["nosuch"])
    assert str(info.value) == 'exec: "nosuch": executable file not found in $PATH'
    assert info.value.exit_code == 127
    assert leaks(k) == NO_LEAKS  # start_container undid its steps


def test_exec_failure_leaves_exit_status_127(linux_kernel, busybox_entries):
    k = linux_kernel
    c = start_container(k, busybox_entries, "nocmd2", None, exec_=False)
    try:
        with pytest.raises(ExecFailed, match="stat /no/such: no such file"):
            c.handle.exec(["/no/such"], ENV)
        assert c.handle.wait(timeout=60) == ExitStatus.exited(127)
    finally:
        c.undo()


def test_oom_killer_kills_inside_the_memory_limit(linux_kernel, busybox_entries):
    k = linux_kernel
    c = start_container(
        k, busybox_entries, "oom", ["tail", "/dev/zero"], limits=CgroupLimits(memory_bytes=8 * 1024 * 1024)
    )
    try:
        status = c.handle.wait(timeout=120)
        assert status == ExitStatus.killed(signal.SIGKILL) and status.code == 137
        events = k.cgroups.stats(c.cgroup).memory_events
        assert events["oom_kill"] >= 1
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


def test_pids_limit_stops_a_fork_loop(linux_kernel, busybox_entries):
    k = linux_kernel
    script = "i=0; while [ $i -lt 10 ]; do sleep 100 & i=$((i+1)); done; echo forked all"
    c = start_container(
        k, busybox_entries, "forky", ["/bin/sh", "-c", script], limits=CgroupLimits(pids_max=5)
    )
    try:
        # busybox sh gives up on the first failed fork (a non-interactive
        # shell exits on errors); its exit ends the PID namespace, sleeps too.
        status = c.handle.wait(timeout=60)
        assert "sh: can't fork: Resource temporarily unavailable" in c.err()
        assert "forked all" not in c.out()
        assert status == ExitStatus.exited(2)
        stats = k.cgroups.stats(c.cgroup)
        assert stats.pids_max == 5 and stats.pids_events_max >= 1
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


def test_cpu_quota_throttles(linux_kernel, busybox_entries):
    k = linux_kernel
    c = start_container(
        k,
        busybox_entries,
        "spin",
        ["/bin/sh", "-c", "while :; do :; done"],
        limits=CgroupLimits.from_cpus(0.1),
    )
    try:
        poll(lambda: k.cgroups.stats(c.cgroup).cpu_nr_throttled > 2, "throttling")
        stats = k.cgroups.stats(c.cgroup)
        assert stats.cpu_nr_periods >= stats.cpu_nr_throttled > 0
        assert stats.cpu_throttled_usec > 0 and stats.cpu_usage_usec > 0
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


def test_freeze_and_thaw(linux_kernel, busybox_entries):
    k = linux_kernel
    c = start_container(k, busybox_entries, "ice", ["/bin/sh", "-c", "while :; do :; done"])
    try:
        k.cgroups.freeze(c.cgroup)
        assert k.cgroups.stats(c.cgroup).frozen
        state = {p.pid: p.state for p in k.processes.list()}
        assert state[c.handle.pid] == "T"
        usage = k.cgroups.stats(c.cgroup).cpu_usage_usec
        assert c.handle.wait(timeout=0.2) is None
        assert k.cgroups.stats(c.cgroup).cpu_usage_usec == usage  # a frozen group runs nothing
        k.cgroups.thaw(c.cgroup)
        assert not k.cgroups.stats(c.cgroup).frozen
        poll(lambda: k.cgroups.stats(c.cgroup).cpu_usage_usec > usage, "it to run again")
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


def test_reattach_from_a_new_kernel_object(linux_kernel, busybox_entries):
    from stepbox.backends.linux import create_kernel

    k = linux_kernel
    c = start_container(k, busybox_entries, "later", ["sleep", "1000"])
    try:
        record = json.loads(json.dumps(c.handle.record()))  # JSON-able
        k2 = create_kernel(k.state_dir)  # "a later CLI call"
        h2 = k2.processes.reattach(record)
        assert h2 is not None and h2.pid == c.handle.pid
        assert h2.wait(timeout=0.05) is None
        h2.signal(signal.SIGKILL)
        assert h2.wait(timeout=60) == ExitStatus.killed(signal.SIGKILL)
        # The status stays readable; a record of a vanished run finds nothing.
        assert k2.processes.reattach(record).wait(timeout=0) == ExitStatus.killed(9)
        assert k2.processes.reattach({**record, "run_dir": record["run_dir"] + "x"}) is None
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


SPAWN_AND_LEAVE = """
import json, sys
sys.path.insert(0, {tests!r})
from stepbox.backends.linux import create_kernel
from linux_support import start_container
import conftest_entries
k = create_kernel({state!r})
c = start_container(k, conftest_entries.entries(), "detached", ["sleep", "1000"])
print(json.dumps({{"record": c.handle.record(), "mount": c.mount.target}}))
"""

ENTRIES_MODULE = """
import pickle
def entries():
    with open({path!r}, "rb") as f:
        return pickle.load(f)
"""


def test_container_outlives_the_program_that_started_it(linux_kernel, busybox_entries, tmp_path):
    """`run -d`: the starting program exits; the container keeps running
    under its shim; a later program finds it, stops it and gets the status."""
    import pickle

    k = linux_kernel
    entries_file = tmp_path / "entries.pickle"
    entries_file.write_bytes(pickle.dumps(busybox_entries))
    (tmp_path / "conftest_entries.py").write_text(ENTRIES_MODULE.format(path=str(entries_file)))
    script = SPAWN_AND_LEAVE.format(tests=os.path.dirname(__file__), state=k.state_dir)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    started = json.loads(out.stdout.splitlines()[-1])
    record = started["record"]
    try:
        # The starter is gone, its handle with it; the container is not.
        assert k.processes.exists(record["pid"])
        info = {p.pid: p for p in k.processes.list()}
        assert info[record["pid"]].argv == ("sleep", "1000")
        assert info[record["pid"]].ppid == record["shim"]  # the shim is the parent
        h = k.processes.reattach(record)
        assert h is not None and h.wait(timeout=0.05) is None
        h.signal(signal.SIGKILL)
        assert h.wait(timeout=60) == ExitStatus.killed(signal.SIGKILL)
    finally:
        from stepbox.core.kernel import UnionMount

        k.unionfs.unmount(UnionMount(started["mount"], (), "", ""))
        k.cgroups.remove("stepbox/detached")
    assert leaks(k) == NO_LEAKS


def test_exec_in_joins_the_running_container(linux_kernel, busybox_entries):
    k = linux_kernel
    c = start_container(k, busybox_entries, "target", ["sleep", "1000"], hostname="tgt")
    out, err = os.path.join(k.state_dir, "exec.out"), os.path.join(k.state_dir, "exec.err")
    try:
        h = k.processes.exec_in(
            c.handle.pid,
            ["sh", "-c", "hostname; echo $$; cat /proc/1/cmdline; echo; grep CapEff /proc/self/status; ls /"],
            ENV,
            "/",
            Stdio(stdout=out, stderr=err),
        )
        assert h.wait(timeout=60) == ExitStatus.exited(0), open(err).read()
        lines = open(out).read().splitlines()
        assert lines[0] == "tgt"
        assert lines[1] != "1" and int(lines[1]) > 1  # a PID in the container's ns
        assert lines[2].split("\0")[:2] == ["sleep", "1000"]
        assert lines[3].split() == ["CapEff:", "00000000a80425fb"]
        assert "bin" in lines[4:]
        with pytest.raises(ExecFailed, match="executable file not found"):
            k.processes.exec_in(c.handle.pid, ["nosuch"], ENV, "/", Stdio(out, err))
        # Only the container's own run record is kept; exec runs are pruned.
        assert os.listdir(k.processes.runs) == [os.path.basename(c.handle.run_dir)]
    finally:
        c.undo()
    assert leaks(k) == NO_LEAKS


def test_init_exits_when_the_engine_vanishes_before_exec(linux_kernel, busybox_entries):
    """Crash safety: a CLI that dies half-way leaves a waiting init; it sees
    end-of-file on its control pipe and exits (255), and cleanup() removes
    the rest."""
    from stepbox.backends.linux.kernel import cleanup

    k = linux_kernel
    c = start_container(k, busybox_entries, "orphan", None, exec_=False)
    record = c.handle.record()
    c.handle._close_pipes()  # what the kernel does when the CLI dies
    h = k.processes.reattach(record)
    assert h.wait(timeout=60) == ExitStatus.exited(255)
    assert k.unionfs.mounted() and k.cgroups.list()
    done = cleanup(k.state_dir)  # from a fresh kernel object
    assert "stepbox/orphan" in done["cgroups"]
    assert leaks(k) == NO_LEAKS


def test_spawn_into_a_missing_cgroup_fails_cleanly(linux_kernel):
    from stepbox.core.kernel import SpawnSpec

    k = linux_kernel
    with pytest.raises(FileNotFoundError, match="starting the container process failed"):
        k.processes.spawn(SpawnSpec(cgroup="stepbox/never-created"))
    assert os.listdir(k.processes.runs) == []
    assert leaks(k) == NO_LEAKS


def test_a_user_namespace_needs_id_maps(linux_kernel):
    from stepbox.core.kernel import NotSupported, SpawnSpec

    with pytest.raises(NotSupported, match="uid_map"):
        linux_kernel.processes.spawn(SpawnSpec(namespaces=(NamespaceKind.USER,)))


def test_user_namespace_root_is_an_unprivileged_host_uid(linux_kernel, busybox_entries):
    """With a user namespace, root inside is uid 100000 outside."""
    from stepbox.core.kernel import DOCKER_DEFAULT_CAPABILITIES, MountSpec, SpawnSpec
    from stepbox.core.kernel.namespaces import DEFAULT_CONTAINER_NAMESPACES

    k = linux_kernel
    # Root of the container is host uid 100000: like Docker's userns-remap,
    # it must be able to reach the rootfs, so the directories above the
    # state dir must be searchable (o+x) -- pytest makes its tmp dirs 0700.
    relaxed = []
    d = os.path.dirname(k.state_dir)
    while d not in ("/", "/tmp"):
        mode = os.stat(d).st_mode & 0o7777
        if not mode & 0o001:
            os.chmod(d, mode | 0o001)
            relaxed.append((d, mode))
        d = os.path.dirname(d)
    k.unionfs.import_layer("busybox", busybox_entries)
    k.unionfs.create_layer("u-rw")
    mount = k.unionfs.mount(["busybox"], "u-rw", "u")
    # The state dirs on the way to the rootfs are 0710 root:root; as with
    # Docker's userns-remap their group becomes the remapped root's.
    d = os.path.dirname(mount.target)
    while d != os.path.dirname(k.state_dir):
        os.chown(d, -1, 100000)
        d = os.path.dirname(d)
    out, err = os.path.join(k.state_dir, "u.out"), os.path.join(k.state_dir, "u.err")
    k.cgroups.create("stepbox/u")
    h = None
    try:
        h = k.processes.spawn(
            SpawnSpec(
                namespaces=DEFAULT_CONTAINER_NAMESPACES + (NamespaceKind.USER,),
                cgroup="stepbox/u",
                stdio=Stdio(out, err),
                uid_map=((0, 100000, 65536),),
                gid_map=((0, 100000, 65536),),
            )
        )
        assert k.namespaces.of(h.pid)[NamespaceKind.USER] != k.namespaces.of(os.getpid())[NamespaceKind.USER]
        h.sethostname("userns")
        h.make_mounts_private()
        h.mount(MountSpec("proc", "/proc", "proc", ("nosuid", "nodev", "noexec")), mount.target)
        h.pivot_root(mount.target)
        h.drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)
        h.exec(
            [
                "/bin/sh",
                "-c",
                "id -u; cat /proc/self/uid_map; hostname; grep CapEff /proc/self/status; sleep 1000",
            ],
            ENV,
        )
        poll(lambda: "CapEff" in open(out).read(), "the container's output")
        with open(f"/proc/{h.pid}/status") as f:
            uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
        assert uids == ["100000"] * 4  # as the host sees it
        lines = open(out).read().splitlines()
        assert lines[0] == "0"  # as it sees itself
        assert lines[1].split() == ["0", "100000", "65536"]
        assert lines[2] == "userns"
        assert lines[3].split() == ["CapEff:", "00000000a80425fb"]
        calls = [op.call for op in k.tracer.ops]
        assert any(c.endswith("/uid_map") for c in calls)
        # docker exec joins the user namespace too, as its root.
        eout = os.path.join(k.state_dir, "ue.out")
        e = k.processes.exec_in(h.pid, ["sh", "-c", "id -u; hostname"], ENV, "/", Stdio(eout, err))
        assert e.wait(timeout=60) == ExitStatus.exited(0)
        assert open(eout).read().split() == ["0", "userns"]
    finally:
        if h is not None:
            h.signal(signal.SIGKILL)
            h.wait(timeout=60)
        k.unionfs.unmount(mount)
        k.cgroups.remove("stepbox/u")
        for d, mode in relaxed:
            os.chmod(d, mode)
    assert leaks(k) == NO_LEAKS


def test_cleanup_after_a_crash_with_a_frozen_container(linux_kernel, busybox_entries):
    """The engine died while a container was paused: cleanup() thaws,
    kills, unmounts and removes everything, from a fresh kernel object."""
    from stepbox.backends.linux.kernel import cleanup

    k = linux_kernel
    c = start_container(k, busybox_entries, "paused", ["sleep", "1000"])
    k.cgroups.freeze(c.cgroup)
    done = cleanup(k.state_dir)
    assert done["killed"] == [c.handle.pid]
    assert done["unmounted"] == [c.mount.target] and done["cgroups"] == ["stepbox/paused"]
    assert leaks(k) == NO_LEAKS


def test_a_reused_pid_is_not_mistaken_for_the_container(linux_kernel):
    """A record names a PID and its start time; a different process that
    got the same PID later (here: this test process itself) is not it."""
    from stepbox.backends.linux.processes import LinuxProcessHandle

    k = linux_kernel
    me = os.getpid()
    run_dir = os.path.join(k.processes.runs, "reused")
    os.makedirs(run_dir)
    info = {"init": me, "init_start": 1, "shim": me, "shim_start": 1, "joiner": me}
    with open(os.path.join(run_dir, "shim.json"), "w") as f:
        json.dump(info, f)
    record = {"backend": "linux", "run_dir": run_dir, "pid": me, "start": 1, "shim": me, "shim_start": 1}
    assert k.processes.reattach(record) is None
    handle = LinuxProcessHandle(k.tracer, run_dir, info, execed=True)
    with pytest.raises(ProcessLookupError):
        handle.signal(signal.SIGKILL)  # would have killed pytest itself


def test_exec_switches_user_and_needs_an_existing_working_dir(linux_kernel, busybox_entries):
    """exec chdirs into the working dir and switches user.  It no longer
    makes a missing working dir: the engine makes it before the container
    starts (as dockerd does), from outside, where no seccomp filter or user
    of the container is in the way (test_linux_confinement covers run -w)."""
    k = linux_kernel
    c = start_container(k, busybox_entries, "cwd", None, exec_=False)
    try:
        with pytest.raises(ExecFailed, match="No such file or directory"):
            c.handle.exec(["/bin/sh", "-c", "pwd"], ENV, cwd="/no/such/dir")
    finally:
        c.undo()
    c = start_container(k, busybox_entries, "cwd2", None, exec_=False)
    try:
        k.unionfs.merged(c.mount).mkdir("/work")
        c.handle.exec(["/bin/sh", "-c", "pwd; id -u"], ENV, cwd="/work", user=(1000, 1000))
        assert c.handle.wait(timeout=60) == ExitStatus.exited(0)
        assert c.out().split() == ["/work", "1000"]
    finally:
        c.undo()
