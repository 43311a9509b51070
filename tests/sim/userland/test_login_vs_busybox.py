"""cttyhack, sulogin and login on the simulator against REAL busybox.

sulogin reads root's password with echo off; a wrong one costs busybox's
3-second pause (on the simulator's clock there), so the cases try one.
Shadow lines must have their 9 fields: busybox's own user database
complains "bad record" about any other and skips it, and so does the
simulator's sulogin and passwd.  cttyhack finds no terminal through a pipe
(no /dev/tty in the oracle's root, none opens without ``-t``) and, on a
terminal, names ``/dev/tty`` -- checked on a pty of the host and the
simulator's pty.  login wants a terminal: a session on a pty of the host
(in the oracle's root) and on the simulator's, compared key by key.
"""

from __future__ import annotations

import contextlib
import os
import pty
import shutil

import pytest
from stepbox.backends.sim.kernel import SimKernel
from stepbox.core.kernel import SpawnSpec, Stdio

from tests.sim.userland.host_pty import read_pty

ROOT_ABC = (
    "root:$5$abcdefgh12345678$vHiubsaUt4nPs3oz92G8C2ofUALW8R1.6Uv7eAUqtrB:1:0:99999:7:::"  # password abc
)

CASES = [
    "cttyhack; echo rc $?; cttyhack echo hi; echo rc $?; cttyhack nosuch; echo rc $?; cttyhack sh -c 'echo $0 $1' a b",
    "sulogin </dev/null; echo rc $?; sulogin -x; echo $?; sulogin /nonexistent; echo $?",
    "su nobody -c 'sulogin </dev/null'; echo $?",
    # login wants a terminal: without one it exits 1 and says nothing; it is "must be suid"
    "login root </dev/null; echo $?; echo root | login; echo $?; login -x; echo $?; su nobody -c login; echo $?",
    # an empty password asks nothing; $SUSHELL; a login shell (-sh)
    "printf 'root:::0:99999:7:::\\n' > /etc/shadow; echo 'echo shell $0' | SUSHELL=/bin/sh sulogin; echo rc $?",
    f"printf '{ROOT_ABC}\\n' > /etc/shadow; printf 'abc\\necho in $0; id -u\\n' | sulogin; echo rc $?",
    # a wrong password, then end of input; a malformed shadow line
    f"printf '{ROOT_ABC}\\n' > /etc/shadow; printf 'abd\\n' | sulogin -t 5; echo rc $?",
    "printf 'root:x:0:99999:7:::\\n' > /etc/shadow; sulogin </dev/null; echo rc $?; passwd -l root; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_login_cases(same, script):
    same(script)


BUSYBOX = shutil.which("busybox")


@pytest.mark.skipif(BUSYBOX is None, reason="needs busybox on the host (busybox-static)")
def test_cttyhack_on_a_terminal(tmp_path):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(BUSYBOX, ["cttyhack"])
    real = read_pty(fd, 1 << 30, wait=2.0)  # all it shows, until it ends
    _, status = os.waitpid(pid, 0)
    os.close(fd)

    k = SimKernel()
    busybox_bytes, _ = k.busybox()
    k.rootfs.write("/bin/busybox", busybox_bytes, mode=0o755)
    log = str(tmp_path / "cttyhack.log")
    handle = k.processes.spawn(SpawnSpec(namespaces=(), stdio=Stdio(stdout=log, stderr=log, tty=True)))
    handle.open_terminal((24, 80))
    handle.exec(["/bin/busybox", "cttyhack"], {"PATH": "/bin"})
    sim_status = handle.wait(timeout=5)
    with open(log, "rb") as f:
        assert f.read() == real == b"/dev/tty\r\n"
    assert sim_status is not None and sim_status.code == os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(BUSYBOX is None or shutil.which("unshare") is None, reason="needs busybox and unshare")
def test_login_on_a_terminal(host, tmp_path):
    """login on a pty: the oracle's root (its own UTS namespace, hostname box) and
    the simulator's; a wrong password, then the right one; root's shell is
    ``env``, which shows the environment login made, after /etc/motd."""
    from stepbox.core.image.bootstrap import GROUP, PASSWD

    passwd = PASSWD.replace("root:x:0:0:root:/root:/bin/sh", "root:x:0:0:root:/root:/bin/env")
    assert passwd != PASSWD
    host.sh(f"printf '{ROOT_ABC}\\n' > /etc/shadow; printf 'Welcome\\n' > /etc/motd")
    (host.root / "etc/passwd").write_text(passwd)
    command = ["/bin/busybox", "sh", "-c", "/bin/busybox hostname box; exec /bin/busybox login"]
    env = {"PATH": "/bin", "TERM": "xterm"}

    k = SimKernel()
    busybox_bytes, _ = k.busybox()
    for name in ("busybox", "env"):
        k.rootfs.write(f"/bin/{name}", busybox_bytes, mode=0o755)
    k.rootfs.write("/etc/passwd", passwd.encode())
    k.rootfs.write("/etc/group", GROUP.encode())
    k.rootfs.write("/etc/shadow", (ROOT_ABC + "\n").encode())
    k.rootfs.write("/etc/motd", b"Welcome\n")
    log = str(tmp_path / "login.log")
    handle = k.processes.spawn(
        SpawnSpec(namespaces=(), stdio=Stdio(stdout=log, stderr=log, tty=True, open_stdin=True))
    )
    handle.open_terminal((24, 80))
    handle.exec(command, env)
    shown = 0

    def sim_output() -> bytes:
        nonlocal shown
        handle.wait(timeout=5)  # long enough for the 3-second pause on the simulator's clock
        with open(log, "rb") as f:
            f.seek(shown)
            out = f.read()
        shown += len(out)
        return out

    pid, fd = pty.fork()
    if pid == 0:
        os.execve(shutil.which("unshare"), ["unshare", "--uts", f"--root={host.root}", *command], env)
    try:
        first = sim_output()
        assert first == b"box login: "
        assert read_pty(fd, len(first), quiet=0.2) == first
        for key in (b"root\r", b"wrong\r", b"root\r", b"abc\r"):
            handle.write_stdin(key)
            expected = sim_output()
            os.write(fd, key)
            assert read_pty(fd, len(expected), quiet=0.2) == expected, key
        assert b"Welcome" in expected and b"HOME=/root" in expected
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
        _, status = os.waitpid(pid, 0)
    sim_status = handle.wait(timeout=1)
    assert sim_status is not None and sim_status.code == os.waitstatus_to_exitcode(status) == 0
