"""Reading a container's terminal from code, for the interactive-shell chapter.

``docker run -it`` hands the container's terminal to a person; a notebook
(or a test, or CI without any terminal) has to do what the person's eyes
do: wait until some text has appeared, and read the screen.  Two small
helpers, used on the hijacked attach connection of the Engine API:

* :class:`Screen` -- reads the raw stream as it comes; ``wait_for(marker)``
  waits until ``marker`` has arrived (while waiting, ``every`` may be called
  now and then: a resize sent again until the program has reacted to one);
* :func:`screen` -- the lines a terminal would show for those bytes: escape
  sequences dropped, and a carriage return going back to the start of its
  line (busybox's line editor on Linux redraws the prompt that way, after
  asking the terminal where the cursor is with ``ESC [6n``; the simulator's
  shell does not ask -- the screens are the same).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

ESCAPE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class Screen:
    """The output of an attach stream, read by a thread of its own as it
    comes (so that waiting for text can time out, and do something meanwhile)."""

    def __init__(self, rfile):
        self.raw = b""
        self.seen = 0  # how far the waits have read: the next one looks after it
        self.ended = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(rfile,), name="attach-output", daemon=True).start()

    def _read(self, rfile) -> None:
        try:
            while data := rfile.read1(65536):
                with self._changed:
                    self.raw += data
                    self._changed.notify_all()
        except (OSError, ValueError):
            pass  # the connection was closed under us
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for(
        self, marker: bytes, timeout: float = 30.0, every: Callable[[], object] | None = None
    ) -> str:
        """Wait until ``marker`` appears after what the last wait returned;
        the text up to the marker's end, as a terminal shows it.  ``every``:
        called about every 0.3 s meanwhile.  TimeoutError (with what came)
        after ``timeout`` seconds."""
        start = self.seen
        deadline = time.monotonic() + timeout
        with self._changed:
            while (found := self.raw.find(marker, start)) < 0:
                if self.ended:
                    raise EOFError(f"the stream ended before {marker!r}; it showed {self.raw[start:]!r}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{marker!r} did not appear; the terminal showed {self.raw[start:]!r}")
                if every is not None:
                    every()
                self._changed.wait(0.3)
            self.seen = found + len(marker)
            return "\n".join(screen(self.raw[start : self.seen]))

    def wait_for_end(self, timeout: float = 30.0) -> str:
        """Wait until the stream ends (the container exited, or we detached);
        what came after the last wait."""
        start = self.seen
        with self._changed:
            if not self._changed.wait_for(lambda: self.ended, timeout):
                raise TimeoutError(f"the stream did not end; it showed {self.raw[start:]!r}")
            self.seen = len(self.raw)
            return "\n".join(screen(self.raw[start:]))


def screen(raw: bytes) -> list[str]:
    """The lines a terminal shows for ``raw`` (see the module docstring)."""
    text = ESCAPE.sub(b"", raw).decode(errors="replace")
    return [line.rsplit("\r", 1)[-1] for line in text.split("\r\n")]


__all__ = ["Screen", "screen"]
