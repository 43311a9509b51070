"""Pull and push through the daemon, with Docker's live progress stream.

``docker pull`` draws one bar per layer from what the daemon streams while
the transfer runs: JSON messages, one per line, such as

    {"status": "Downloading", "progressDetail": {"current": 524288, "total": 2150000}, "id": "a1b2c3d4e5f6"}
    {"status": "Pull complete", "progressDetail": {}, "id": "a1b2c3d4e5f6"}

The registry client (``core/registry``) reports progress to a "bars" object
(``add``/``advance``/``finish``); here that object turns it into those
messages.  The transfer runs on its own thread and the response streams
them as they come.  An error before any layer moved is an HTTP status (404
unknown image, 401 denied ...); once bytes flow, the status line is gone, so
-- as dockerd does -- the error is a last message ``{"error": ...}``.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator

from stepbox.core.http_server.messages import Request, Response, StreamResponse
from stepbox.core.registry.client import RegistryClient
from stepbox.core.registry.credentials import Credentials
from stepbox.core.registry.errors import RegistryClientError, RegistryError

from . import registry_auth
from .engine import Engine
from .errors import ApiError, BadParameter

_DONE = object()


class _Failed:
    def __init__(self, error: ApiError):
        self.error = error


def json_line(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


class JsonProgress:
    """The registry client's progress bars, as Docker's progress messages."""

    drawing = True  # the client then leaves "Pull complete" lines to finish()
    STEP = 1 / 50  # a message per 2% of a layer, not per network read

    def __init__(self, emit: Callable[[dict], None]):
        self.emit = emit
        self.tasks: list[list] = []  # [id, status, total, current, current when last told]

    def add(self, label: str, total: int | None) -> int:
        layer, _, status = label.partition(": ")  # "a1b2c3d4e5f6: Downloading"
        self.tasks.append([layer, status, total or 0, 0, 0])
        self.emit({"status": status, "progressDetail": {"current": 0, "total": total or 0}, "id": layer})
        return len(self.tasks) - 1

    def advance(self, task: int, amount: int) -> None:
        entry = self.tasks[task]
        entry[3] += amount
        layer, status, total, current, told = entry
        if not total or current - told >= total * self.STEP or current >= total:
            entry[4] = current
            self.emit({"status": status, "progressDetail": {"current": current, "total": total}, "id": layer})

    def finish(self, task: int, label: str) -> None:
        layer, _, status = label.partition(": ")
        self.emit({"status": status, "progressDetail": {}, "id": layer})


def registry_client(engine: Engine, req: Request, say: Callable[[str], None], progress):
    """core/registry's client with the credentials the request brought
    (X-Registry-Auth) and the daemon's insecure registries."""
    try:
        auth = registry_auth.decode(req.headers.get(registry_auth.HEADER))
    except ValueError as e:
        raise BadParameter(str(e)) from None
    return RegistryClient(
        engine.images,
        insecure=list(engine.insecure_registries),
        say=say,
        progress=progress,
        credentials=Credentials(*auth) if auth else None,
    )


def as_api_error(verb: str, ref: str, e: Exception) -> ApiError:
    """A registry's refusal keeps its status (404 unknown manifest, 401
    denied ...); an unreachable registry is 500 with the reason, like dockerd's."""
    if isinstance(e, ApiError):
        return e
    if isinstance(e, RegistryError):
        return ApiError(f"{verb} {ref}: {e}", e.status if e.status and e.status < 500 else 500)
    if isinstance(e, RegistryClientError):
        return ApiError(f"{verb} {ref}: {e}", getattr(e, "status", None) or 500)
    if isinstance(e, OSError):
        return ApiError(f"{verb} {ref}: cannot reach the registry: {e}", 500)
    return ApiError(f"{verb} {ref}: {type(e).__name__}: {e}", 500)


def stream_transfer(
    engine: Engine, req: Request, verb: str, ref: str, after: Callable[[], None] = lambda: None
):
    """Run ``client.pull(ref)`` or ``client.push(ref)`` and answer with its
    progress stream; ``after`` runs once it succeeded (an event, say)."""
    messages: queue.Queue = queue.Queue()
    client = registry_client(
        engine, req, say=lambda line: messages.put({"status": line}), progress=JsonProgress(messages.put)
    )

    def work() -> None:
        try:
            getattr(client, verb)(ref)
            after()
            messages.put(_DONE)
        except Exception as e:  # reported in the stream, not lost on a thread
            messages.put(_Failed(as_api_error(verb, ref, e)))

    threading.Thread(target=work, name=f"{verb} {ref}", daemon=True).start()
    # Until a layer starts moving, an error can still be the response's status.
    early: list[dict] = []
    while True:
        item = messages.get()
        if item is _DONE:
            return Response(200, b"".join(json_line(m) for m in early))
        if isinstance(item, _Failed):
            raise item.error
        early.append(item)
        if "progressDetail" in item:
            break
    return StreamResponse(_rest(early, messages))


def _rest(early: list[dict], messages: queue.Queue) -> Iterator[bytes]:
    for message in early:
        yield json_line(message)
    while True:
        item = messages.get()
        if item is _DONE:
            return
        if isinstance(item, _Failed):
            text = str(item.error)
            yield json_line({"errorDetail": {"message": text}, "error": text})
            return
        yield json_line(item)
