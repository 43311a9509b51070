"""``stepbox step`` on a terminal: ``q`` quits at once, without Enter.

Run in a pseudo-terminal, as a learner types: Enter twice, then a bare
``q`` -- no newline follows it, so a walk that waited for a whole line
would hang here.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time

from stepbox.core.container.readable import readable


def _read_until(fd: int, needle: bytes, timeout: float = 300.0) -> bytes:  # a hang guard, generous under load
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} in:\n{seen.decode(errors='replace')}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other end closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_q_quits_without_enter_on_a_terminal():
    root = tempfile.mkdtemp(prefix="stepbox-keys-")
    leader, follower = pty.openpty()
    stepbox = os.path.join(os.path.dirname(sys.executable), "stepbox")
    env = dict(os.environ, COLUMNS="100", STEPBOX_BRIDGE="none")
    process = subprocess.Popen(
        [stepbox, "--backend", "sim", "--root", root, "step", "busybox", "true"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    try:
        _read_until(leader, b"q: quit")
        os.write(leader, b"\r")
        _read_until(leader, b"Step 1/")
        _read_until(leader, b"q: quit")
        os.write(leader, b"q")  # no Enter
        out = _read_until(leader, b"everything done so far was undone")
        assert process.wait(timeout=60) == 0, out.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
        shutil.rmtree(root, ignore_errors=True)


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
