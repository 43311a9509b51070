"""awk's files and pipes: ``getline < FILE``, ``CMD | getline``,
``print > FILE``, ``print | CMD``, ``system()`` -- and reading records.

A pipe is what ``popen`` makes: a child running ``/bin/sh -c CMD`` with
one end of a pipe as its stdin or stdout.  ``close()`` waits for it and
returns its raw wait status, as busybox's ``pclose`` does.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ...sys_api import O_APPEND, O_CREAT, O_TRUNC, O_WRONLY, Sys
from ..libc import close_quietly, write_all

Gen = Generator[Any, Any, Any]


class Stream:
    """An open file or pipe, for reading records or for output."""

    __slots__ = ("fd", "pid", "buf", "eof", "is_pipe")

    def __init__(self, fd: int, pid: int | None = None) -> None:
        self.fd = fd
        self.pid = pid
        self.is_pipe = pid is not None
        self.buf = ""  # read ahead, not yet consumed
        self.eof = False

    def read_more(self, sys: Sys) -> Gen:
        """Append what one read(2) gives; False at end of file."""
        if self.eof:
            return False
        try:
            chunk = yield from sys.read(self.fd, 65536)
        except OSError:
            chunk = b""
        yield from sys.burn(1 + len(chunk) // 1024)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk.decode("latin-1")
        return True

    def write(self, sys: Sys, text: str) -> Gen:
        yield from write_all(sys, self.fd, text.encode("latin-1", "replace"))


def open_output(sys: Sys, path: str, append: bool) -> Stream:
    flags = O_WRONLY | O_CREAT | (O_APPEND if append else O_TRUNC)
    return Stream(sys.open(path, flags, 0o666))


def open_input(sys: Sys, path: str) -> Stream | None:
    try:
        return Stream(sys.open(path, 0))
    except OSError:
        return None


def popen(sys: Sys, cmd: str, mode: str, others: list[Stream]) -> Stream:
    """A child ``sh -c CMD`` whose stdout ("r") or stdin ("w") is a pipe
    to us.  The child closes the other streams popen made (as POSIX asks)."""
    r, w = sys.pipe()
    mine, theirs = (r, w) if mode == "r" else (w, r)
    child_fd = 1 if mode == "r" else 0
    inherited = [s.fd for s in others if s.is_pipe]

    def child(csys: Sys) -> Gen:
        csys.dup2(theirs, child_fd)
        for fd in (mine, theirs, *inherited):
            if fd != child_fd:
                close_quietly(csys, fd)
        try:
            yield from csys.execve("/bin/sh", ["sh", "-c", cmd], dict(csys.env))
        except OSError:
            pass
        return 127

    pid = sys.fork(child)
    sys.close(theirs)
    return Stream(mine, pid)


def wait_raw(sys: Sys, pid: int) -> Gen:
    """waitpid: the raw status (-1 if there is no such child)."""
    while True:
        try:
            res = yield from sys.waitpid(pid, 0)
        except OSError:
            return -1
        if res is not None:
            return res.status


def close_stream(sys: Sys, stream: Stream) -> Gen:
    """fclose / pclose: 0, or a pipe's raw wait status."""
    close_quietly(sys, stream.fd)
    if stream.is_pipe and stream.pid is not None:
        return (yield from wait_raw(sys, stream.pid))
    return 0


def system(sys: Sys, cmd: str) -> Gen:
    """system(3): ``sh -c CMD``, waited for; the raw status."""

    def child(csys: Sys) -> Gen:
        try:
            yield from csys.execve("/bin/sh", ["sh", "-c", cmd], dict(csys.env))
        except OSError:
            pass
        return 127

    pid = sys.fork(child)
    return (yield from wait_raw(sys, pid))
