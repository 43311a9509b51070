"""syslogd -- after busybox 1.35's sysklogd/syslogd.c as Debian builds it
(no rotation, no duplicate dropping, no syslog.conf, no -K).

It binds an AF_UNIX datagram socket at /dev/log (the file a symlink there
names, after unlinking it), makes it mode 0666, moves it to fd 0 and reads
one datagram at a time.  Each datagram (trailing newlines and NULs
dropped) is split at embedded NULs; each piece's ``<PRI>`` is parsed (bad
or missing: user.notice), newlines become spaces and other control
characters ``^X``; a leading ``Mmm dd hh:mm:ss `` is the message's time
stamp (``-t``: dropped and replaced by the time now), else the time now.
Lines are ``STAMP HOST FACILITY.LEVEL MSG`` (``-S``: ``STAMP MSG``), kept
only if LEVEL < ``-l N`` (default 8), appended to ``-O FILE``
(/var/log/messages; ``-`` is stdout) -- reopened each second, as busybox
does so that the file may be removed under it.

``-C[KB]`` logs to a ring in SysV shared memory instead (key "GENA",
64 KiB unless given; ``{int32 size; int32 tail; char data[]}``, NUL-ended
lines, the writer holding semaphore 1 while no reader holds 0), which
``logread`` (applets_logread.py) prints; syslogd removes both at exit.

Not simulated, refused by name: ``-R`` and ``-L`` (remote logging).
"""

from __future__ import annotations

import signal
from collections.abc import Generator
from typing import Any

from ..sys_api import O_APPEND, O_CREAT, O_TRUNC, O_WRONLY, Sys
from ..sysv_ipc import IPC_CREAT, IPC_EXCL, IPC_NOWAIT
from . import timefmt
from .applet_table import applet
from .applets_logging import _FACILITY_CODES, _PRIORITY_CODES, FACILITIES, PRIORITIES
from .libc import Die, UsageError, complain, dies, getopt, show_usage, strerror, write_all, xatou

Gen = Generator[Any, Any, Any]

PATH_LOG = "/dev/log"
PIDFILE = "/var/run/syslogd.pid"
MAX_READ = 256  # CONFIG_FEATURE_SYSLOGD_READ_BUFFER_SIZE
KEY_ID = 0x414E4547  # "GENA", shared with logread
SHM_SIZE = 64 * 1024  # CONFIG_FEATURE_IPC_SYSLOG_BUFFER_SIZE (Debian: 64)
SEM_UNDO = 0x1000
SM_WDN = [(0, 0, 0), (1, 0, 0), (1, 1, SEM_UNDO)]  # no reader, no writer: take the writer's
SM_WUP = [(1, -1, IPC_NOWAIT)]
LOG_SYSLOG_INFO = (5 << 3) | 6
USER_NOTICE = (1 << 3) | 5
VERSION = "BusyBox v1.35.0"

# bb_facilitynames/bb_prioritynames in glibc's order: the first name of a value wins
_FAC_NAME: dict[int, str] = {}
for _name, _code in zip(FACILITIES, _FACILITY_CODES, strict=True):
    _FAC_NAME.setdefault(_code, _name)
_PRI_NAME: dict[int, str] = {}
for _name, _code in zip(PRIORITIES, _PRIORITY_CODES, strict=True):
    _PRI_NAME.setdefault(_code, _name)


def fac_prio(pri: int) -> str:
    """parse_fac_prio_20: ``user.notice``, or ``<PRI>`` for codes without names."""
    fac, level = _FAC_NAME.get(pri & 0x3F8), _PRI_NAME.get(pri & 7)
    if fac is not None and level is not None:
        return f"{fac}.{level}"[:19]
    return f"<{pri}>"


def _is_stamp(msg: bytes) -> bool:
    return (
        len(msg) >= 16
        and msg[3:4] == b" "
        and msg[6:7] == b" "
        and msg[9:10] == b":"
        and msg[12:13] == b":"
        and msg[15:16] == b" "
    )


def _escape(raw: bytes) -> bytes:
    out = bytearray()
    for c in raw:
        if c == 0x0A:
            c = 0x20
        if c < 0x20 and c != 0x09:
            out.append(0x5E)  # ^
            c += 0x40
        out.append(c)
    return bytes(out)


