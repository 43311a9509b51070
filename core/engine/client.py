"""A small client for the Engine API -- what a CLI does.

Every ``docker`` command is a few HTTP requests.  :class:`EngineClient`
sends them the same way and keeps a **request log**, so a notebook can show
exactly what crossed the socket::

    client = EngineClient("/run/stepbox/stepbox.sock")   # or "tcp://…", "ssh://…" (endpoints.py)
    cid = client.create({"Image": "busybox", "Cmd": ["echo", "hi"]})
    output = client.run_attached(cid)         # attach, wait, start -- like `docker run`
    for line in client.log: print(line)
    # HEAD /_ping -> 200
    # POST /v1.44/containers/create -> 201
    # POST /v1.44/containers/4f2c…/attach?stream=1&stdout=1&stderr=1 -> 101
    # ...
"""

from __future__ import annotations

import json
import socket
from _thread import allocate_lock
from collections.abc import Iterator
from contextlib import contextmanager

from stepbox.core.http_server.headers import Headers

from . import API_VERSION
from .endpoints import Endpoint, UnixEndpoint, endpoint_of
from .streams import read_frames
from .url_parts import query_string, quote
from .wire import BodyReader, read_head


class EngineError(Exception):
    """The daemon answered with an error status and ``{"message": …}``."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


# Plain classes rather than dataclasses: every `stepbox` command imports
# this module, and the dataclasses machinery alone costs it milliseconds.


class LoggedRequest:
    def __init__(self, method: str, path: str, status: int, request_body: bytes = b""):
        self.method, self.path, self.status, self.request_body = method, path, status, request_body

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"

    __repr__ = __str__


class Reply:
    def __init__(self, status: int, headers: Headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body) if self.body.strip() else None


class StreamedReply:
    def __init__(self, status: int, headers: Headers, body: BodyReader):
        self.status, self.headers = status, headers
        self.body = body  # read it while the daemon still sends


class EngineClient:
    def __init__(self, endpoint: str | Endpoint, version: str = API_VERSION, timeout: float | None = 300.0):
        """``endpoint``: a socket path, a ``unix://``, ``tcp://`` or ``ssh://``
        address, or an Endpoint (a tcp one carrying its TLS context)."""
        self.endpoint = endpoint_of(endpoint) if isinstance(endpoint, str) else endpoint
        # The socket file, for a local daemon ("" for tcp:// and ssh://).
        self.socket_path = self.endpoint.path if isinstance(self.endpoint, UnixEndpoint) else ""
        self.version = version
        self.timeout = timeout
        self.log: list[LoggedRequest] = []
        self._lock = allocate_lock()  # threading.Lock itself: threading's import costs every command

    def __repr__(self) -> str:
        return f"EngineClient({str(self.endpoint)!r})"

    # -- the wire --------------------------------------------------------------------
    def _connect(self) -> socket.socket:
        return self.endpoint.connect(self.timeout)

    def _path(self, path: str, query: dict | None) -> str:
        full = path if path == "/_ping" else f"/v{self.version}{path}"
        pairs = [(k, v) for k, v in (query or {}).items() if v is not None]
        if pairs:
            full += "?" + query_string([(k, str(v).lower() if isinstance(v, bool) else v) for k, v in pairs])
        return full

    def _send_head(
        self, sock: socket.socket, method: str, path: str, body: bytes | None, headers: dict | None
    ) -> None:
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json" if body is not None else None)
        lines = [f"{method} {path} HTTP/1.1", "Host: docker", "User-Agent: stepbox-client"]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))

    @staticmethod
    def _send_chunks(sock: socket.socket, upload) -> None:
        """``upload`` (a binary file) as a chunked body: its size need not be
        known (``docker load`` reading a pipe)."""
        while chunk := upload.read(1 << 20):
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        sock.sendall(b"0\r\n\r\n")

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        body=None,
        raw_body: bytes | None = None,
        upload=None,
        headers: dict | None = None,
        ok=(200, 201, 204, 304),
    ):
        """One request on its own connection, its answer read while it
        arrives: yields a :class:`StreamedReply` whose ``body`` is a file
        (``logs -f``, ``export``, build progress).  ``upload`` is a binary
        file sent as the request body.  Raises EngineError unless the status
        is in ``ok``."""
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        full = self._path(path, query)
        extra = {**(headers or {}), "Connection": "close"}
        with self._connect() as sock:
            try:
                if upload is not None:
                    extra.setdefault("Content-Type", "application/x-tar")
                    self._send_head(sock, method, full, None, {**extra, "Transfer-Encoding": "chunked"})
                    self._send_chunks(sock, upload)
                else:
                    self._send_head(sock, method, full, data, extra)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the daemon refused before reading it all: its answer says why
            rfile = sock.makefile("rb")
            head = read_head(rfile)
            if head is None:
                raise ConnectionError("the daemon closed the connection without answering")
            status_line, response_headers = head
            status = int(status_line.split(" ")[1])
            self._record(LoggedRequest(method, full, status, data or b""))
            body_reader = BodyReader(
                rfile, response_headers if method != "HEAD" else Headers(), until_close=method != "HEAD"
            )
            if status not in ok:
                raise _error(status, body_reader.read())
            yield StreamedReply(status, response_headers, body_reader)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        body=None,
        raw_body: bytes | None = None,
        headers: dict | None = None,
        ok=(200, 201, 204, 304),
    ) -> Reply:
        """One request on its own connection, its whole answer read; raises
        EngineError unless the status is in ``ok``."""
        with self.stream(
            method, path, query=query, body=body, raw_body=raw_body, headers=headers, ok=ok
        ) as reply:
            return Reply(reply.status, reply.headers, reply.body.read())

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def upgrade(self, method: str, path: str, *, query: dict | None = None, body=None):
        """A request answered with ``101 UPGRADED``: the raw socket's reader,
        positioned after the head, and the socket."""
        data = json.dumps(body).encode() if body is not None else b""
        full = self._path(path, query)
        sock = self._connect()
        self._send_head(sock, method, full, data, {"Connection": "Upgrade", "Upgrade": "tcp"})
        rfile = sock.makefile("rb")
        head = read_head(rfile)
        status = int(head[0].split(" ")[1]) if head else 0
        self._record(LoggedRequest(method, full, status, data))
        if status != 101:
            content = BodyReader(rfile, head[1], until_close=True).read() if head else b""
            sock.close()
            raise _error(status, content)
        return rfile, sock

    # -- verbs -----------------------------------------------------------------------
    def ping(self) -> str | None:
        return self.request("HEAD", "/_ping").headers.get("Api-Version")

    def create(self, config: dict, name: str | None = None) -> str:
        return self.request("POST", "/containers/create", query={"name": name}, body=config).json()["Id"]

    def start(self, cid: str) -> None:
        self.request("POST", f"/containers/{cid}/start")

    def wait(self, cid: str, condition: str = "not-running") -> int:
        return self.request("POST", f"/containers/{cid}/wait", query={"condition": condition}).json()[
            "StatusCode"
        ]

    def inspect(self, cid: str) -> dict:
        return self.request("GET", f"/containers/{cid}/json").json()

    def remove(self, cid: str, force: bool = False) -> None:
        self.request("DELETE", f"/containers/{cid}", query={"force": force})

    def containers(self, all_: bool = False) -> list[dict]:
        return self.request("GET", "/containers/json", query={"all": all_}).json()

    def images(self) -> list[dict]:
        return self.request("GET", "/images/json").json()

    def image(self, name: str) -> dict:
        return self.request("GET", f"/images/{quote(name, safe='/:@')}/json").json()

    def logs(self, cid: str, stdout: bool = True, stderr: bool = True) -> tuple[bytes, bytes]:
        body = self.request("GET", f"/containers/{cid}/logs", query={"stdout": stdout, "stderr": stderr}).body
        return _demux(iter([body]))

    def exec(self, cid: str, cmd: list[str]) -> tuple[int, bytes, bytes]:
        """``docker exec``: create, start (upgraded), then read ExitCode."""
        exec_id = self.request(
            "POST", f"/containers/{cid}/exec", body={"Cmd": cmd, "AttachStdout": True, "AttachStderr": True}
        ).json()["Id"]
        rfile, sock = self.upgrade("POST", f"/exec/{exec_id}/start", body={"Detach": False, "Tty": False})
        with sock:
            out, err = _collect(rfile)
        code = self.request("GET", f"/exec/{exec_id}/json").json()["ExitCode"]
        return code, out, err

    def run_attached(self, cid: str, auto_remove: bool = False) -> tuple[int, bytes, bytes]:
        """What ``docker run`` does after create: attach, wait, start; then
        read the stream to its end and the exit code."""
        rfile, sock = self.upgrade(
            "POST", f"/containers/{cid}/attach", query={"stream": 1, "stdout": 1, "stderr": 1}
        )
        # The wait request's head must arrive before start: from then on the
        # daemon is watching for the exit, so it cannot be missed.
        full = self._path(f"/containers/{cid}/wait", {"condition": "removed" if auto_remove else "next-exit"})
        with self._connect() as wait_sock:
            self._send_head(wait_sock, "POST", full, None, {"Connection": "close"})
            wait_file = wait_sock.makefile("rb")
            head = read_head(wait_file)
            if head is None:
                raise ConnectionError(f"the daemon closed the connection without answering POST {full}")
            status_line, headers = head
            self._record(LoggedRequest("POST", full, int(status_line.split(" ")[1])))
            self.start(cid)
            with sock:
                out, err = _collect(rfile)
            code = json.loads(BodyReader(wait_file, headers, until_close=True).read())["StatusCode"]
        return code, out, err


def _error(status: int, content: bytes) -> EngineError:
    """Docker's error body is ``{"message": …}``; anything else is shown as is."""
    try:
        message = json.loads(content)["message"]
    except (ValueError, KeyError, TypeError):
        message = content.decode(errors="replace")
    return EngineError(status, message)


def json_messages(body) -> Iterator[dict]:
    """A progress stream (pull, push, build, load): one JSON object a line,
    each yielded as soon as its line is complete."""
    pending = b""
    while chunk := body.read(65536):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)
    if pending.strip():
        yield json.loads(pending)


def _collect(rfile) -> tuple[bytes, bytes]:
    out: list[bytes] = []
    err: list[bytes] = []
    for stream, data in read_frames(rfile.read):
        (out if stream == 1 else err).append(data)
    return b"".join(out), b"".join(err)


def _demux(chunks) -> tuple[bytes, bytes]:
    import io

    return _collect(io.BytesIO(b"".join(chunks)))
