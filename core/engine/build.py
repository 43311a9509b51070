"""``POST /build``: the classic builder behind the API.

``docker build DIR`` (with ``DOCKER_BUILDKIT=0``, or against a daemon that
answers ``Builder-Version: 1`` to ``/_ping``) tars DIR -- minus
``.dockerignore`` -- and sends it as the request body, chunked; options come
in the query (``t``, ``dockerfile``, ``buildargs``, ``nocache``, ``target``).
The answer is a stream of JSON lines the CLI prints as they come::

    {"stream": "Step 1/2 : FROM busybox\\n"}
    {"stream": " ---> b173b9d02923\\n"}
    {"aux": {"ID": "sha256:…"}}
    {"stream": "Successfully built 5e2d…\\n"}

A failed build is still a 200 (the head went out long ago): the last line is
``{"error": …, "errorDetail": {"message": …}}`` and the CLI exits 1.

A build holds no lock of its own.  Its RUN steps create, start and remove
containers through the same Runtime, each verb holding that container's
lock as the engine's verbs do, and the wait for the command holding none
(:class:`_BuildRuntime`): ``RUN sleep 60`` stops neither ``ps`` nor
``inspect`` nor anyone else's containers; the images it reads and the
layers it unpacks are locked as any create's are.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import tarfile
import tempfile
import threading

from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.record import ContainerRecord
from stepbox.core.dockerfile.builder import Builder, BuildOptions
from stepbox.core.dockerfile.cache import BuildCache
from stepbox.core.dockerfile.context_tar import UnsafeContext, extract_context
from stepbox.core.dockerfile.errors import BuildError, RunFailed
from stepbox.core.http_server.messages import Request, StreamResponse
from stepbox.core.image.incoming import CHUNK, Incoming

from .engine import ContainerNotes, Engine
from .errors import BadParameter, Unsupported

_DONE = object()
log = logging.getLogger("stepbox.engine")


def _line(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def unpack_context(body, into: str) -> None:
    """The context tar (maybe compressed) into the directory ``into``, checked
    as layers are: nothing outside it, no devices (see
    :mod:`stepbox.core.dockerfile.context_tar`).  The body goes piece by
    piece to a nameless file beside ``into`` first (the tar may be
    compressed; a context is never held in memory), deleted once unpacked."""
    from stepbox.core.image.incoming import TooLarge, max_upload_bytes

    limit = max_upload_bytes()
    with tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(into))) as spooled:
        received = 0
        while piece := body.read(CHUNK):
            received += len(piece)
            if received > limit:
                raise TooLarge(f"the build context is larger than the limit of {limit} bytes")
            spooled.write(piece)
        spooled.seek(0)
        try:
            with tarfile.open(fileobj=spooled, mode="r:*") as archive:
                extract_context(archive, into, limit)
        except UnsafeContext as e:
            raise BadParameter(f"the build context cannot be unpacked: {e}") from None
        except (tarfile.TarError, OSError, EOFError) as e:
            raise BadParameter(f"the build context is not a valid tar archive: {e}") from None


class _BuildRuntime:
    """The Runtime, for a build's RUN containers (core/dockerfile/running.py):
    created through the engine (a name of its own, its record held while
    its steps run), each later verb under the container's lock, and the
    wait for the command under none.  The build records the exit itself
    (no exit monitor watches these containers); the rest is the Runtime's."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._runtime = engine.runtime

    def __getattr__(self, name: str):
        return getattr(self._runtime, name)  # kernel, images, logs: no lock needed

    def _held(self, record: ContainerRecord):
        return self._engine.watch(record.id).lock

    def create(self, config: ContainerConfig) -> ContainerRecord:
        return self._engine.create(config, None, ContainerNotes())

    def start(self, record: ContainerRecord) -> None:
        with self._held(record):
            self._runtime.start(record)

    def wait(self, record: ContainerRecord) -> int:
        handle = self._runtime.context(record).handle
        if handle is not None:
            self._engine.wait_process(handle)  # RUN sleep 60: a minute, holding nothing
        with self._held(record):
            return self._runtime.wait(record)  # ended: the exit phase records it at once

    def refresh(self, record: ContainerRecord) -> ContainerRecord:
        with self._held(record):
            return self._runtime.refresh(record)

    def remove(self, record: ContainerRecord, force: bool = False) -> None:
        with self._held(record):
            self._runtime.remove(record, force)


class BuildEndpoint:
    def __init__(self, engine: Engine):
        self.engine = engine
        # One for the daemon's life: opening it sweeps what an interrupted
        # write left, which must not happen while another build writes.
        self.cache = BuildCache(os.path.join(engine.root, "build-cache"))

    def __call__(self, req: Request) -> StreamResponse:
        if req.arg("remote"):
            raise Unsupported("building from a remote URL is not supported: send the context as the body")
        try:
            build_args = json.loads(req.arg("buildargs") or "{}")
        except json.JSONDecodeError as e:
            raise BadParameter(f"invalid buildargs: {e}") from None
        if not isinstance(build_args, dict):
            raise BadParameter("invalid buildargs: expected a JSON object")
        # In the image store's scratch space (on the state directory's disk,
        # swept at the next start if the daemon dies meanwhile), not /tmp.
        scratch = Incoming(self.engine.images.root)
        context = os.path.join(scratch.directory, "context")
        try:
            os.mkdir(context, 0o700)
            unpack_context(req.body, context)
        except BaseException:
            scratch.close()
            raise
        dockerfile = req.arg("dockerfile") or "Dockerfile"
        dockerfile_path = os.path.normpath(os.path.join(context, dockerfile))
        if not dockerfile_path.startswith(context + os.sep):
            scratch.close()
            raise BadParameter(f"the Dockerfile ({dockerfile}) must be within the build context")
        options = BuildOptions(
            context_dir=context,
            dockerfile=dockerfile_path,
            tags=tuple(req.args("t")),
            build_args={str(k): (None if v is None else str(v)) for k, v in build_args.items()},
            no_cache=req.flag("nocache"),
            target=req.arg("target") or None,
        )
        messages: queue.Queue = queue.Queue()
        engine = self.engine

        def build() -> None:
            try:
                builder = Builder(
                    engine.images,
                    _BuildRuntime(engine),
                    self.cache,
                    out=lambda text: messages.put({"stream": text + "\n"}),
                )
                result = builder.build(options)
                messages.put({"aux": {"ID": result.image_id}})
                engine.events.publish("image", "build", result.image_id, {})
            except RunFailed as e:
                # The RUN's output went out with its step; dockerd, too, ends
                # with the summary alone, and the command's status as "code".
                messages.put({"error": e.summary, "errorDetail": {"code": e.exit_code, "message": e.summary}})
            except BuildError as e:
                messages.put({"error": str(e), "errorDetail": {"message": str(e)}})
            except Exception:  # a fault: logged in full, the client told where
                reference = secrets.token_hex(6)
                log.exception("build failed (reference %s)", reference)
                text = f"internal error in the stepbox daemon (reference {reference}: see its log)"
                messages.put({"error": text, "errorDetail": {"message": text}})
            finally:
                scratch.close()
                messages.put(_DONE)

        threading.Thread(target=build, name="build", daemon=True).start()

        def body():
            while (message := messages.get()) is not _DONE:
                yield _line(message)

        return StreamResponse(body())
