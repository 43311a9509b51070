"""Rootless real containers: the ``stepbox`` command as a user without root.

The set-up makes a dedicated user with subordinate IDs (``useradd
--add-subids-for-system``: /etc/subuid and /etc/subgid) and runs the CLI as
that user (``setpriv``; see tests/support/nonroot.py for how the interpreter
under /root stays reachable).  ``--backend auto`` must then choose the real
kernel, rootless: a user namespace with the user and its whole subordinate
range mapped, overlayfs and pivot_root inside it.

Limits: on a host whose controllers are cgroup v1 (this CI machine) nothing
can be delegated to a user, so a limit is refused, naming why.  On a cgroup
v2 host (the VM of scripts/cgroup2_vm.py) the set-up delegates a subtree to
the user -- as systemd does with user@UID.service -- and the OOM killer acts
inside it.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
from linux_support import IS_LINUX_ROOT, NOT_LINUX_ROOT_REASON

from tests.support.nonroot import as_user

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=NOT_LINUX_ROOT_REASON)]

USER = "stepbox-rootless"
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CGROUP2 = "/sys/fs/cgroup"
DELEGATED = f"{CGROUP2}/stepbox-rootless-test-{os.getpid()}"
# What the rootless default network needs (else containers get loopback only).
NO_USER_MODE_NETWORK = (
    "no slirp4netns on this host (apt-get install slirp4netns)"
    if shutil.which("slirp4netns") is None
    else "no /dev/net/tun on this host (the TUN/TAP driver slirp4netns needs)"
    if not os.path.exists("/dev/net/tun")
    else ""
)


def _subordinate(path: str) -> tuple[int, int]:
    with open(path) as f:
        for line in f:
            name, start, count = line.strip().split(":")
            if name == USER:
                return int(start), int(count)
    raise AssertionError(f"{USER} has no range in {path}")


@pytest.fixture(scope="module")
def user():
    """The dedicated user with subordinate IDs (made once per host)."""
    for tool in ("useradd", "setpriv", "newuidmap", "newgidmap"):
        if shutil.which(tool) is None:
            pytest.skip(f"no {tool} on this host (apt-get install passwd util-linux uidmap)")
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--add-subids-for-system", "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid, _subordinate("/etc/subuid")


def _delegatable() -> bool:
    """Can the set-up delegate memory and pids on this host's cgroup v2 tree?"""
    try:
        with open(f"{CGROUP2}/cgroup.controllers") as f:
            return {"memory", "pids"} <= set(f.read().split())
    except OSError:
        return False


class Rootless:
    """The CLI as ``USER``, in a home of its own; optionally started from a
    group below a subtree delegated to it."""

    def __init__(self, uid: int, gid: int, delegated: str | None = None, netns: str | None = None):
        self.uid, self.gid, self.delegated, self.netns = uid, gid, delegated, netns
        self.base = tempfile.mkdtemp(prefix="sbx-rootless-")
        os.chmod(self.base, 0o711)
        self.home = os.path.join(self.base, "home")
        self.runtime = os.path.join(self.home, "run")
        os.makedirs(self.runtime)
        for path in (self.home, self.runtime):
            os.chown(path, uid, gid)
        os.chmod(self.runtime, 0o700)
        self.state = os.path.join(self.home, "state")
        self.env: dict[str, str] = {}  # more for the CLI (and the daemon it starts)

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "stepbox", "--root", self.state, *args]
        scratch = os.path.join(self.base, "scratch")
        os.makedirs(scratch, exist_ok=True)
        command = as_user(argv, CHECKOUT, scratch, self.uid, self.gid)
        if self.delegated:
            # Into the user's own group first (what a login session's scope is).
            command = [
                "sh",
                "-c",
                f'echo $$ > {self.delegated}/session/cgroup.procs && exec "$@"',
                "sh",
                *command,
            ]
        if self.netns:
            # In a network namespace the test made: the daemon this starts, and
            # the ports it publishes, are there too -- never on the host's.
            command = ["nsenter", f"--net=/run/netns/{self.netns}", "--", *command]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPBOX_", "XDG_"))}
        env.update(
            HOME=self.home, XDG_RUNTIME_DIR=self.runtime, XDG_DATA_HOME=os.path.join(self.home, "data")
        )
        env.update(self.env)
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)

    def close(self) -> None:
        self("daemon", "stop")
        pause = os.path.join(self.state, "linux", "kernel", "linux", "rootless-pause.json")
        if os.path.exists(pause):
            with open(pause) as f:
                pid = json.load(f)["pid"]
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def rootless(user):
    uid, gid, _sub = user
    r = Rootless(uid, gid)
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def rootless_in_netns(user):
    """The rootless CLI, its daemon and containers in a network namespace
    made for the test (with lo up): what they publish is only there."""
    uid, gid, _sub = user
    name = f"sbx-rootless-{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        r = Rootless(uid, gid, netns=name)
        try:
            yield r
        finally:
            r.close()
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


