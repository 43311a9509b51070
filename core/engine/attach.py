"""Attached streams: a client's keyboard and screen, wired to a container's process.

``docker run -it busybox sh`` and ``docker attach`` *hijack* their HTTP
connection (``101 UPGRADED``): from then on it is a raw byte stream both
ways.  Upstream, the client's stdin goes to the process's stdin (a pipe the
shim holds, or the terminal's keyboard); downstream comes its output --
multiplexed frames (8-byte headers, see :mod:`.streams`) without a TTY,
raw bytes with one.  The client half-closes its side when its stdin ends.

Three rules from Docker shape the upstream half:

* **Detach keys** (ctrl-p ctrl-q, or ``detachKeys=...``): on a TTY, that
  sequence ends the attachment and leaves the process running; the bytes of
  a sequence that turns out not to be it are passed on (moby/term's
  escape proxy).  The docker CLI also watches for them itself.
* **StdinOnce** (``docker run -i``): when the client's input ends, the
  process's stdin is closed -- ``echo x | docker run -i busybox cat`` ends
  because cat reads end-of-file.  Without a TTY only; a terminal never ends.
* Input that arrives before the process exists (the CLI attaches *before*
  it starts the container) waits for the start.

This module holds that logic for attach and exec alike; the HTTP layer
only hands it the connection's two files.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import BinaryIO

from stepbox.core.container.errors import NoSuchContainer
from stepbox.core.kernel import KernelError, ProcessHandle

from . import escape_keys
from .errors import BadParameter
from .escape_keys import EscapeDetector

log = logging.getLogger("stepbox.engine")


def parse_detach_keys(text: str | None) -> bytes:
    """``detachKeys=``: a bad one is a 400 (dockerd: "Invalid detach keys")."""
    try:
        return escape_keys.parse_detach_keys(text)
    except escape_keys.InvalidDetachKeys as e:
        raise BadParameter(str(e)) from None


class InputPump:
    """Copies the client's input to a process, on a thread of its own.

    ``target()`` returns the process handle once it exists (None: not yet;
    it is asked again); ``call(fn)`` runs a kernel call the way the engine
    must (under its lock on the simulator).  ``on_detach`` is called when
    the detach keys are typed; ``close_at_end`` closes the process's stdin
    when the input ends (StdinOnce)."""

    def __init__(
        self,
        rfile: BinaryIO,
        target: Callable[[float], ProcessHandle | None],
        call: Callable[[Callable[[], None]], None],
        *,
        detach_keys: bytes | None,
        close_at_end: bool,
        on_detach: Callable[[], None],
        name: str,
    ):
        self.rfile = rfile
        self.target = target
        self.call = call
        self.escape = EscapeDetector(detach_keys) if detach_keys else None
        self.close_at_end = close_at_end
        self.on_detach = on_detach
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> InputPump:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _handle(self) -> ProcessHandle | None:
        while not self.stopped.is_set():
            handle = self.target(0.1)
            if handle is not None:
                return handle
        return None

    def _run(self) -> None:
        handle: ProcessHandle | None = None
        try:
            while not self.stopped.is_set():
                data = _read_some(self.rfile)
                if not data:
                    break
                detached = False
                if self.escape is not None:
                    data, detached = self.escape.feed(data)
                if data:
                    handle = handle or self._handle()
                    if handle is None:
                        return
                    self.call(functools.partial(handle.write_stdin, data))
                if detached:
                    self.on_detach()
                    return
            if self.close_at_end and not self.stopped.is_set():
                handle = handle or self._handle()
                if handle is not None:
                    self.call(handle.close_stdin)
        except (OSError, ValueError):
            pass  # the client went away
        except (KernelError, NoSuchContainer) as e:
            log.info("input for a process that no longer takes it: %s", e)


def _read_some(rfile: BinaryIO) -> bytes:
    """Whatever has arrived (at least a byte), not a full buffer's worth:
    a key typed must reach the terminal at once."""
    read1 = getattr(rfile, "read1", None)
    return read1(65536) if read1 is not None else rfile.read(1)
