"""Pseudo-terminals for containers (``docker run -t``), made the way runc makes them.

A pseudo-terminal is a pair of character devices with the kernel's *line
discipline* between them: what is written on the **master** side arrives
on the **slave** side as if typed on a keyboard (echoed, edited a line at a
time, ^C turned into SIGINT for the foreground job), and what a program
writes on the slave comes out of the master.  A shell is "interactive" when
its stdin is a slave: it prints a prompt and reads lines.

runc opens the pair *inside* the container, from the container's own
``/dev/pts`` (a fresh ``devpts`` instance, ``newinstance``): so ``tty`` in
the container says ``/dev/pts/0``, a name that exists there.  The slave
becomes fds 0, 1 and 2 and the controlling terminal of the command
(``setsid`` + ``TIOCSCTTY``); the master is handed out over a UNIX socket
(``SCM_RIGHTS``: a file descriptor travels as a message) to the shim, which
copies its output to the log and types the engine's input into it.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import termios

# <asm-generic/ioctls.h>
TIOCGPTN = 0x80045430  # which /dev/pts/N is the slave of this master
TIOCSPTLCK = 0x40045431  # (un)lock the slave: unlockpt(3)
TIOCSCTTY = termios.TIOCSCTTY
TIOCSWINSZ = termios.TIOCSWINSZ


def open_pty(devpts: str = "/dev/pts") -> tuple[int, int, str]:
    """(master fd, slave fd, slave path) from the devpts mounted at ``devpts``."""
    master = os.open(f"{devpts}/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
        number = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, b"\0" * 4))[0]
        path = f"{devpts}/{number}"
        slave = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except BaseException:
        os.close(master)
        raise
    return master, slave, path


def set_window(fd: int, rows: int, columns: int) -> None:
    """TIOCSWINSZ: the kernel sends SIGWINCH to the terminal's foreground job."""
    fcntl.ioctl(fd, TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def become_controlled_by(slave: int) -> None:
    """A new session whose controlling terminal is ``slave`` (setsid, TIOCSCTTY):
    ^C on the terminal now signals this process's foreground job."""
    try:
        os.setsid()
    except PermissionError:
        pass  # a session leader already (cannot happen for a forked child)
    fcntl.ioctl(slave, TIOCSCTTY, 0)


def send_fd(sock: int, fd: int) -> None:
    """Hand ``fd`` to whoever holds the other end of the socket ``sock``."""
    with socket.socket(fileno=os.dup(sock)) as s:
        socket.send_fds(s, [b"m"], [fd])


def receive_fd(sock: socket.socket) -> int | None:
    """The fd sent with :func:`send_fd`; None at end-of-file."""
    message, fds, _flags, _addr = socket.recv_fds(sock, 16, 1)
    if not message and not fds:
        return None
    return fds[0] if fds else None
