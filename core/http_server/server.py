"""Listening on several addresses, serving each connection on its own thread.

One thread accepts on every listener (a ``selectors`` loop, so ``close`` can
wake it); each accepted connection gets a thread of its own (one that
served an earlier connection, if one is idle: workers.py), up to
``Limits.max_connections`` at once.  Past the cap the accept loop simply
waits for a connection to end: new ones queue in the kernel's listen
backlog instead of being refused, so 50 ``docker run`` started together
(two long-lived connections each) are all served, in turn if need be.

A TLS handshake happens on the connection's thread, under the head timeout:
a client that connects and says nothing cannot stall the accept loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import ssl
import threading
from collections.abc import Iterable

from .connection import Connection
from .limits import DEFAULT_LIMITS, Limits
from .listeners import Address, bound_address, open_listener
from .messages import App, ErrorRenderer, docker_error
from .workers import Workers

ACCEPT_RETRY = 0.1  # seconds to wait after running out of file descriptors


class HTTPServer:
    """``app`` served on every ``(address, tls_context)`` of ``listeners``
    (a context of None: plain).  The sockets are bound when it is made, so
    a taken port or a bad path is an error at once, not in a thread."""

    def __init__(
        self,
        app: App,
        listeners: Iterable[tuple[Address, ssl.SSLContext | None]],
        *,
        limits: Limits = DEFAULT_LIMITS,
        render_error: ErrorRenderer = docker_error,
        default_headers: Iterable[tuple[str, str]] = (),
        name: str = "server",
        logger: logging.Logger | None = None,
        unix_mode: int = 0o660,
    ):
        self.app = app
        self.limits = limits
        self.render_error = render_error
        self.default_headers = list(default_headers)
        self.name = name
        self.log = logger or logging.getLogger("stepbox.http")
        self._sockets: list[tuple[socket.socket, Address, ssl.SSLContext | None]] = []
        try:
            for address, context in listeners:
                sock = open_listener(address, unix_mode)
                self._sockets.append((sock, bound_address(address, sock), context))
        except BaseException:
            self.server_close()
            raise
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._workers = Workers(f"{name} http")
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    @property
    def addresses(self) -> list[Address]:
        """Where it listens (with the ports the kernel chose for ``:0``)."""
        return [address for _, address, _ in self._sockets]

    # -- serving -----------------------------------------------------------------------
    def serve_forever(self) -> None:
        self._stopped.clear()
        selector = selectors.DefaultSelector()
        try:
            for sock, address, context in self._sockets:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, (sock, address, context))
            selector.register(self._wake_r, selectors.EVENT_READ, None)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.data is None:
                        return  # woken by shutdown()
                    self._accept(*key.data)
        finally:
            selector.close()
            self._stopped.set()

    def _accept(self, listener: socket.socket, address: Address, context: ssl.SSLContext | None) -> None:
        # Wait for a free slot first: at the cap, connections stay queued in
        # the kernel's backlog until one ends.
        while not self._slots.acquire(timeout=0.5):
            if self._stopping.is_set():
                return
        try:
            sock, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            self._slots.release()
            return
        except OSError as e:  # EMFILE and the like: wait, do not spin
            self._slots.release()
            self.log.warning("accept on %s failed: %s", address, e)
            self._stopping.wait(ACCEPT_RETRY)
            return
        sock.setblocking(True)
        peer_name = "unix" if address.scheme == "unix" else f"{peer[0]}:{peer[1]}"
        self._workers.run(lambda: self._serve_connection(sock, peer_name, context))

    def _serve_connection(self, sock: socket.socket, peer: str, context: ssl.SSLContext | None) -> None:
        try:
            if context is not None:
                sock.settimeout(self.limits.head_timeout)
                try:
                    sock = context.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.log.info("TLS handshake with %s failed: %s", peer, e)
                    sock.close()
                    return
            Connection(sock, self, peer, tls=context is not None).serve()
        except Exception:
            self.log.exception("connection from %s failed", peer)
        finally:
            self._slots.release()

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name=f"{self.name} accept", daemon=True)
        self._stopped.clear()
        thread.start()
        return thread

    # -- stopping ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop accepting (connections being served finish on their own)."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._stopped.wait(10)

    def server_close(self) -> None:
        """Close the listening sockets; remove the UNIX socket files."""
        for sock, address, _ in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
            if address.scheme == "unix":
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(address.path)
        self._sockets = []
        for end in ("_wake_r", "_wake_w"):
            if hasattr(self, end):
                with contextlib.suppress(OSError):
                    getattr(self, end).close()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
