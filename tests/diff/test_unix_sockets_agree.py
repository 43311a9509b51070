"""AF_UNIX datagram sockets: the simulated kernel (backends/sim/net/unix.py)
against the real one, call by call.

One scenario -- bind, the socket inode it makes, a second bind, connect,
send, recv (one datagram per call, cut to the buffer), sendto, open(2) of
the socket, a regular file as address, the holder closing (a stale name),
unlink -- runs with Python's socket module in a temporary directory of the
host, and with the same calls in a simulated container; both give the
list of what each step returned or which errno it failed with.  (syslogd
and logger over these sockets are compared in
tests/sim/userland/test_syslogd_vs_busybox.py.)"""

from __future__ import annotations

import errno
import os
import socket
import stat

from tests.sim.sim_kernel_helpers import Box, boot

DATA = [b"hello", b"two", b"x"]


def _outcome(fn) -> str:
    try:
        got = fn()
    except OSError as e:
        return errno.errorcode[e.errno or 0]
    return repr(got)


def real_scenario(d: str) -> list[str]:
    old = os.umask(0o022)
    try:
        return _real(d)
    finally:
        os.umask(old)


def _real(d: str) -> list[str]:
    def mk():
        return socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    a, b, f = f"{d}/a", f"{d}/b", f"{d}/f"
    s, t, c, e = mk(), mk(), mk(), mk()
    out = [_outcome(lambda: c.connect(f"{d}/none"))]
    out.append(_outcome(lambda: s.bind(a)))
    st = os.lstat(a)
    out.append(f"{stat.S_ISSOCK(st.st_mode)} {stat.S_IMODE(st.st_mode):o} {st.st_size}")
    out.append(_outcome(lambda: s.bind(b)))
    out.append(_outcome(lambda: t.bind(a)))
    out.append(_outcome(lambda: c.send(DATA[0])))
    out.append(_outcome(lambda: c.connect(a)))
    out.append(_outcome(lambda: c.send(DATA[0])))
    out.append(_outcome(lambda: c.send(DATA[1])))
    out.append(_outcome(lambda: s.recv(3)))
    out.append(_outcome(lambda: s.recv(100)))
    out.append(_outcome(lambda: e.sendto(DATA[2], a)))
    out.append(_outcome(lambda: s.recv(100)))
    out.append(_outcome(lambda: os.open(a, os.O_RDONLY)))
    with open(f, "wb"):
        pass
    out.append(_outcome(lambda: e.sendto(DATA[2], f)))
    out.append(_outcome(lambda: e.sendto(DATA[2], d)))
    s.close()
    out.append(_outcome(lambda: e.sendto(DATA[2], a)))
    out.append(_outcome(lambda: c.send(DATA[2])))
    out.append(str(os.path.lexists(a)))
    os.unlink(a)
    out.append(_outcome(lambda: e.sendto(DATA[2], a)))
    out.append(_outcome(lambda: t.bind(a)))
    for sock in (t, c, e):
        sock.close()
    return out


def sim_scenario(sys):
    sys.umask(0o022)
    d = "/tmp"
    a, b, f = f"{d}/a", f"{d}/b", f"{d}/f"
    s, t, c, e = (sys.socket_unix() for _ in range(4))

    def read(fd, n):
        gen = sys.read(fd, n)
        try:
            while True:
                next(gen)  # the datagram is queued already: a blocking read here is a bug
                raise AssertionError("recv blocked")
        except StopIteration as done:
            return done.value

    out = [_outcome(lambda: sys.connect_unix(c, f"{d}/none"))]
    out.append(_outcome(lambda: sys.bind_unix(s, a)))
    st = sys.lstat(a)
    out.append(f"{st.kind.value == 'socket'} {st.mode:o} {st.size}")
    out.append(_outcome(lambda: sys.bind_unix(s, b)))
    out.append(_outcome(lambda: sys.bind_unix(t, a)))
    out.append(_outcome(lambda: sys.write(c, DATA[0])))
    out.append(_outcome(lambda: sys.connect_unix(c, a)))
    out.append(_outcome(lambda: sys.write(c, DATA[0])))
    out.append(_outcome(lambda: sys.write(c, DATA[1])))
    out.append(_outcome(lambda: read(s, 3)))
    out.append(_outcome(lambda: read(s, 100)))
    out.append(_outcome(lambda: sys.sendto_unix(e, DATA[2], a)))
    out.append(_outcome(lambda: read(s, 100)))
    out.append(_outcome(lambda: sys.open(a, os.O_RDONLY)))
    sys.close(sys.open(f, os.O_WRONLY | os.O_CREAT, 0o644))
    out.append(_outcome(lambda: sys.sendto_unix(e, DATA[2], f)))
    out.append(_outcome(lambda: sys.sendto_unix(e, DATA[2], d)))
    sys.close(s)
    out.append(_outcome(lambda: sys.sendto_unix(e, DATA[2], a)))
    out.append(_outcome(lambda: sys.write(c, DATA[2])))
    out.append(str(_outcome(lambda: sys.lstat(a)) != "ENOENT"))
    sys.unlink(a)
    out.append(_outcome(lambda: sys.sendto_unix(e, DATA[2], a)))
    out.append(_outcome(lambda: sys.bind_unix(t, a)))
    return out


def test_datagram_sockets_agree_with_linux(tmp_path):
    real = real_scenario(str(tmp_path))
    k = boot()
    box = Box(k, tmp_path)
    results = []

    def prog(sys):
        results.extend(sim_scenario(sys))
        return 0
        yield  # pragma: no cover

    assert box.run(prog).code == 0
    assert results == real
    # what the real kernel said, so that a change of either side shows
    assert real[:2] == ["ENOENT", "None"] and real[3:5] == ["EINVAL", "EADDRINUSE"]
    assert real[9:11] == ["b'hel'", "b'two'"] and real[13] == "ENXIO"
