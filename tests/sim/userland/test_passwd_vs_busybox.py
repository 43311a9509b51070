"""passwd on the simulator against REAL busybox passwd (in the oracle's
root, never the host's /etc).

The new hash has a random salt, and /etc/shadow's change-day field is
today: both are masked before comparing.  Through a pipe the passwords
are read a byte at a time, so one pipe feeds both prompts; on a terminal
(a pty of the host, the simulator's pty) echo is off while a password is
typed, and what the terminal shows must be the same byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import shutil

import pytest
from stepbox.backends.sim.kernel import SimKernel
from stepbox.core.image.bootstrap import GROUP, PASSWD
from stepbox.core.kernel import SpawnSpec, Stdio

from tests.sim.userland.host_pty import read_pty

MASK = "sed 's/\\$[156]\\$[^:]*/HASH/;s/:2[0-9][0-9][0-9][0-9]:/:DAY:/'"
SHADOW = "printf 'root:*:19000:0:99999:7:::\\nbin:!x:19000::::::\\n' > /etc/shadow; "
LISTING = "ls -ln /etc | awk '{print $1, $2, $5, $9}'"

CASES = [
    # no /etc/shadow: the hash goes to /etc/passwd; weak passwords are named, root may keep them
    f"printf 'abc\\nabc\\n' | passwd; echo rc $?; {MASK} /etc/passwd; {LISTING}",
    # /etc/shadow: the hash and today there, x in /etc/passwd; backups FILE-
    SHADOW
    + f"printf 'Abcdef1!x\\nAbcdef1!x\\n' | passwd; echo rc $?; {MASK} /etc/shadow; head -1 /etc/passwd;"
    f" {LISTING}",
    # lock, unlock, delete; already (un)locked; usage; unknown user; no record in shadow
    SHADOW
    + "passwd -l root; echo rc $?; passwd -l root; echo rc $?; passwd -u root; echo $?; passwd -u root;"
    f" echo $?; passwd -u bin; echo $?; passwd -d root; echo $?; {MASK} /etc/shadow; head -3 /etc/passwd;"
    " passwd -l; echo $?; passwd nobody2; echo $?; printf 'a\\nb\\n' | passwd -a md5 daemon; echo $?",
    # bad option, end of input, mismatch, sha512, md5, similar to the user's name
    SHADOW + "passwd -x; echo $?; passwd </dev/null; echo $?; printf 'aaaaaaaa\\n' | passwd; echo $?;"
    f" printf 'root1234\\nroot1234\\n' | passwd -a sha512 root; echo $?; {MASK} /etc/shadow",
    f"printf 'x1Y2z3W4\\nx1Y2z3W4\\n' | passwd -a md5 daemon; echo $?; sed -n 2p /etc/passwd | {MASK};"
    " printf 'daemon\\n' | passwd daemon; echo $?; printf 'AAbbcc\\nx\\n' | passwd; echo $?",
    # passwd is "must be suid": a user without the set-uid bit is refused
    "su nobody -c passwd; echo $?; su nobody -c 'passwd -l root'; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_passwd_cases(same, script):
    same(script)


# -- on a terminal ------------------------------------------------------------------------------
BUSYBOX = shutil.which("busybox")


def _mask(text: bytes) -> bytes:
    return re.sub(rb"\$[156]\$[^:]*", b"HASH", text)


@pytest.mark.skipif(BUSYBOX is None or shutil.which("unshare") is None, reason="needs busybox and unshare")
def test_passwd_on_a_terminal(host, tmp_path):
    host.sh("true")  # the oracle's fresh /etc
    keys = [b"Tr0ub4dor&3x\r", b"Tr0ub4dor&3x\r"]
    k = SimKernel()
    busybox_bytes, _ = k.busybox()
    k.rootfs.write("/bin/busybox", busybox_bytes, mode=0o755)
    k.rootfs.write("/etc/passwd", PASSWD.encode())
    k.rootfs.write("/etc/group", GROUP.encode())
    log = str(tmp_path / "passwd.log")
    handle = k.processes.spawn(
        SpawnSpec(namespaces=(), stdio=Stdio(stdout=log, stderr=log, tty=True, open_stdin=True))
    )
    handle.open_terminal((24, 80))
    handle.exec(["/bin/busybox", "passwd"], {"PATH": "/bin"})
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("unshare", ["unshare", f"--root={host.root}", "/bin/busybox", "passwd"])
    shown_sim = 0

    def sim_output() -> bytes:
        nonlocal shown_sim
        handle.wait(timeout=0.2)
        with open(log, "rb") as f:
            f.seek(shown_sim)
            out = f.read()
        shown_sim += len(out)
        return out

    try:
        first = sim_output()
        assert read_pty(fd, len(first), wait=2.0, quiet=0.15) == first
        for key in keys:
            handle.write_stdin(key)
            shown = sim_output()
            os.write(fd, key)
            assert read_pty(fd, len(shown), wait=2.0, quiet=0.15) == shown, key
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert handle.wait(timeout=1).code == os.waitstatus_to_exitcode(status) == 0
    real = (host.root / "etc/passwd").read_bytes()
    assert _mask(k.rootfs.read("/etc/passwd")) == _mask(real)
    assert b"$5$" in real
