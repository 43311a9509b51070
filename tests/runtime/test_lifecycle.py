"""stepbox-runc on the real kernel: the OCI lifecycle as containerd drives it.

create -> created (the init exists, in its cgroup, waiting at the gate)
-> start -> running -> kill -> stopped -> delete -> gone; and the errors
callers match on ("does not exist", "container not running")."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import subprocess
import sys
import time

import pytest
from bundles import linux_root, make_bundle, read_config, write_config

pytestmark = linux_root

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def create(runtime, bundle, cid, tmp_path, *extra):
    out = open(tmp_path / f"{cid}.out", "wb")
    err = open(tmp_path / f"{cid}.err", "wb")
    with out, err:
        return runtime("create", "--bundle", bundle, *extra, cid, stdout=out, stderr=err)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def cgroup_dirs(path: str) -> list[str]:
    return [
        f"/sys/fs/cgroup/{h}/{path}"
        for h in os.listdir("/sys/fs/cgroup")
        if os.path.isdir(f"/sys/fs/cgroup/{h}/{path}")
    ]


def test_create_start_kill_delete(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["sh", "-c", "echo hi; echo oops >&2; exec sleep 1000"])
    cgroup = f"stepbox-runc-test/{tmp_path.name}"
    cfg = read_config(bundle)
    cfg["linux"]["cgroupsPath"] = "/" + cgroup
    write_config(bundle, cfg)
    pid_file = tmp_path / "init.pid"
    done = create(runtime, bundle, "c1", tmp_path, "--pid-file", str(pid_file))
    assert done.returncode == 0, (tmp_path / "c1.err").read_text()

    state = runtime.state("c1")
    assert state["status"] == "created"
    assert state["pid"] == int(pid_file.read_text()) > 0
    assert state["id"] == "c1" and state["bundle"] == bundle and state["rootfs"] == f"{bundle}/rootfs"
    assert state["ociVersion"] == "1.0.2-dev" and RFC3339.match(state["created"])
    # created: the init is in its cgroup already, and has run nothing of the image
    assert state["pid"] in [
        int(p) for p in open(f"/sys/fs/cgroup/memory/{cgroup}/cgroup.procs").read().split()
    ]
    assert (tmp_path / "c1.out").read_bytes() == b""
    # Waiting at the gate, the init is still a fork of stepbox-runc create: its
    # binary is the sealed interpreter copy, no host file (CVE-2019-5736).
    assert os.readlink(f"/proc/{state['pid']}/exe").startswith("/memfd:stepbox-python")
    with pytest.raises(OSError):
        os.open(f"/proc/{state['pid']}/exe", os.O_WRONLY)

    assert runtime("start", "c1").returncode == 0
    assert wait_for(lambda: (tmp_path / "c1.out").read_bytes() == b"hi\n")
    assert (tmp_path / "c1.err").read_bytes() == b"oops\n"
    assert runtime.state("c1")["status"] == "running"
    assert runtime("start", "c1").returncode == 1
    assert runtime.last_error() == "cannot start an already running container"

    ps = runtime("ps", "--format", "json", "c1")
    assert json.loads(ps.stdout) == [state["pid"]]

    assert runtime("pause", "c1").returncode == 0
    assert runtime.state("c1")["status"] == "paused"
    assert runtime("resume", "c1").returncode == 0
    assert runtime.state("c1")["status"] == "running"

    no = runtime("delete", "c1")
    assert no.returncode == 1
    assert runtime.last_error() == "cannot delete container c1 that is not stopped: running"

    assert runtime("kill", "c1", "KILL").returncode == 0
    assert wait_for(lambda: runtime.state("c1")["status"] == "stopped")
    assert runtime.state("c1")["pid"] == 0
    assert runtime("kill", "c1", "9").returncode == 1
    assert runtime.last_error() == "container not running"

    assert runtime("delete", "c1").returncode == 0
    gone = runtime("state", "c1")
    assert gone.returncode == 1 and gone.stderr.decode().strip().endswith("container does not exist")
    assert runtime.last_error() == "container does not exist"
    assert cgroup_dirs(cgroup) == []
    assert os.listdir(runtime.root) == [".kernel"] and os.listdir(f"{runtime.root}/.kernel") == []


@pytest.mark.parametrize(
    "verb",
    [
        ("state", "nope"),
        ("start", "nope"),
        ("kill", "nope", "KILL"),
        ("delete", "nope"),
        ("pause", "nope"),
        ("ps", "--format", "json", "nope"),
    ],
)
def test_unknown_container(runtime, verb):
    done = runtime(*verb)
    assert done.returncode == 1
    assert runtime.last_error() == "container does not exist"
    assert done.stderr.decode().strip() == "container does not exist"


def test_delete_force_of_unknown_is_no_error(runtime):
    assert runtime("delete", "--force", "nope").returncode == 0


def test_same_id_twice(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["sleep", "1000"])
    assert create(runtime, bundle, "twice", tmp_path).returncode == 0
    assert create(runtime, bundle, "twice", tmp_path).returncode == 1
    assert runtime.last_error() == "container with id exists: twice"
    assert runtime("delete", "--force", "twice").returncode == 0


def test_no_pivot_moves_the_root_and_chroots(runtime, tmp_path):
    """--no-pivot (runc's msMoveRoot): the rootfs's mount moved onto "/" and
    chroot into it, no pivot_root; the container sees its rootfs all the same."""
    bundle = make_bundle(
        str(tmp_path / "b"), ["sh", "-c", "ls /; test -e /etc/hostname || echo no-host-files; umask"]
    )
    cfg = read_config(bundle)
    cfg["process"]["user"]["umask"] = 0o027  # podman sets it
    write_config(bundle, cfg)
    with open(tmp_path / "np.out", "wb") as out, open(tmp_path / "np.err", "wb") as err:
        # (the init keeps the create's stdio: files, not pipes that would stay open)
        done = runtime("--debug", "create", "--no-pivot", "--bundle", bundle, "np", stdout=out, stderr=err)
    assert done.returncode == 0, runtime.last_error()
    log = open(runtime.log).read()
    assert "MS_MOVE" in log and "chroot(" in log
    assert "pivot_root(" not in log
    assert runtime("start", "np").returncode == 0
    assert wait_for(lambda: runtime.state("np")["status"] == "stopped")
    assert (tmp_path / "np.out").read_text().split() == [
        *sorted(os.listdir(f"{bundle}/rootfs")),
        "no-host-files",
        "0027",
    ]
    assert runtime("delete", "np").returncode == 0


def test_delete_a_created_container(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["sleep", "1000"])
    assert create(runtime, bundle, "c2", tmp_path).returncode == 0
    pid = runtime.state("c2")["pid"]
    assert runtime("delete", "c2").returncode == 0
    assert wait_for(
        lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    )


def test_a_missing_command_fails_the_create_and_leaves_nothing(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["no-such-command"], cgroups_path="/stepbox-runc-test/missing")
    done = create(runtime, bundle, "c3", tmp_path)
    assert done.returncode == 1
    assert runtime.last_error() == 'exec: "no-such-command": executable file not found in $PATH'
    assert runtime("state", "c3").returncode == 1
    assert cgroup_dirs("stepbox-runc-test/missing") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["linux"].update(
                seccomp={"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}
            ),
            "linux.seccomp.flags are not supported by stepbox-runc",
        ),
        (
            lambda c: c["process"].update(terminal=True),
            "cannot allocate tty if runc will detach without setting console socket",
        ),
        (
            lambda c: c["linux"]["resources"].update(devices=[{"allow": False, "type": "p"}]),
            "linux.resources.devices[0]: invalid device type 'p'",
        ),
        (
            lambda c: c["process"].update(apparmorProfile="docker-default"),
            "process.apparmorProfile is not supported",
        ),
        (
            lambda c: c["linux"].update(cgroupsPath="system.slice:docker:x"),
            "is a systemd slice:prefix:name path",
        ),
        (
            lambda c: c["linux"]["resources"].update(blockIO={"weight": 500}),
            "linux.resources.blockIO is not supported",
        ),
        (
            lambda c: (
                c["hooks"].__setitem__("createContainer", [{"path": "/bin/true"}])
                if "hooks" in c
                else c.update(hooks={"createContainer": [{"path": "/bin/true"}]})
            ),
            "hooks.createContainer",
        ),
    ],
)
def test_what_is_not_honoured_is_refused_by_name(runtime, tmp_path, change, message):
    bundle = make_bundle(str(tmp_path / "b"), ["true"])
    cfg = read_config(bundle)
    change(cfg)
    write_config(bundle, cfg)
    assert create(runtime, bundle, "refused", tmp_path).returncode == 1
    assert message in runtime.last_error()
    assert runtime("state", "refused").returncode == 1


def test_exec_as_another_user(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["sleep", "1000"])
    assert create(runtime, bundle, "c4", tmp_path).returncode == 0
    assert runtime("start", "c4").returncode == 0
    caps = ["CAP_KILL"]
    process = {
        "args": ["sh", "-c", "id; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; exit 7"],
        "cwd": "/",
        "env": ["PATH=/bin"],
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [5]},
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": True,
    }
    (tmp_path / "p.json").write_text(json.dumps(process))
    with open(tmp_path / "exec.out", "wb") as out:
        done = runtime("exec", "--process", str(tmp_path / "p.json"), "c4", stdout=out)
    assert done.returncode == 7
    assert (
        tmp_path / "exec.out"
    ).read_text() == "uid=1000 gid=1000 groups=5\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
    with open(tmp_path / "exec2.out", "wb") as out:
        done = runtime(
            "exec",
            "--process",
            str(tmp_path / "p.json"),
            "--detach",
            "--pid-file",
            str(tmp_path / "e.pid"),
            "c4",
            stdout=out,
        )
    assert done.returncode == 0 and int((tmp_path / "e.pid").read_text()) > 0
    assert wait_for(lambda: (tmp_path / "exec2.out").read_text().count("\n") == 3)
    runtime("kill", "c4", "KILL")
    assert runtime("delete", "--force", "c4").returncode == 0


def test_kill_all_and_signal_names(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["sh", "-c", "trap 'exit 3' TERM; sleep 1000 & wait"])
    assert create(runtime, bundle, "c5", tmp_path).returncode == 0
    assert runtime("start", "c5").returncode == 0
    assert wait_for(lambda: len(json.loads(runtime("ps", "--format", "json", "c5").stdout)) == 2)
    assert runtime("kill", "c5", "BOGUS").returncode == 1
    assert runtime.last_error() == "unknown signal 'BOGUS'"
    assert runtime("kill", "--all", "c5", "SIGKILL").returncode == 0
    assert wait_for(lambda: runtime.state("c5")["status"] == "stopped")
    assert runtime("delete", "c5").returncode == 0


def test_version_and_features(runtime):
    done = runtime("--version")
    lines = done.stdout.decode().splitlines()
    assert (
        lines[0].startswith("runc version ")
        and lines[1].startswith("commit: ")
        and lines[2] == "spec: 1.0.2-dev"
    )
    features = json.loads(runtime("features").stdout)
    assert features["ociVersionMax"] == "1.0.2-dev"
    assert "poststop" in features["hooks"] and "createContainer" not in features["hooks"]
    assert features["linux"]["seccomp"]["enabled"] is True


def test_hooks_get_the_state(runtime, tmp_path):
    bundle = make_bundle(str(tmp_path / "b"), ["sleep", "1000"])
    cfg = read_config(bundle)
    record = tmp_path / "hooks.txt"

    def hook(kind):
        return {"path": "/bin/sh", "args": ["sh", "-c", f"cat >> {record}; echo ' {kind}' >> {record}"]}

    cfg["hooks"] = {k: [hook(k)] for k in ("prestart", "createRuntime", "poststart", "poststop")}
    write_config(bundle, cfg)
    assert create(runtime, bundle, "c6", tmp_path).returncode == 0
    assert runtime("start", "c6").returncode == 0
    assert runtime("delete", "--force", "c6").returncode == 0
    lines = record.read_text().splitlines()
    kinds = [line.rsplit(" ", 1)[1] for line in lines]
    assert kinds == ["prestart", "createRuntime", "poststart", "poststop"]
    states = [json.loads(line.rsplit(" ", 1)[0]) for line in lines]
    assert [s["status"] for s in states] == ["creating", "creating", "running", "stopped"]
    assert all(s["id"] == "c6" for s in states)


def test_update_resources_from_stdin(runtime, tmp_path):
    """containerd sends `update --resources -` with the JSON on stdin."""
    bundle = make_bundle(str(tmp_path / "b"), ["sleep", "1000"], cgroups_path="/stepbox-runc-test/upd")
    assert create(runtime, bundle, "c7", tmp_path).returncode == 0
    with open(tmp_path / "res.json", "w") as f:
        json.dump({"pids": {"limit": 42}, "memory": {"limit": 64 << 20}}, f)
    with open(tmp_path / "res.json", "rb") as stdin:
        assert runtime("update", "--resources", "-", "c7", stdin=stdin).returncode == 0
    assert open("/sys/fs/cgroup/pids/stepbox-runc-test/upd/pids.max").read().strip() == "42"
    with open(tmp_path / "res.json", "w") as f:
        json.dump({"blockIO": {"weight": 10}}, f)
    with open(tmp_path / "res.json", "rb") as stdin:
        assert runtime("update", "--resources", "-", "c7", stdin=stdin).returncode == 1
    assert "linux.resources.blockIO is not supported" in runtime.last_error()
    # events --stats: runc's one JSON line, read from the cgroup (the new limits in it)
    done = runtime("events", "--stats", "c7")
    assert done.returncode == 0, runtime.last_error()
    event = json.loads(done.stdout)
    assert event["type"] == "stats" and event["id"] == "c7"
    assert event["data"]["pids"] == {"current": 1, "limit": 42}
    assert event["data"]["memory"]["usage"]["limit"] == 64 << 20
    assert event["data"]["memory"]["usage"]["usage"] > 0
    assert event["data"]["cpu"]["usage"]["total"] >= 0
    assert runtime("events", "--interval", "soon", "c7").returncode == 1
    assert "invalid --interval" in runtime.last_error()
    assert runtime("delete", "--force", "c7").returncode == 0
    assert runtime("events", "--stats", "c7").returncode == 1
    assert runtime.last_error() == "container does not exist"


def _console_listener(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(4)
    sock.settimeout(20)
    return sock


def _receive_master(listener) -> int:
    """What go-runc's console receiver does: accept, read one fd (SCM_RIGHTS)."""
    conn, _ = listener.accept()
    with conn:
        _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
    assert len(fds) == 1
    return fds[0]


def _talk(master: int, typed: bytes, until: bytes, timeout=20.0) -> bytes:
    os.write(master, typed)
    seen = b""
    deadline = time.monotonic() + timeout
    while until not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


# The caller of create is a subreaper (containerd's shim, conmon): it reaps
# the init and sees its exit status.  This one runs create and start, then
# prints the init's exit code.
SUBREAPER = """
import ctypes, json, os, subprocess, sys
ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
argv, pid_file = json.loads(sys.argv[1]), sys.argv[2]
for verb in (["create", *sys.argv[3:]], ["start", sys.argv[-1]]):
    # go-runc reads create's output until end-of-file: the init holds none of it
    if subprocess.run(argv + verb, capture_output=True, timeout=30).returncode != 0:
        sys.exit(f"{verb[0]} failed")
init = int(open(pid_file).read())
while True:
    pid, status = os.waitpid(-1, 0)
    if pid == init:
        print(os.waitstatus_to_exitcode(status), flush=True)
        break
"""


def test_console_socket_gets_the_terminals_master(runtime, tmp_path):
    """create --console-socket with process.terminal: the init's fds 0-2 are a
    pty of the container's /dev/pts, its controlling terminal; the master
    arrives on the socket (go-runc's receiver: one fd); what is typed there
    runs, and its exit status is the container's.  exec --detach
    --console-socket gives an exec'd process a pty of its own.  runc's two
    refusals of a terminal without a socket and a socket without a terminal."""
    bundle = make_bundle(str(tmp_path / "b"), ["sh"])
    cfg = read_config(bundle)
    cfg["process"]["terminal"] = True
    cfg["process"]["consoleSize"] = {"height": 30, "width": 100}
    write_config(bundle, cfg)
    sock_path = str(tmp_path / "console.sock")
    argv = [*runtime.argv, "--root", runtime.root, "--log", runtime.log, "--log-format", "json"]
    pid_file = str(tmp_path / "init.pid")
    with _console_listener(sock_path) as listener:
        caller = subprocess.Popen(
            [sys.executable, "-c", SUBREAPER, json.dumps(argv), pid_file,
             "--bundle", bundle, "--pid-file", pid_file, "--console-socket", sock_path, "tty1"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            master = _receive_master(listener)
            try:
                # the shell's own terminal, its size, and a controlling one:
                # job control (set -m) works only with a controlling terminal
                out = _talk(
                    master, b"tty; stty size; echo T''ERM=$(cat /proc/self/stat | cut -d' ' -f7)\n", b"TERM="
                )
                assert b"/dev/pts/0\r\n" in out and b"30 100\r\n" in out, out
                tty_nr = int(out.split(b"TERM=")[1].split()[0])
                assert os.major(tty_nr) == 136 and os.minor(tty_nr) == 0, out  # /dev/pts/0 is its ctty
                process = {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"], "terminal": True}
                (tmp_path / "p.json").write_text(json.dumps(process))
                done = runtime(
                    "exec", "--process", str(tmp_path / "p.json"), "--detach",
                    "--console-socket", sock_path, "tty1",
                )  # fmt: skip
                assert done.returncode == 0, runtime.last_error()
                exec_master = _receive_master(listener)
                try:
                    out = _talk(exec_master, b"tty; echo D''ONE\n", b"DONE")
                    assert b"/dev/pts/1\r\n" in out, out
                    _talk(exec_master, b"exit\n", b"\x00never", timeout=5)
                finally:
                    os.close(exec_master)
                out = _talk(master, b"echo h''i; exit 3\n", b"\x00never")
                assert b"hi\r\n" in out, out
            finally:
                os.close(master)
            assert caller.communicate(timeout=30)[0] == b"3\n"
        finally:
            if caller.poll() is None:
                caller.kill()
                caller.wait()
    assert runtime.state("tty1")["status"] == "stopped"
    # runc's checkTerminal
    assert create(runtime, bundle, "tty2", tmp_path).returncode == 1
    assert runtime.last_error() == "cannot allocate tty if runc will detach without setting console socket"
    plain = make_bundle(str(tmp_path / "b2"), ["true"])
    assert create(runtime, plain, "tty3", tmp_path, "--console-socket", sock_path).returncode == 1
    assert runtime.last_error() == "cannot use console socket if runc will not detach or allocate tty"


def test_preserve_fds_passes_the_callers_fds_from_3(runtime, tmp_path):
    """create --preserve-fds 1 (podman's socket activation, runc's
    LISTEN_FDS style): the caller's fd 3 is the command's fd 3, nothing more."""
    bundle = make_bundle(
        str(tmp_path / "b"), ["sh", "-c", "echo through-3 >&3; [ -e /proc/self/fd/4 ] || echo no-4 >&3"]
    )
    r, w = os.pipe()
    argv = [*runtime.argv, "--root", runtime.root, "--log", runtime.log, "--log-format", "json"]
    try:
        with open(tmp_path / "p1.err", "wb") as err:
            done = subprocess.run(
                [
                    "bash",  # dash takes no fd above 9
                    "-c",
                    f'exec "$@" 3>&{w}',
                    "sh",
                    *argv,
                    "create",
                    "--bundle",
                    bundle,
                    "--preserve-fds",
                    "1",
                    "p1",
                ],
                pass_fds=(w,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the init inherits them: no pipe of ours
                stderr=err,
                timeout=60,
            )
        assert done.returncode == 0, (tmp_path / "p1.err").read_text()
        os.close(w)
        w = -1
        assert runtime("start", "p1").returncode == 0
        data = b""
        while chunk := os.read(r, 4096):  # end-of-file: the container's copy is gone too
            data += chunk
        assert data == b"through-3\nno-4\n"
    finally:
        os.close(r)
        if w != -1:
            os.close(w)
    assert runtime("delete", "--force", "p1").returncode == 0