def _parse_pri(piece: bytes) -> tuple[int, bytes]:
    """The ``<N>`` in front (bb_strtou: a failed number is -1, i.e. bad)."""
    if not piece.startswith(b"<"):
        return USER_NOTICE, piece
    i = 1
    while i < len(piece) and piece[i : i + 1].isdigit():
        i += 1
    pri = int(piece[1:i]) if i > 1 else -1
    if i < len(piece) and piece[i : i + 1] == b">":
        i += 1
    if pri < 0 or pri & ~0x3FF:
        pri = USER_NOTICE
    return pri, piece[i:]


class Syslogd:
    def __init__(self, sys: Sys, opts, level: int, hostname: str) -> None:
        self.sys = sys
        self.small = "S" in opts
        self.strip_stamp = "t" in opts
        self.level = level
        self.path = opts.value("O", "/var/log/messages") or ""
        self.hostname = hostname.split(".", 1)[0]
        self.fd = -1
        self.opened_at = -1
        self.zone: Any = None
        self.signo = 0
        self.ring_size = 0  # -C's, in bytes (0: no ring)
        self.shm: Any = None
        self.shmid = self.semid = -1

    def now_stamp(self) -> bytes:
        now = int(self.sys.wall_time())
        return timefmt.ctime(timefmt.localtime(self.zone, now))[4:19].encode()

    def log(self, pri: int, msg: bytes) -> Gen:
        """timestamp_and_log."""
        if _is_stamp(msg):
            stamp = self.now_stamp() if self.strip_stamp else msg[:15]
            msg = msg[16:]
        else:
            stamp = self.now_stamp()
        if self.small:
            line = stamp + b" " + msg + b"\n"
        else:
            line = b"%s %s %s %s\n" % (stamp, self.hostname[:64].encode(), fac_prio(pri).encode(), msg)
        if pri & 7 < self.level:
            if self.shm is not None:
                yield from self.log_to_shmem(line)
                return
            yield from self.write_locally(line)

    def open_ring(self) -> None:
        """ipcsyslog_init."""
        sys = self.sys
        try:
            self.shmid = sys.shmget(KEY_ID, self.ring_size, IPC_CREAT | 0o644)  # type: ignore[attr-defined]
        except OSError as e:
            raise Die(f"shmget: {strerror(e)}") from None
        self.shm = sys.shmat(self.shmid)  # type: ignore[attr-defined]
        data = self.shm.data
        data[:] = bytes(len(data))
        data[0:4] = (self.ring_size - 8 - 1).to_bytes(4, "little")
        try:
            self.semid = sys.semget(KEY_ID, 2, IPC_CREAT | IPC_EXCL | 0o1777)  # type: ignore[attr-defined]
        except OSError as e:
            if e.errno != 17:  # EEXIST: another syslogd's, reused
                raise Die(f"semget: {strerror(e)}") from None
            self.semid = sys.semget(KEY_ID, 2, 0)  # type: ignore[attr-defined]

    def log_to_shmem(self, line: bytes) -> Gen:
        sys = self.sys
        try:
            yield from sys.semop(self.semid, SM_WDN)  # type: ignore[attr-defined]
        except OSError as e:
            raise Die(f"SMwdn: {strerror(e)}") from None
        buf = self.shm.data
        size = int.from_bytes(buf[0:4], "little")
        msg = line + b"\0"
        while msg:
            tail = int.from_bytes(buf[4:8], "little")
            if tail + len(msg) < size:
                buf[8 + tail : 8 + tail + len(msg)] = msg
                buf[4:8] = (tail + len(msg)).to_bytes(4, "little")
                break
            room = size - tail  # what fits before the end; the rest goes to the front
            buf[8 + tail : 8 + size] = msg[:room]
            msg = msg[room:]
            buf[4:8] = (0).to_bytes(4, "little")
        try:
            yield from sys.semop(self.semid, SM_WUP)  # type: ignore[attr-defined]
        except OSError as e:
            raise Die(f"SMwup: {strerror(e)}") from None

    def close_ring(self) -> None:
        sys = self.sys
        if self.shmid != -1:
            sys.shmdt(self.shm)  # type: ignore[attr-defined]
            sys.shmctl_rmid(self.shmid)  # type: ignore[attr-defined]
        if self.semid != -1:
            sys.semctl_rmid(self.semid)  # type: ignore[attr-defined]

    def write_locally(self, line: bytes) -> Gen:
        sys = self.sys
        if self.path == "-":
            yield from _quietly(write_all(sys, 1, line))
            return
        now = int(sys.wall_time())
        if self.fd >= 0 and self.opened_at != now:
            sys.close(self.fd)
            self.fd = -1
        if self.fd < 0:
            try:
                self.fd = sys.open(self.path, O_WRONLY | O_CREAT | O_APPEND, 0o666)
                self.opened_at = now
            except OSError:
                yield from _quietly(_to_console(sys, line))
                return
        yield from _quietly(write_all(sys, self.fd, line))

    def run(self) -> Gen:
        sys = self.sys
        self.zone = yield from timefmt.load_zone(sys)
        yield from _write_pidfile(sys)

        def record(signo: int) -> None:
            self.signo = signo

        sys.signal(signal.SIGTERM, record)
        sys.signal(signal.SIGINT, record)
        sys.signal(signal.SIGHUP, signal.SIG_IGN)
        sock = _create_socket(sys)
        if sock != 0:
            sys.dup2(sock, 0)
            sys.close(sock)
        if self.ring_size:
            self.open_ring()
        yield from self.log(LOG_SYSLOG_INFO, f"syslogd started: {VERSION}".encode())
        while not self.signo:
            try:
                data = yield from sys.read(0, MAX_READ - 1)
            except OSError as e:
                if not self.signo:
                    yield from complain(sys, "syslogd", f"read from {PATH_LOG}: {strerror(e)}")
                break
            data = data.rstrip(b"\0\n")
            if not data:
                continue
            for piece in data.split(b"\0"):
                pri, rest = _parse_pri(piece)
                yield from self.log(pri, _escape(rest))
        yield from self.log(LOG_SYSLOG_INFO, b"syslogd exiting")
        try:
            sys.unlink(PIDFILE)
        except OSError:
            pass
        self.close_ring()
        if self.signo:
            sys.signal(self.signo, None)
            sys.kill(sys.getpid(), self.signo)
        return 1


