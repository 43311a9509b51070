"""The simulator's terminal against Linux's: the same keys, the same screen.

One side is a real pseudo-terminal (Python's ``pty``) with busybox ``cat``
on it; the other the simulated kernel's :class:`~stepbox.backends.sim.tty.Pty`
with the simulator's ``cat`` on its slave end.  Keys are typed one line at a
time (each line waits for ``cat`` to echo it back), and what comes out of the
master -- the line discipline's echo and rub-outs, then the program's output
through ONLCR -- must be byte for byte the same.  Hypothesis writes the lines:
printable text, DEL (erase; ^H is an ordinary key), ^U (kill), ^W (word
erase), ^V (literal next), ^R (reprint), control characters echoed as ``^X``,
tabs (rubbed out by the column they reached).  A fresh pair of terminals for
each example, so what one typed cannot leak into the next.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pty
import select
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stepbox.backends.sim.kernel import SimKernel
from stepbox.core.kernel import SpawnSpec, Stdio

BUSYBOX = shutil.which("busybox")
pytestmark = pytest.mark.skipif(
    BUSYBOX is None, reason="needs busybox on the host (apt-get install busybox-static)"
)

KEYS = st.lists(
    st.one_of(
        st.sampled_from(list("abc xyz-_.")),
        st.sampled_from(
            ["\x7f", "\x08", "\x15", "\x17", "\x01", "\x02", "\x1b", "\t", "\x12", "\x16", "\x00"]
        ),
    ),
    max_size=12,
).map(lambda keys: "".join(keys).encode("latin-1"))


_sessions = itertools.count()


class RealPty:
    """busybox cat on a pty of the host."""

    def __init__(self):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(BUSYBOX, ["cat"])

    def type_line(self, keys: bytes, expect: int) -> bytes:
        """Type a line; wait until as many bytes came back as ``expect`` (what
        the simulator showed) or a second of silence, then a moment longer
        for anything beyond."""
        os.write(self.fd, keys + b"\r")
        out = b""
        while len(out) < expect and select.select([self.fd], [], [], 1.0)[0]:
            out += os.read(self.fd, 4096)
        while select.select([self.fd], [], [], 0.05)[0]:
            out += os.read(self.fd, 4096)
        return out

    def close(self) -> None:
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


class SimPty:
    """The simulator's cat on the simulator's terminal (the engine's side)."""

    def __init__(self, tmp_path):
        self.k = SimKernel()
        busybox_bytes, _ = self.k.busybox()
        files = self.k.rootfs
        files.write("/bin/busybox", busybox_bytes, mode=0o755)
        self.log = str(tmp_path / f"out-{next(_sessions)}.log")
        self.handle = self.k.processes.spawn(
            SpawnSpec(namespaces=(), stdio=Stdio(stdout=self.log, stderr=self.log, tty=True, open_stdin=True))
        )
        self.handle.open_terminal((24, 80))
        self.handle.exec(["/bin/busybox", "cat"], {"PATH": "/bin"})
        self.shown = 0

    def type_line(self, keys: bytes) -> bytes:
        self.handle.write_stdin(keys + b"\r")
        self.handle.wait(timeout=0.01)  # let cat run
        with open(self.log, "rb") as f:
            f.seek(self.shown)
            out = f.read()
        self.shown += len(out)
        return out

    def close(self) -> None:
        self.handle.signal(9)
        self.handle.wait()


@contextlib.contextmanager
def terminals(tmp_path):
    """A fresh pair for each session: what one example typed stays out of the next."""
    real, sim = RealPty(), SimPty(tmp_path)
    try:
        yield real, sim
    finally:
        real.close()
        sim.close()


def type_and_compare(real: RealPty, sim: SimPty, line: bytes) -> None:
    shown = sim.type_line(line)
    assert shown == real.type_line(line, len(shown)), line


def test_a_known_session(tmp_path):
    keys = (b"hello", b"abc\x7fd", b"one two\x17three", b"a-b\x17", b"gone\x15kept", b"ctl\x01\x02x")
    keys += (b"ab\tc\x7f\x7fd", b"\x01\t\x7fz", b"re\x12print", b"lit\x16\x7f\x16\x15")
    with terminals(tmp_path) as (real, sim):
        for line in keys:
            type_and_compare(real, sim, line)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(KEYS, min_size=1, max_size=4))
def test_generated_lines_show_the_same(tmp_path, lines):
    with terminals(tmp_path) as (real, sim):
        for line in lines:
            type_and_compare(real, sim, line)
