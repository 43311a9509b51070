"""The container's input, carried by its shim: stdin pipe, terminal, window size.

``docker run -i`` keeps the container's stdin open, ``-t`` gives it a
terminal.  Either way something must hold the other end for as long as the
container runs -- longer than a daemon, which may restart meanwhile.  As
with containerd-shim, that is the shim: it holds the write end of the
stdin pipe, or the master of the pseudo-terminal, and listens on a UNIX
socket in the run directory (``io.sock``) for what the engine sends:

* ``i`` + bytes -- write them to stdin (type them, on a terminal);
* ``c``         -- close stdin: the process reads end-of-file;
* ``r`` + rows, columns -- resize the terminal (the job gets SIGWINCH).

The socket is ``SOCK_SEQPACKET``: each message arrives whole, so no framing
is needed.  Input waits in a buffer until the pipe or terminal takes it; while
a buffer is full the shim stops reading the socket, and the engine's send
blocks -- back-pressure all the way to the client typing (or piping a file).

The terminal's master arrives from inside the container over the *console
socket* (see :mod:`.terminal`): only PID 1 can open the container's
``/dev/pts/ptmx``, after its mounts.  Its output is copied to the stdout log
by the shim's :class:`~.shim.StreamRelay` like any pipe.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from .terminal import receive_fd, set_window

IO_SOCKET = "io.sock"
MAX_MESSAGE = 32 * 1024  # bytes of input in one message
BUFFER_LIMIT = 256 * 1024  # input held while the process does not read
_WINDOW = struct.Struct("HH")


def bind_io_socket(run_dir: str) -> socket.socket:
    """Listen on RUN_DIR/io.sock (0600: only root may write to a container's stdin)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    old = os.umask(0o177)
    try:
        sock.bind(_short_path(run_dir, IO_SOCKET))
    finally:
        os.umask(old)
    sock.listen(16)
    sock.setblocking(False)
    return sock


def connect_io_socket(run_dir: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        sock.connect(_short_path(run_dir, IO_SOCKET))
    except BaseException:
        sock.close()
        raise
    return sock


def _short_path(directory: str, name: str) -> str:
    """A UNIX socket's path must fit in 108 bytes; a deep state directory's
    would not.  /proc/self/fd/N/NAME reaches the same file by a short path
    (the fd is opened here and stays open for the process: a few bytes)."""
    path = os.path.join(directory, name)
    if len(path.encode()) < 100:
        return path
    fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{fd}/{name}"


def input_message(data: bytes) -> list[bytes]:
    return [b"i" + data[i : i + MAX_MESSAGE] for i in range(0, len(data), MAX_MESSAGE)] or []


CLOSE_MESSAGE = b"c"


def resize_message(rows: int, columns: int) -> bytes:
    return b"r" + _WINDOW.pack(max(0, min(rows, 0xFFFF)), max(0, min(columns, 0xFFFF)))


class InputHub:
    """The shim's side: the io socket, its clients, and the sink they write to.

    ``sink`` is the write end of the stdin pipe, or the terminal's master
    (None until it arrives on the console socket).  ``on_master`` is told
    when the master arrives, to copy its output to the log."""

    def __init__(
        self, listener: socket.socket | None, sink: int | None, console: socket.socket | None, on_master
    ):
        self.listener = listener
        self.sink = sink
        self.console = console
        self.on_master = on_master
        self.clients: list[socket.socket] = []
        self.pending = bytearray()
        self.closing = False  # close the sink once the pending input is written
        self.is_terminal = console is not None
        self.window: tuple[int, int] | None = None

    # -- what to wait for ---------------------------------------------------------------
    def readers(self) -> list:
        fds: list = []
        if self.listener is not None:
            fds.append(self.listener)
        if self.console is not None:
            fds.append(self.console)
        if len(self.pending) < BUFFER_LIMIT:
            fds += self.clients
        return fds

    def writers(self) -> list[int]:
        return [self.sink] if self.sink is not None and self.pending else []

    def owns(self, obj) -> bool:
        return obj is self.listener or obj is self.console or obj in self.clients

    # -- events ---------------------------------------------------------------------------
    def readable(self, obj) -> None:
        if obj is self.listener:
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            client.setblocking(False)
            self.clients.append(client)
        elif obj is self.console:
            self._receive_master()
        else:
            self._serve(obj)

    def writable(self, fd: int) -> None:
        self._flush()

    def _receive_master(self) -> None:
        assert self.console is not None
        try:
            master = receive_fd(self.console)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            master = None
        self.console.close()
        self.console = None
        if master is None:
            return  # PID 1 ended before it made its terminal
        os.set_blocking(master, False)
        self.sink = master
        if self.window:
            set_window(master, *self.window)
        self.on_master(os.dup(master))  # the relay closes its copy at the end of output
        self._flush()

    def _serve(self, client: socket.socket) -> None:
        while len(self.pending) < BUFFER_LIMIT:
            try:
                message = client.recv(MAX_MESSAGE + 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                message = b""
            if not message:
                self.clients.remove(client)
                client.close()
                return
            kind, body = message[:1], message[1:]
            if kind == b"i" and not self.closing:
                self.pending += body
            elif kind == b"c":
                self.closing = not self.is_terminal  # a terminal has no end of input
            elif kind == b"r" and len(body) == _WINDOW.size:
                self.window = _WINDOW.unpack(body)
                if self.is_terminal and self.sink is not None:
                    try:
                        set_window(self.sink, *self.window)
                    except OSError:
                        pass
        self._flush()

    def _flush(self) -> None:
        if self.sink is None:
            return
        while self.pending:
            try:
                written = os.write(self.sink, self.pending[:65536])
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno not in (errno.EPIPE, errno.EIO, errno.EBADF):
                    raise
                self.pending.clear()  # nobody reads any more: drop it, as a closed pipe would
                break
            del self.pending[:written]
        if self.closing and not self.is_terminal:
            os.close(self.sink)
            self.sink = None

    def close(self, run_dir: str) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()
        for sock in (self.listener, self.console):
            if sock is not None:
                sock.close()
        self.listener = self.console = None
        if self.sink is not None:
            try:
                os.close(self.sink)
            except OSError:
                pass
            self.sink = None
        try:
            os.unlink(os.path.join(run_dir, IO_SOCKET))
        except OSError:
            pass
