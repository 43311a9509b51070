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

The build runs under the engine lock -- its RUN steps create, start and
remove containers through the same Runtime -- except while a RUN's command
runs: then it lets go (:class:`_LetGoWhileRunning`), so ``RUN sleep 60``
does not stop ``ps``, ``inspect`` or anyone else's containers for a minute.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import shutil
import tarfile
import tempfile
import threading

from stepbox.core.dockerfile.builder import Builder, BuildOptions
from stepbox.core.dockerfile.cache import BuildCache
from stepbox.core.dockerfile.context_tar import UnsafeContext, extract_context
from stepbox.core.dockerfile.errors import BuildError, RunFailed
from stepbox.core.http_server.messages import Request, StreamResponse

from .engine import Engine
from .errors import BadParameter, Unsupported

_DONE = object()
log = logging.getLogger("stepbox.engine")


def _line(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def unpack_context(body, into: str) -> None:
    """The context tar (maybe compressed) into ``into``, checked as layers are:
    nothing outside it, no devices (see :mod:`stepbox.core.dockerfile.context_tar`)."""
    from stepbox.core.image.incoming import max_upload_bytes

    from .images import spool

    try:
        with tarfile.open(fileobj=spool(body), mode="r:*") as archive:
            extract_context(archive, into, max_upload_bytes())
    except UnsafeContext as e:
        raise BadParameter(f"the build context cannot be unpacked: {e}") from None
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BadParameter(f"the build context is not a valid tar archive: {e}") from None


class _LetGoWhileRunning:
    """The Runtime, for a build: its ``wait`` (a RUN's command running) lets
    go of the engine lock until the process has ended, then records the
    exit as usual; everything else is the Runtime's own."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._runtime = engine.runtime

    def __getattr__(self, name: str):
        return getattr(self._runtime, name)

    def wait(self, record) -> int:
        handle = self._runtime.context(record).handle
        if handle is not None:
            self._engine.wait_letting_go(handle)
        return self._runtime.wait(record)  # ended: the exit phase records it at once


class BuildEndpoint:
    def __init__(self, engine: Engine):
        self.engine = engine

    def __call__(self, req: Request) -> StreamResponse:
        if req.arg("remote"):
            raise Unsupported("building from a remote URL is not supported: send the context as the body")
        try:
            build_args = json.loads(req.arg("buildargs") or "{}")
        except json.JSONDecodeError as e:
            raise BadParameter(f"invalid buildargs: {e}") from None
        if not isinstance(build_args, dict):
            raise BadParameter("invalid buildargs: expected a JSON object")
        context = tempfile.mkdtemp(prefix="stepbox-build-context-")
        try:
            unpack_context(req.body, context)
        except BaseException:
            shutil.rmtree(context, ignore_errors=True)
            raise
        dockerfile = req.arg("dockerfile") or "Dockerfile"
        dockerfile_path = os.path.normpath(os.path.join(context, dockerfile))
        if not dockerfile_path.startswith(context + os.sep):
            shutil.rmtree(context, ignore_errors=True)
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
                    _LetGoWhileRunning(engine),
                    BuildCache(os.path.join(engine.root, "build-cache")),
                    out=lambda text: messages.put({"stream": text + "\n"}),
                )
                with engine.lock:
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
                shutil.rmtree(context, ignore_errors=True)
                messages.put(_DONE)

        threading.Thread(target=build, name="build", daemon=True).start()

        def body():
            while (message := messages.get()) is not _DONE:
                yield _line(message)

        return StreamResponse(body())