@pytest.fixture
def delegated(user):
    """A cgroup v2 subtree delegated to the user, as systemd's user@UID.service."""
    if not _delegatable():
        pytest.skip(
            f"{CGROUP2} offers no memory and pids controllers to delegate (a cgroup v1 or hybrid host)"
        )
    uid, gid, _sub = user
    os.makedirs(f"{DELEGATED}/session")
    with open(f"{CGROUP2}/cgroup.subtree_control", "w") as f:
        f.write("+memory +pids")
    for path in (DELEGATED, f"{DELEGATED}/session"):
        for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(path, name), uid, gid)
    r = Rootless(uid, gid, delegated=DELEGATED)
    try:
        yield r
    finally:
        r.close()
        for dirpath, _dirs, _files in sorted(os.walk(DELEGATED), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def test_run_is_a_real_container_in_a_user_namespace(rootless, user):
    _uid, _gid, (sub_start, sub_count) = user
    result = rootless("run", "--rm", "busybox", "sh", "-c", "id; cat /proc/self/uid_map")
    assert result.returncode == 0, result.stderr
    assert "(backend linux)" in result.stderr  # auto chose the real kernel
    lines = result.stdout.splitlines()
    assert lines[0].startswith("uid=0(root) gid=0(root)")
    assert [line.split() for line in lines[1:]] == [
        ["0", str(rootless.uid), "1"],
        ["1", str(sub_start), str(sub_count)],
    ]
    info = subprocess.run(
        ["curl", "-s", "--unix-socket", os.path.join(rootless.state, "stepbox.sock"), "http://d/info"],
        capture_output=True,
        text=True,
    )
    body = json.loads(info.stdout)
    assert "name=rootless" in body["SecurityOptions"]
    status = dict(body["DriverStatus"])
    assert status["Kernel"].startswith("the real Linux kernel, rootless")
    assert status["Why"].startswith(f"auto chose the real kernel: rootless: uid {rootless.uid} as root")


def test_exec_and_networks(rootless):
    started = rootless("run", "-d", "--name", "w", "--network", "none", "busybox", "sleep", "1000")
    assert started.returncode == 0, started.stderr
    inside = rootless("exec", "w", "sh", "-c", "id -u; ls /sys/class/net")
    assert (inside.returncode, inside.stdout) == (0, "0\nlo\n"), inside.stderr
    assert rootless("rm", "-f", "w").returncode == 0
    host = rootless("run", "--rm", "--network", "host", "busybox", "sh", "-c", "touch /sys/x")
    assert host.returncode == 1 and "Read-only file system" in host.stderr  # the host's /sys, read-only
    # No bridge without root: a bridge network is refused, saying why (published
    # ports are relayed instead: test_a_published_port_is_relayed_into_the_container).
    refused = rootless("network", "create", "n1")
    assert refused.returncode == 1  # as docker's CLI
    assert "rootless, bridges and veths need root on the host" in refused.stderr, refused.stderr
    # As with Docker, --network none or host and a published port conflict.
    refused = rootless("run", "--rm", "--network", "none", "-p", "8080:80", "busybox", "true")
    assert refused.returncode == 125
    assert "conflicting options: port publishing and the network mode none" in refused.stderr


def _fetch(netns: str, url: str, attempts: int = 50) -> subprocess.CompletedProcess:
    """GET ``url`` from inside the test's namespace, until the server answers."""
    for _ in range(attempts):
        got = subprocess.run(
            ["ip", "netns", "exec", netns, "curl", "-s", "--max-time", "5", url],
            capture_output=True,
            text=True,
        )
        if got.returncode == 0:
            return got
        time.sleep(0.2)
    return got


def test_a_published_port_is_relayed_into_the_container(rootless_in_netns):
    """-p without root, as rootless Docker's builtin port driver: the daemon
    holds 127.0.0.1:18080 (of the test's namespace) and relays each
    connection into the container's namespace, to its lo (as the builtin
    port driver: the published port does not go through slirp4netns)."""
    r = rootless_in_netns
    web = (
        "mkdir /www && echo hello from a rootless container > /www/index.html && exec httpd -f -p 80 -h /www"
    )
    started = r("run", "-d", "--name", "web", "-p", "127.0.0.1:18080:80", "busybox", "sh", "-c", web)
    assert started.returncode == 0, started.stderr
    inside = r("exec", "web", "ls", "/sys/class/net")
    # No bridge, no veth: lo, and slirp4netns's tap0 (the way out; ports do not use it).
    interfaces = "lo\n" if NO_USER_MODE_NETWORK else "lo\ntap0\n"
    assert (inside.returncode, inside.stdout) == (0, interfaces), inside.stderr
    assert r("port", "web").stdout == "80/tcp -> 127.0.0.1:18080\n"
    got = _fetch(r.netns, "http://127.0.0.1:18080/")
    assert (got.returncode, got.stdout) == (0, "hello from a rootless container\n"), got.stderr
    # Two at once: each connection gets its own socket into the namespace.
    assert (
        _fetch(r.netns, "http://127.0.0.1:18080/").stdout == _fetch(r.netns, "http://127.0.0.1:18080/").stdout
    )
    # The relay lives in the daemon; the next daemon opens it again for the running container.
    assert r("daemon", "stop").returncode == 0
    assert r("ps", "-q").stdout.strip() != ""
    got = _fetch(r.netns, "http://127.0.0.1:18080/")
    assert got.stdout == "hello from a rootless container\n", got.stderr
    # A port below 1024 is the host root's: refused by name, nothing left made.
    low = r("run", "-d", "--name", "low", "-p", "127.0.0.1:80:80", "busybox", "sleep", "100")
    assert low.returncode == 125
    assert "cannot expose privileged port 80 without root" in low.stderr, low.stderr
    # Removing the container closes its host port.
    assert r("rm", "-f", "web", "low").returncode == 0
    closed = subprocess.run(
        ["ip", "netns", "exec", r.netns, "curl", "-s", "--max-time", "5", "http://127.0.0.1:18080/"],
        capture_output=True,
    )
    assert closed.returncode == 7  # curl: could not connect


def _slirp4netns_of(pid: int) -> list[int]:
    """The slirp4netns processes serving ``pid``'s namespace (its argv names the PID)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if argv and argv[0].endswith(b"slirp4netns") and str(pid).encode() in argv and _alive(int(entry)):
            found.append(int(entry))
    return found


def test_the_default_network_is_a_user_mode_one(rootless_in_netns, tmp_path):
    """Rootless, the default network is slirp4netns in the container's own
    namespace (as rootless podman): tap0 10.0.2.100/24, a default route via
    10.0.2.2, DNS at 10.0.2.3.  With host loopback allowed (the daemon's
    STEPBOX_ROOTLESS_HOST_LOOPBACK=1) 10.0.2.2 is the loopback of the
    namespace the daemon runs in -- here the test's own, where a server
    listens; by default (as rootless Docker) it is not reachable.  All the
    traffic stays inside the namespace the test made."""
    if NO_USER_MODE_NETWORK:
        pytest.skip(NO_USER_MODE_NETWORK)
    r = rootless_in_netns
    r.env["STEPBOX_ROOTLESS_HOST_LOOPBACK"] = "1"
    (tmp_path / "index.html").write_text("hello from the host's loopback\n")
    server = subprocess.Popen(
        ["ip", "netns", "exec", r.netns, sys.executable, "-m", "http.server", "18081"]
        + ["--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        web = "mkdir -p /www && echo hello from tap0 > /www/index.html && exec httpd -f -p 80 -h /www"
        started = r("run", "-d", "--name", "c", "-p", "127.0.0.1:18082:80", "busybox", "sh", "-c", web)
        assert started.returncode == 0, started.stderr
        inside = r("exec", "c", "sh", "-c", "ip -o -4 addr show; ip route; grep -v '^#' /etc/resolv.conf")
        assert inside.returncode == 0, inside.stderr
        lines = [line.strip() for line in inside.stdout.splitlines()]
        assert [line.split()[1:4] for line in lines if " inet " in line] == [
            ["lo", "inet", "127.0.0.1/8"],
            ["tap0", "inet", "10.0.2.100/24"],
        ]
        assert "default via 10.0.2.2 dev tap0" in lines
        assert [line for line in lines if line.startswith("nameserver")] == ["nameserver 10.0.2.3"]
        # The host's loopback at the gateway (the server's answer came through slirp4netns).
        got = _get_in(r, "c", "10.0.2.2", 18081)
        assert (got.returncode, got.stdout) == (0, "hello from the host's loopback\n"), got.stderr
        # Inspect names the network and its address; published ports stay on the relay.
        shown = r("inspect", "-f", "{{json .NetworkSettings}}", "c")
        settings = json.loads(shown.stdout)
        assert list(settings["Networks"]) == ["slirp4netns"]
        assert (settings["IPAddress"], settings["IPPrefixLen"], settings["Gateway"]) == (
            "10.0.2.100",
            24,
            "10.0.2.2",
        )
        assert settings["Networks"]["slirp4netns"]["IPAddress"] == "10.0.2.100"
        assert _fetch(r.netns, "http://127.0.0.1:18082/").stdout == "hello from tap0\n"
        info = r("info")
        assert "  Network: slirp4netns per container: tap0 10.0.2.100/24, gateway 10.0.2.2" in info.stdout
        pid = int(r("inspect", "-f", "{{.State.Pid}}", "c").stdout)
        slirp = _slirp4netns_of(pid)
        assert len(slirp) == 1
        # The network outlives the daemon, like the container; the next daemon
        # (started without the variable: host loopback off, rootless Docker's
        # default) gives a new container no way to the host's loopback.
        assert r("daemon", "stop").returncode == 0
        del r.env["STEPBOX_ROOTLESS_HOST_LOOPBACK"]
        assert _get_in(r, "c", "10.0.2.2", 18081).stdout == "hello from the host's loopback\n"
        probe = "nc -w 3 10.0.2.2 18081 </dev/null && echo connected || echo refused"
        closed = r("run", "--rm", "busybox", "sh", "-c", probe)
        assert (closed.returncode, closed.stdout) == (0, "refused\n"), closed.stderr
        assert _get_in(r, "c", "10.0.2.2", 18081).stdout == "hello from the host's loopback\n"
        # A restart stops the old slirp4netns and starts one for the new PID 1.
        assert r("restart", "-t", "1", "c").returncode == 0
        assert not _alive(slirp[0])
        pid = int(r("inspect", "-f", "{{.State.Pid}}", "c").stdout)
        slirp = _slirp4netns_of(pid)
        assert len(slirp) == 1
        assert _get_in(r, "c", "10.0.2.2", 18081).stdout == ""  # this daemon's: host loopback off
        assert r("exec", "c", "ls", "/sys/class/net").stdout == "lo\ntap0\n"
        # Removing the container stops its slirp4netns; nothing of it is left.
        assert r("rm", "-f", "c").returncode == 0
        deadline = time.monotonic() + 10
        while _alive(slirp[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(slirp[0])
        assert _slirp4netns_of(pid) == []
    finally:
        r("rm", "-f", "c")  # a failure half-way must not leave the container and its slirp4netns
        server.kill()
        server.wait()


GET = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {} {} | sed '1,/^\\r$/d'"


def _get_in(r: Rootless, container: str, host: str, port: int) -> subprocess.CompletedProcess:
    """An HTTP GET from inside the container, with busybox's nc (its static
    wget looks up the service's name through NSS, which the image lacks)."""
    return r("exec", container, "sh", "-c", GET.format(host, port))


def test_files_in_the_image_keep_their_mapped_owners(rootless, user):
    _uid, _gid, (sub_start, _count) = user
    result = rootless(
        "run",
        "--name",
        "f",
        "busybox",
        "sh",
        "-c",
        "touch /tmp/mine; chown 33:44 /tmp/mine; stat -c '%u %g' /tmp/mine",
    )
    assert (result.returncode, result.stdout) == (0, "33 44\n"), result.stderr
    # On the host the file belongs to the subordinate IDs 33 and 44 map to.
    found = subprocess.run(
        ["find", rootless.state, "-path", "*/diff/tmp/mine"], capture_output=True, text=True
    )
    path = found.stdout.split()[0]
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (sub_start + 32, sub_start + 43)
    assert rootless("rm", "f").returncode == 0


def test_a_limit_without_a_delegated_subtree_is_refused_naming_why(rootless):
    if _delegatable():
        pytest.skip("this host can delegate a cgroup v2 subtree: test_oom_in_a_delegated_subtree covers it")
    for flags, what in ((["-m", "8m"], "a memory limit"), (["--pids-limit", "5"], "a pids limit")):
        result = rootless("run", "--rm", *flags, "busybox", "true")
        assert result.returncode == 125
        assert f"cannot set {what} without root here: " in result.stderr
        assert "cgroup" in result.stderr.split("without root here: ")[1]
    assert rootless("ps", "-a", "-q").stdout == ""  # nothing half-made stays


def test_oom_in_a_delegated_subtree(delegated):
    result = delegated(
        "run", "--name", "hog", "-m", "16m", "busybox", "sh", "-c", "echo before; exec tail /dev/zero"
    )
    assert (result.returncode, result.stdout) == (137, "before\n"), result.stderr
    assert delegated("inspect", "-f", "{{.State.OOMKilled}}", "hog").stdout.strip() == "true"
    assert os.path.isdir(f"{DELEGATED}/stepbox")  # the containers' groups are made in the delegated subtree
    assert delegated("rm", "hog").returncode == 0


def _pause_pid(rootless: Rootless) -> int | None:
    """The pause process of the user's state dir, if its file names one."""
    try:
        with open(os.path.join(rootless.state, "linux", "kernel", "linux", "rootless-pause.json")) as f:
            return json.load(f)["pid"]
    except FileNotFoundError:
        return None


def _alive(pid: int) -> bool:
    """Running (a zombie is dead: PID 1 reaps the orphans here, in its own time)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_daemon_stop_lets_the_namespaces_go_when_nothing_uses_them(rootless):
    started = rootless("run", "-d", "--name", "s", "busybox", "sleep", "1000")
    assert started.returncode == 0, started.stderr
    pause = _pause_pid(rootless)
    assert pause is not None and _alive(pause)
    # A running container outlives the daemon, in the namespaces the pause process holds ...
    assert rootless("daemon", "stop").returncode == 0
    assert _pause_pid(rootless) == pause and _alive(pause)
    # ... which the next daemon joins: it sees the container's mounts, and removes it.
    removed = rootless("rm", "-f", "s")
    assert removed.returncode == 0, removed.stderr
    assert _pause_pid(rootless) == pause and _alive(pause)
    # Nothing uses them any more: stopping the daemon stops the pause process too,
    # so a user's `stepbox daemon stop` leaves no process of theirs behind.
    assert rootless("daemon", "stop").returncode == 0
    assert _pause_pid(rootless) is None
    assert not _alive(pause)
