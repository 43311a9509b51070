"""logread -- after busybox 1.35's sysklogd/logread.c (with its double
buffering): prints the lines ``syslogd -C`` keeps in its SysV shared-memory
ring (see applets_syslogd.py for the layout), oldest first.

Each pass takes the readers' semaphore (0) once no writer holds 1, copies
what lies between its position and the ring's tail, lets go, then prints
the NUL-ended lines.  Without -f one pass from the oldest complete line;
``-f`` follows from the tail, looking again each second; ``-F`` prints the
ring first, then follows.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .applets_syslogd import KEY_ID, SEM_UNDO
from .libc import BufferedOutput, Die, UsageError, complain, dies, getopt, show_usage, strerror

Gen = Generator[Any, Any, Any]

IPC_NOWAIT = 0o4000
SM_RDN = [(1, 0, 0), (0, 1, SEM_UNDO)]  # no writer: count one more reader
SM_RUP = [(0, -1, IPC_NOWAIT | SEM_UNDO)]


def _strlen(buf: bytearray, at: int) -> int:
    end = buf.find(b"\0", at)
    return (len(buf) if end < 0 else end) - at


@applet("logread")
@dies("logread")
def logread_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "fF")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "logread", e.message)
        yield from show_usage(sys, "logread")
        return 1
    follow = (1 if "f" in opts else 0) | (2 if "F" in opts else 0)
    try:
        shmid = sys.shmget(KEY_ID, 0, 0)  # type: ignore[attr-defined]
    except OSError as e:
        raise Die(f"can't find syslogd buffer: {strerror(e)}") from None
    try:
        shm = sys.shmat(shmid, True)  # type: ignore[attr-defined]
    except OSError as e:
        raise Die(f"can't access syslogd buffer: {strerror(e)}") from None
    try:
        semid = sys.semget(KEY_ID, 0, 0)  # type: ignore[attr-defined]
    except OSError as e:
        raise Die(f"can't get access to semaphores for syslogd buffer: {strerror(e)}") from None
    ring = shm.data
    data = memoryview(ring)[8:]
    out = BufferedOutput(sys, 1)
    cur = int.from_bytes(ring[4:8], "little")
    while True:
        try:
            yield from sys.semop(semid, SM_RDN)  # type: ignore[attr-defined]
        except OSError as e:
            raise Die(f"semop[SMrdn]: {strerror(e)}") from None
        size = int.from_bytes(ring[0:4], "little")
        tail = int.from_bytes(ring[4:8], "little")
        chunk = b""
        skip = False
        if not follow & 1:
            follow >>= 1
            text = bytearray(data[: size + 1])
            cur += _strlen(text, cur)  # the oldest complete line starts after a NUL
            if cur >= size:
                cur = _strlen(text[:tail], 0)
                if cur == tail:
                    skip = True  # no complete line
            if not skip:
                cur += 1
                if cur >= size:
                    cur = 0
        elif cur == tail:
            yield from _sem_up(sys, semid)
            yield from out.flush()
            yield from sys.sleep(1)
            continue
        if not skip:
            if tail >= cur:
                chunk = bytes(data[cur:tail])
            else:  # it wraps: [second part ... tail ... cur ... first part]
                chunk = bytes(data[cur:size]) + bytes(data[:tail])
            cur = tail
        yield from _sem_up(sys, semid)
        i = 0
        while i < len(chunk):
            line = chunk[i:].split(b"\0", 1)[0]
            out.write(line)
            i += len(line) + 1
        yield from out.flush()
        if not follow:
            return 0


def _sem_up(sys: Sys, semid: int) -> Gen:
    try:
        yield from sys.semop(semid, SM_RUP)  # type: ignore[attr-defined]
    except OSError as e:
        raise Die(f"semop[SMrup]: {strerror(e)}") from None
