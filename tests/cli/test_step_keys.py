"""What ``stepbox step`` shows, made readable (core/container/readable.py), and its
keys on a terminal: ``q`` quits without Enter.

(An earlier pseudo-terminal test hung under pytest-xdist with no output from the
child: it forked with ``pty.fork()`` in a worker that has threads, and ran Python in
the child before exec.  This one starts the child with subprocess -- fork and exec in
C -- on the terminal's other end.  ``q`` through a pipe is tested in
tests/cli/test_done_when.py.)
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

from stepbox.core.container.readable import readable

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def test_readable_names_the_rootfs_the_storage_and_short_ids():
    cid, layer = "c" * 64, "a1" * 32
    op = (
        f'mount("overlay", "/var/lib/stepbox/overlay/mounts/{cid}/merged", "overlay", 0, '
        f'"lowerdir=/s/linux/overlay/layers/{cid}-init/diff:/s/linux/overlay/layers/{layer}/diff,'
        f'upperdir=/s/linux/overlay/layers/{cid}/diff,workdir=/s/linux/overlay/mounts/{cid}/work")'
    )
    assert readable(op) == (
        'mount("overlay", "$ROOTFS", "overlay", 0, '
        f'"lowerdir=$ROOT/overlay/layers/{cid[:12]}-init/diff:$ROOT/overlay/layers/{layer[:12]}/diff,'
        f'upperdir=$ROOT/overlay/layers/{cid[:12]}/diff,workdir=$ROOT/overlay/mounts/{cid[:12]}/work")'
    )
    assert (
        readable(f'mount("proc", "/x/overlay/mounts/{cid}/merged/proc")') == 'mount("proc", "$ROOTFS/proc")'
    )
    assert (
        readable(f"/state/containers/{cid}/config.json", "/state")
        == f"$ROOT/containers/{cid[:12]}/config.json"
    )
    assert readable("/sys/fs/cgroup/stepbox/" + cid) == "/sys/fs/cgroup/stepbox/" + cid[:12]
    assert readable("nothing to shorten: abc123 /etc/hosts") == "nothing to shorten: abc123 /etc/hosts"


def test_q_on_a_terminal_quits_without_enter_and_lists_the_undo(stepbox):
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "stepbox", "--backend", stepbox.backend, "--root", stepbox.root]
        + ["step", "busybox", "echo", "hi"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "160", "LINES": "50"},  # the size set above
    )
    os.close(terminal)
    seen = bytearray()
    deadline = time.monotonic() + 120

    def text() -> str:
        return ANSI.sub(b"", bytes(seen)).decode(errors="replace").replace("\r", "")

    def read_until(done) -> None:
        while not done(text()):
            assert time.monotonic() < deadline, f"waited 120 s; the terminal showed:\n{text()[-3000:]}"
            if select.select([master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # EIO: the child's end is closed, it has ended
                    chunk = b""
                if not chunk:
                    return
                seen.extend(chunk)

    try:
        for steps in (1, 2):  # two steps, each on Enter (a carriage return, as a terminal sends it)
            read_until(lambda out, steps=steps: out.count("Enter: go on") >= steps)
            os.write(master, b"\r")
        read_until(lambda out: out.count("Enter: go on") >= 3)
        os.write(master, b"q")  # and no Enter
        read_until(lambda out: "everything done so far was undone" in out)
        code = child.wait(timeout=60)
        read_until(lambda out: False)  # what is left to read
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    out = text()
    assert code == 0, out[-3000:]
    assert "Step 2/" in out and "Step 3/" not in out, out[-3000:]
    undone = out[out.index("undone: the kernel operations of the undo") :]
    # the two steps imported the image and made the init layer: the undo removes the init layer
    assert re.search(
        r'remove_layer\("[0-9a-f]{12}-init", "\$ROOT/overlay/layers/[0-9a-f]{12}-init/diff"\)', undone
    )
    assert stepbox("ps", "-aq").out == ""
