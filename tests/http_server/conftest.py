"""An HTTPServer in this process with a small application, and raw bytes to it.

The application has one endpoint per behaviour the server must get right:
reading a body (``/echo``), a fault (``/fail``), a streamed answer
(``/stream``), a long poll (``/slow``), an upgraded connection that echoes
(``/upgrade``), a bad query value (``/int?n=``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time

import pytest
from stepbox.core.http_server.limits import DEFAULT_LIMITS, Limits
from stepbox.core.http_server.listeners import Address
from stepbox.core.http_server.messages import Request, Response, StreamResponse, UpgradeResponse
from stepbox.core.http_server.server import HTTPServer


def app(request: Request):
    if request.path == "/echo":
        data = request.body.read()
        return Response.json({"length": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    if request.path == "/fail":
        raise RuntimeError("a secret detail of the server's insides")
    if request.path == "/stream":
        return StreamResponse(iter([b"one ", b"two ", b"three"]), content_type="text/plain")
    if request.path == "/slow":

        def late():
            time.sleep(0.3)
            yield b"late"

        return StreamResponse(late(), content_type="text/plain")
    if request.path == "/int":
        return Response.json({"n": request.int_arg("n")})
    if request.path == "/upgrade":

        def echo(rfile, wfile):
            while data := rfile.read1(65536):
                wfile.write(data.upper())
                wfile.flush()

        return UpgradeResponse(echo)
    return Response.json({"method": request.method, "path": request.path})


class _Keep(logging.Handler):
    """Keeps the server's log records for the tests to read."""

    def __init__(self, records: list[logging.LogRecord]):
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Served:
    def __init__(self, limits: Limits, directory: str, listeners=None):
        self.path = os.path.join(directory, "http.sock")
        self.log = logging.getLogger(f"test.http.{id(self)}")
        self.records: list[logging.LogRecord] = []
        self.log.addHandler(_Keep(self.records))
        self.log.setLevel(logging.INFO)
        self.server = HTTPServer(
            app,
            listeners or [(Address("unix", path=self.path), None)],
            limits=limits,
            logger=self.log,
            name="test server",
        )
        self.thread = self.server.serve_in_thread()

    def connect(self, timeout: float = 10) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(self.path)
        return sock

    def raw(self, data: bytes, timeout: float = 10, half_close: bool = True) -> bytes:
        """Send ``data``, say we are done (half-close), read until the server closes."""
        with self.connect(timeout) as sock:
            try:
                sock.sendall(data)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server answered and closed before the end
            return read_all(sock)

    def logged(self) -> str:
        return "\n".join(
            r.getMessage() + ("\n" + logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
            for r in self.records
        )


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return b"".join(chunks)


def statuses(data: bytes) -> list[int]:
    """The status of every response in ``data`` (a keep-alive conversation;
    the test application's bodies never contain a status line)."""
    return [int(code) for code in re.findall(rb"(?:^|\n)HTTP/1\.[01] (\d{3}) ", data)]


def body_json(data: bytes):
    return json.loads(data.partition(b"\r\n\r\n")[2])


@pytest.fixture
def serve():
    """``serve(Limits(...))`` -> a running Served; all closed at the end."""
    started: list[Served] = []
    directory = tempfile.mkdtemp(prefix="sbx-http-")  # short: a UNIX socket path

    def start(limits: Limits = DEFAULT_LIMITS, listeners=None) -> Served:
        served = Served(limits, directory, listeners)
        started.append(served)
        return served

    yield start
    for served in started:
        served.server.close()
        served.thread.join(5)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server(serve):
    return serve(Limits(head_timeout=2, body_timeout=2, idle_timeout=5))


def count_threads(prefix: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(prefix))
