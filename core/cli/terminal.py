"""The user's own terminal, while it is attached to a container's.

With ``-t`` the container has a terminal of its own, which does the echo,
the line editing and ^C; ours must then get out of the way: it is put in
*raw mode* (every key goes through unchanged, at once, unechoed) for as long
as we are attached, and restored afterwards -- whatever happens.  Its size
is the container's too: sent after the start and again on every SIGWINCH
(the signal the kernel sends when the window changes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import termios
import tty
from collections.abc import Callable, Iterator


def is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def window_size() -> tuple[int, int] | None:
    """(rows, columns) of our stdout's terminal, if it is one."""
    if not is_terminal(sys.stdout.fileno()):
        return None
    import shutil  # here: it imports bz2 and lzma, which no other call needs

    size = shutil.get_terminal_size((0, 0))
    return (size.lines, size.columns) if size.lines and size.columns else None


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[Callable[[], None]]:
    """Raw mode on ``fd`` while in the block (a no-op if it is not a
    terminal).  Yields a function that restores it early (once output has
    ended, before anything else is printed)."""
    if not is_terminal(fd):
        yield lambda: None
        return
    saved = termios.tcgetattr(fd)
    restored = False

    def restore() -> None:
        nonlocal restored
        if not restored:
            restored = True
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    tty.setraw(fd, termios.TCSANOW)
    try:
        yield restore
    finally:
        restore()


@contextlib.contextmanager
def following_window(resize: Callable[[int, int], None]) -> Iterator[None]:
    """Tell ``resize`` our size now and at each SIGWINCH."""

    def send(*_args) -> None:
        size = window_size()
        if size:
            try:
                resize(*size)
            except Exception:  # the container may have exited meanwhile  # noqa: BLE001
                pass

    saved = signal.signal(signal.SIGWINCH, send)
    try:
        send()
        yield
    finally:
        signal.signal(signal.SIGWINCH, saved)
