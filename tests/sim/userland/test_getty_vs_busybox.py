"""getty on the simulator against REAL busybox.

Its arguments are checked before it touches a terminal, with ordinary
errors on stderr: compared through pipes.  The rest needs a terminal: a
session on a pty of the host (busybox in the oracle's root, its own UTS
namespace, hostname box) and on the simulator's pty, compared byte for
byte -- the issue file with its escapes, the prompt, the name echoed by
getty itself with erase and kill, and the exec of LOGIN (here ``echo``,
which shows the arguments getty gave it)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil

import pytest
from stepbox.backends.sim.kernel import SimKernel
from stepbox.core.kernel import SpawnSpec, Stdio

from tests.sim.userland.host_pty import read_pty

BUSYBOX = shutil.which("busybox")
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"


CASES = [
    "getty; echo $?; getty tty1; echo $?; getty -x 9600 tty1; echo $?; getty -t; echo $?",
    "getty 9601 tty1; echo $?; getty tty1 9600,x; echo $?; getty 134,0,4000000,1x tty1; echo $?; "
    "getty '' tty1; echo $?; getty 9600, tty1; echo $?; getty 4294967296 tty1; echo $?",
    "getty 1,2 tty1; echo $?; getty 0,0,0,0,0,0,0,0,0,0,0 tty1; echo $?; getty 0,0,0,0,0,0,0,0,0,0,9601 tty1; echo $?",
    "getty -t x 9600 tty1; echo $?; getty -t -1 9600 tty1; echo $?; getty -t 3x 9600 tty1; echo $?",
]


@pytest.mark.parametrize("case", CASES)
def test_getty_arguments(same, case):
    same(case)


ISSUE = b"Welcome to \\n (%h) on \\s\nplain % \\q \\\\ 100%%\nlast\\"


def _session(
    host, tmp_path, getty_args: list[str], keys: list[bytes], issue: bytes = ISSUE, first_ends=b"box login: "
) -> bytes:
    from stepbox.core.image.bootstrap import GROUP, PASSWD

    (host.root / "etc").mkdir(exist_ok=True)
    (host.root / "etc/issue").write_bytes(issue)
    command = [
        "/bin/busybox",
        "sh",
        "-c",
        '/bin/busybox hostname box; exec /bin/busybox getty "$@"',
        "sh",
        *getty_args,
    ]
    env = {"PATH": "/bin", "TERM": "xterm"}

    k = SimKernel()
    busybox_bytes, _ = k.busybox()
    for name in ("busybox", "echo"):
        k.rootfs.write(f"/bin/{name}", busybox_bytes, mode=0o755)
    k.rootfs.write("/etc/passwd", PASSWD.encode())
    k.rootfs.write("/etc/group", GROUP.encode())
    k.rootfs.write("/etc/issue", issue)
    log = str(tmp_path / f"getty-{len(list(tmp_path.iterdir()))}.log")
    handle = k.processes.spawn(
        SpawnSpec(namespaces=(), stdio=Stdio(stdout=log, stderr=log, tty=True, open_stdin=True))
    )
    handle.open_terminal((24, 80))
    handle.exec(command, env)
    shown = 0

    def sim_output() -> bytes:
        nonlocal shown
        handle.wait(timeout=2)
        with open(log, "rb") as f:
            f.seek(shown)
            out = f.read()
        shown += len(out)
        return out

    if not (host.root / "bin/echo").exists():
        os.link(host.root / "bin/busybox", host.root / "bin/echo")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(UNSHARE, ["unshare", "--uts", f"--root={host.root}", *command], env)
    try:
        first = sim_output()
        assert first.endswith(first_ends), first
        expected = first
        assert read_pty(fd, len(first)) == first
        for key in keys:
            handle.write_stdin(key)
            expected = sim_output()
            os.write(fd, key)
            assert read_pty(fd, len(expected)) == expected, key
    finally:
        # every session here ends by itself: wait for that before closing the
        # master, whose hangup (SIGHUP) would otherwise race with the last exit
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    os.read(fd, 4096)
        with contextlib.suppress(OSError):
            os.close(fd)
        if not done:
            _, status = os.waitpid(pid, 0)
    sim_status = handle.wait(timeout=1)
    assert sim_status is not None and sim_status.code == os.waitstatus_to_exitcode(status)
    return expected


@pytest.mark.skipif(BUSYBOX is None or shutil.which("unshare") is None, reason="needs busybox and unshare")
def test_getty_reads_a_name_and_execs_login(host, tmp_path):
    """The issue with its escapes, the prompt; an empty line asks again; erase
    (DEL, BS) and kill (^U) as getty echoes them; LOGIN gets ``-- NAME``."""
    last = _session(
        host,
        tmp_path,
        ["-l", "/bin/echo", "-", "9600"],
        [b"\r", b"x", b"y\x7f", b"\x15", b"ro", b"x\x08", b"ot", b"\r"],
    )
    assert last.endswith(b"-- root\r\n")


@pytest.mark.skipif(BUSYBOX is None or shutil.which("unshare") is None, reason="needs busybox and unshare")
def test_getty_options_on_a_terminal(host, tmp_path):
    """-i (no issue), -I (its escapes), a LF ending the name; then ^D ends getty with 0."""
    _session(host, tmp_path, ["-i", "-I", "init\\101\\n", "-l", "/bin/echo", "9600", "-"], [b"me\n"])
    _session(host, tmp_path, ["-f", "/etc/issue", "-", "9600"], [b"ab", b"\x04"])


@pytest.mark.skipif(BUSYBOX is None or shutil.which("unshare") is None, reason="needs busybox and unshare")
def test_getty_without_a_prompt_and_with_a_timeout(host, tmp_path):
    """-n execs LOGIN with no name at once; -w waits for CR or LF (after -I's
    string, which shows that getty has set the terminal raw) before the
    issue; -t 1 gives up (status 0) a second after, with the newline."""
    _session(host, tmp_path, ["-n", "-l", "/bin/echo", "-", "0"], [], first_ends=b"--\r\n")
    _session(
        host, tmp_path, ["-w", "-i", "-I", "ready", "-", "9600"], [b"abc\r", b"x\x04"], first_ends=b"ready"
    )
    _session(host, tmp_path, ["-t", "1", "-i", "-", "9600"], [], first_ends=b"box login: \r\n")
