"""cttyhack and sulogin on the simulator against REAL busybox.

sulogin reads root's password with echo off; a wrong one costs busybox's
3-second pause (on the simulator's clock there), so the cases try one.
Shadow lines must have their 9 fields: busybox's own user database
complains "bad record" about any other and skips it, and so does the
simulator's sulogin and passwd.  cttyhack finds no terminal through a pipe
(no /dev/tty in the oracle's root, none opens without ``-t``) and, on a
terminal, names ``/dev/tty`` -- checked on a pty of the host and the
simulator's pty.
"""

from __future__ import annotations

import os
import pty
import select
import shutil

import pytest
from stepbox.backends.sim.kernel import SimKernel
from stepbox.core.kernel import SpawnSpec, Stdio

ROOT_ABC = (
    "root:$5$abcdefgh12345678$vHiubsaUt4nPs3oz92G8C2ofUALW8R1.6Uv7eAUqtrB:1:0:99999:7:::"  # password abc
)

CASES = [
    "cttyhack; echo rc $?; cttyhack echo hi; echo rc $?; cttyhack nosuch; echo rc $?; cttyhack sh -c 'echo $0 $1' a b",
    "sulogin </dev/null; echo rc $?; sulogin -x; echo $?; sulogin /nonexistent; echo $?",
    "su nobody -c 'sulogin </dev/null'; echo $?",
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
    real = b""
    while select.select([fd], [], [], 2.0)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        real += data
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