def _quietly(gen: Gen) -> Gen:
    try:
        yield from gen
    except OSError:
        pass


def _to_console(sys: Sys, line: bytes) -> Gen:
    try:
        fd = sys.open("/dev/console", O_WRONLY)
    except OSError:
        fd = 2
    yield from write_all(sys, fd, line)
    if fd != 2:
        sys.close(fd)


def _write_pidfile(sys: Sys) -> Gen:
    try:
        fd = sys.open(PIDFILE, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
    except OSError:
        return
    try:
        yield from write_all(sys, fd, f"{sys.getpid()}\n")
    finally:
        sys.close(fd)


def _create_socket(sys: Sys) -> int:
    """create_socket: unlink /dev/log (or what it links to), bind there, chmod 0666."""
    path = PATH_LOG
    for _ in range(40):  # xmalloc_follow_symlinks
        try:
            target = sys.readlink(path)
        except OSError:
            break
        path = target if target.startswith("/") else path.rsplit("/", 1)[0] + "/" + target
    try:
        sys.unlink(path)
    except OSError:
        pass
    fd = sys.socket_unix()  # type: ignore[attr-defined]
    try:
        sys.bind_unix(fd, path)  # type: ignore[attr-defined]
    except OSError as e:
        raise Die(f"bind: {strerror(e)}") from None
    try:
        sys.chmod(PATH_LOG, 0o666)
    except OSError:
        pass
    return fd


@applet("syslogd")
@dies("syslogd")
def syslogd_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "m:nO:l:StR:LC::")
        if opts.operands:
            raise UsageError(None)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "syslogd", e.message)
        yield from show_usage(sys, "syslogd")
        return 1
    level = 8
    if "l" in opts:
        level = xatou(opts.value("l") or "", 1, 8)
    ring = 0
    if "C" in opts:
        given = opts.value("C")
        ring = SHM_SIZE if given is None else xatou(given, 4, (2**31 - 1) // 1024) * 1024
    for letter in "RL":
        if letter in opts:
            raise Die(f"-{letter} is not simulated (see backends/sim/SIMPLIFICATIONS.md)")

    def start(s: Sys) -> Gen:
        daemon = Syslogd(s, opts, level, s.gethostname())
        daemon.ring_size = ring
        return (yield from daemon.run())

    if "n" not in opts:
        from .daemonize import daemonize

        return (yield from daemonize(sys, start, True))
    return (yield from start(sys))
