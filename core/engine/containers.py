"""``/containers/...``: the container endpoints.

How ``docker run --rm busybox echo hi`` looks on the wire::

    POST /v1.44/containers/create          -> 201 {"Id": "4f2c…", "Warnings": []}
    POST /v1.44/containers/4f2c…/attach?stream=1&stdout=1&stderr=1
                                           -> 101, then frames: "hi\\n"
    POST /v1.44/containers/4f2c…/wait?condition=removed
                                           -> 200 (head at once) … {"StatusCode": 0}
    POST /v1.44/containers/4f2c…/start     -> 204

The CLI attaches and waits *before* it starts, so it cannot miss the output
or the exit; then it exits with ``StatusCode``.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time

from stepbox.core.container.container_files import opened
from stepbox.core.container.copying import PATH_STAT_HEADER, archive_path, encode_stat, extract_to, stat_path
from stepbox.core.container.errors import Conflict, NoSuchContainer
from stepbox.core.container.record import PAUSED, RUNNING
from stepbox.core.container.users import resolve_user
from stepbox.core.http_server.messages import Request, Response, StreamResponse, UpgradeResponse, written_by
from stepbox.core.kernel import NamespaceKind
from stepbox.core.kernel.log_times import LogTimes

from .attach import InputPump, parse_detach_keys
from .create_body import check_container_name, config_from_body
from .engine import Engine, signal_number
from .errors import BadParameter
from .execs import ExecSessions
from .filters import labels_match, parse_filters, time_filter
from .routes import Router
from .streams import STDERR, STDOUT, LogTail, frames, stamp, timed_lines
from .top import TITLES, ps_ef_rows
from .views import container_inspect, container_summary, unix_time

KIND = {"C": 0, "A": 1, "D": 2}  # FilesystemChange.Kind
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"
HEAD_ALONE_DELAY = 0.05  # seconds; see exec_start
SPOOL_IN_MEMORY = 8 << 20  # docker cp archives bigger than this go to a temp file


class ContainerEndpoints:
    def __init__(self, engine: Engine, execs: ExecSessions):
        self.engine = engine
        self.execs = execs

    def register(self, router: Router) -> None:
        add = router.add
        add("GET", "/containers/json", self.list)
        add("POST", "/containers/create", self.create)
        add("POST", "/containers/prune", self.prune)
        add("GET", "/containers/{id}/json", self.inspect)
        add("POST", "/containers/{id}/start", self.start)
        add("POST", "/containers/{id}/wait", self.wait)
        add("POST", "/containers/{id}/attach", self.attach)
        add("GET", "/containers/{id}/logs", self.logs)
        add("POST", "/containers/{id}/stop", self.stop)
        add("POST", "/containers/{id}/kill", self.kill)
        add("POST", "/containers/{id}/restart", self.restart)
        add("POST", "/containers/{id}/pause", self.pause)
        add("POST", "/containers/{id}/unpause", self.unpause)
        add("POST", "/containers/{id}/resize", self.resize)
        add("DELETE", "/containers/{id}", self.remove)
        add("GET", "/containers/{id}/changes", self.changes)
        add("GET", "/containers/{id}/export", self.export)
        add("HEAD", "/containers/{id}/archive", self.archive_stat)
        add("GET", "/containers/{id}/archive", self.archive_get)
        add("PUT", "/containers/{id}/archive", self.archive_put)
        add("GET", "/containers/{id}/top", self.top)
        add("POST", "/containers/{id}/exec", self.exec_create)
        add("POST", "/exec/{id}/start", self.exec_start)
        add("GET", "/exec/{id}/json", self.exec_inspect)
        add("POST", "/exec/{id}/resize", self.exec_resize)

    # -- reading ---------------------------------------------------------------------
    def list(self, req: Request) -> Response:
        filters = _filters(req)
        records = self.engine.ps(all_=req.flag("all") or bool(filters.get("status")))
        rows = [container_summary(r, self.engine.notes(r).labels) for r in records]
        rows = [row for row in rows if _matches(row, filters)]
        limit = req.int_arg("limit")
        if limit and limit > 0:
            rows = rows[:limit]
        return Response.json(rows)

    def inspect(self, req: Request) -> Response:
        engine = self.engine
        record = engine.get(req.params["id"])
        document = engine.runtime.inspect(record)
        notes = engine.notes(record)
        doc = container_inspect(document, record, notes, self.execs.of_container(record.id))
        if engine.watch(record.id).restarting:  # between an exit and the restart the policy makes
            doc["State"].update({"Status": "restarting", "Restarting": True})
        return Response.json(doc)

    def changes(self, req: Request) -> Response:
        record = self.engine.get(req.params["id"])
        changes = self.engine.runtime.diff(record)
        return Response.json([{"Path": path, "Kind": KIND[kind]} for kind, path in changes] or None)

    def top(self, req: Request) -> Response:
        engine = self.engine
        record = engine.get(req.params["id"])
        if record.state not in (RUNNING, PAUSED):
            raise Conflict(f"Container {record.id} is not running")
        ps_args = (req.arg("ps_args") or "-ef").strip()
        if ps_args != "-ef":
            raise BadParameter(
                f"ps_args {ps_args!r} is not supported by stepbox: top shows the columns of ps -ef"
            )
        pid_ns = engine.kernel.namespaces.of(record.pid).get(NamespaceKind.PID)
        processes = [p for p in engine.kernel.processes.list() if p.namespaces.get("pid") == pid_ns]
        return Response.json({"Titles": TITLES, "Processes": ps_ef_rows(processes)})

    def export(self, req: Request) -> StreamResponse:
        record = self.engine.get(req.params["id"])
        runtime = self.engine.runtime
        # Streamed as it is made, a file's contents a piece at a time: memory
        # holds a few pieces whatever the size of the container's files.
        return StreamResponse(
            written_by(lambda out: runtime.export(record, out)), content_type="application/x-tar"
        )

    # -- docker cp ---------------------------------------------------------------------
    @staticmethod
    def _archive_path(req: Request) -> str:
        path = req.arg("path")
        if not path:
            raise BadParameter("bad parameter: path cannot be empty")
        return path

    def archive_stat(self, req: Request) -> Response:
        """``HEAD``: only the stat header (what ``docker cp`` asks first)."""
        path, engine = self._archive_path(req), self.engine
        with engine.changing(req.params["id"]) as record:
            with opened(engine.kernel, engine.runtime.volumes, record) as files:
                stat = stat_path(files, path, req.params["id"])
        return Response(200, b"", "", {PATH_STAT_HEADER: encode_stat(stat)})

    def archive_get(self, req: Request) -> StreamResponse:
        """``GET``: the path as a tar, made under the lock (the simulated
        kernel is not thread-safe, and the container must not go meanwhile)
        into a spool file, then streamed."""
        path, engine = self._archive_path(req), self.engine
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            with engine.changing(req.params["id"]) as record:
                with opened(engine.kernel, engine.runtime.volumes, record) as files:
                    stat = archive_path(files, path, req.params["id"], spool)
            engine.events.publish("container", "archive-path", record.id, {"name": record.name})
        except BaseException:
            spool.close()
            raise
        spool.seek(0)

        def body():
            with spool:
                while chunk := spool.read(1 << 16):
                    yield chunk

        return StreamResponse(
            body(), content_type="application/x-tar", headers={PATH_STAT_HEADER: encode_stat(stat)}
        )

    def archive_put(self, req: Request) -> Response:
        """``PUT``: a tar extracted into a directory of the container.  The
        upload is spooled first, so a slow client does not hold the lock."""
        path, engine = self._archive_path(req), self.engine
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            while chunk := req.body.read(1 << 16):
                spool.write(chunk)
            spool.seek(0)
            with engine.changing(req.params["id"]) as record:
                owner = (0, 0)
                with opened(engine.kernel, engine.runtime.volumes, record) as files:
                    if req.flag("copyUIDGID") and record.user:
                        # docker cp -a: the files go to the container's --user
                        found = resolve_user(files.rootfs, record.user)
                        owner = (found.uid, found.gid)
                    extract_to(
                        files,
                        path,
                        req.params["id"],
                        spool,
                        owner=owner,
                        no_overwrite_dir_non_dir=req.flag("noOverwriteDirNonDir"),
                    )
        engine.events.publish("container", "extract-to-dir", record.id, {"name": record.name})
        return Response(200, b"", "")

    # -- changing --------------------------------------------------------------------
    def create(self, req: Request) -> Response:
        name = check_container_name(req.arg("name"))
        config, notes = config_from_body(req.json(required=True), api_version=req.api_version or "1.44")
        said: list[str] = []
        record = self.engine.create(config, name, notes, said)
        return Response.json({"Id": record.id, "Warnings": said}, 201)

    def start(self, req: Request) -> Response:
        started = self.engine.start(req.params["id"])
        return Response.empty(204 if started else 304)

    def stop(self, req: Request) -> Response:
        timeout = req.int_arg("t", req.int_arg("timeout"))
        stopped = self.engine.stop(req.params["id"], timeout, _stop_signal(req))
        return Response.empty(204 if stopped else 304)

    def kill(self, req: Request) -> Response:
        self.engine.kill(req.params["id"], signal_number(req.arg("signal") or "SIGKILL"))
        return Response.empty(204)

    def restart(self, req: Request) -> Response:
        self.engine.restart(req.params["id"], req.int_arg("t", req.int_arg("timeout")), _stop_signal(req))
        return Response.empty(204)

    def pause(self, req: Request) -> Response:
        self.engine.pause(req.params["id"])
        return Response.empty(204)

    def unpause(self, req: Request) -> Response:
        self.engine.unpause(req.params["id"])
        return Response.empty(204)

    def resize(self, req: Request) -> Response:
        """``POST /containers/{id}/resize?h=ROWS&w=COLUMNS`` (the CLI sends it
        after start and on every SIGWINCH)."""
        rows, columns = _window(req)
        engine = self.engine
        record = engine.get(req.params["id"])
        if record.state not in (RUNNING, PAUSED):
            raise Conflict(f"Container {record.id} is not running")
        handle = engine.runtime.context(record).handle
        if record.config.tty and handle is not None:
            engine.kernel_call(lambda: handle.resize_terminal(rows, columns))
        return Response(200, b"", "text/plain")

    def exec_resize(self, req: Request) -> Response:
        rows, columns = _window(req)
        self.execs.resize(req.params["id"], rows, columns)
        return Response(200, b"", "text/plain")

    def remove(self, req: Request) -> Response:
        record = self.engine.get(req.params["id"])
        self.engine.remove(record.id, force=req.flag("force"), volumes=req.flag("v"))
        self.execs.forget_container(record.id)
        return Response.empty(204)

    def prune(self, req: Request) -> Response:
        """Stopped containers; ``until`` (created before) and ``label`` /
        ``label!`` narrow it, as with dockerd."""
        filters = parse_filters(req.arg("filters"), ("until", "label", "label!"))
        now = time.time()
        until = [time_filter(v, "until", now) for v in filters.get("until", [])]
        from .system import layer_bytes

        deleted, reclaimed = [], 0
        for record in self.engine.ps(all_=True):
            if record.state in (RUNNING, PAUSED, "created"):
                continue
            if not all(unix_time(record.created) < limit for limit in until):
                continue
            labels = self.engine.notes(record).labels
            if not labels_match(labels, filters.get("label", []), filters.get("label!", [])):
                continue
            try:
                size = layer_bytes(self.engine.kernel.unionfs, record.rw_layer)
                self.engine.remove(record.id)
                deleted.append(record.id)
                reclaimed += size
            except (NoSuchContainer, Conflict):
                pass  # gone or restarted meanwhile
        return Response.json({"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed})

    # -- waiting and streaming ---------------------------------------------------------
    def wait(self, req: Request) -> StreamResponse:
        """The head goes out at once; the body when the condition is met."""
        condition = req.arg("condition") or "not-running"
        if condition not in ("not-running", "next-exit", "removed"):
            raise BadParameter(f"invalid condition: {condition!r} (not-running, next-exit or removed)")
        engine = self.engine
        record, seen = engine.snapshot(req.params["id"])
        watch = engine.watch(record.id)
        running = record.state in (RUNNING, PAUSED)
        code = record.exit_code

        def body():
            nonlocal code
            if condition == "removed":
                engine.wait_until(lambda: watch.removed, cid=record.id)
                code = watch.last_exit_code if watch.exits > seen else code
            elif condition == "next-exit" or running:
                engine.wait_for_exit_after(record.id, seen)
                try:
                    code = engine.get(record.id).exit_code
                except NoSuchContainer:
                    code = watch.last_exit_code
            yield json.dumps({"StatusCode": code}).encode() + b"\n"

        return StreamResponse(body())

    def attach(self, req: Request) -> UpgradeResponse:
        """Stream the container's output until its next exit (a container
        not yet started is waited for: ``docker run`` attaches first), and
        with ``stdin=1`` carry the client's input to it (see :mod:`.attach`)."""
        engine = self.engine
        detach_keys = parse_detach_keys(req.arg("detachKeys"))
        record, seen = engine.snapshot(req.params["id"])
        if record.state == PAUSED:
            raise Conflict(f"container {req.params['id']} is paused, unpause the container before attach")
        config = record.config
        engine.reading(record.id, +1)
        tty = config.tty
        streams = tuple(s for s, flag in ((STDOUT, "stdout"), (STDERR, "stderr")) if req.flag(flag))
        tail = LogTail(record.log_dir, streams)
        if not req.flag("logs"):
            tail.skip_to_end()
        follow = req.flag("stream")
        with_input = req.flag("stdin") and config.open_stdin and follow
        detached = threading.Event()

        def run(rfile, wfile):
            pump = None
            if with_input:
                pump = InputPump(
                    rfile,
                    lambda timeout: engine.process(record.id, timeout),
                    engine.kernel_call,
                    detach_keys=detach_keys if tty else None,
                    close_at_end=config.stdin_once and not tty,
                    on_detach=detached.set,
                    name=f"attach-stdin-{record.short_id}",
                ).start()

            def copy_output():
                for stream, data in tail.read_new():
                    for chunk in frames(stream, data, tty):
                        wfile.write(chunk)
                wfile.flush()

            try:
                while follow and not detached.is_set():
                    ended = engine.wait_for_exit_after(record.id, seen, timeout=0.02 if tty else 0.05)
                    copy_output()
                    if ended:
                        break
                copy_output()
            finally:
                if pump is not None:
                    pump.stop()
                engine.reading(record.id, -1)
                if detached.is_set():
                    engine.container_event(record.id, "detach")

        return UpgradeResponse(
            run, RAW if tty else MULTIPLEXED, abandon=lambda: engine.reading(record.id, -1)
        )

    def logs(self, req: Request) -> StreamResponse:
        """``docker logs``: the log files, from the start or the last ``tail``
        lines, lines between ``since`` and ``until`` (Unix times), each
        stamped with when it was written (``timestamps``); ``follow`` keeps
        reading while the container runs."""
        if req.flag("details"):
            raise BadParameter(
                "details is not supported by stepbox: it records no log attributes (labels, env)"
            )
        engine = self.engine
        record, seen = engine.snapshot(req.params["id"])
        running = record.state in (RUNNING, PAUSED)
        streams = tuple(s for s, flag in ((STDOUT, "stdout"), (STDERR, "stderr")) if req.flag(flag))
        if not streams:
            raise BadParameter("Bad parameters: you must choose at least one stream")
        count = tail_count(req.arg("tail"))
        stamps = req.flag("timestamps")
        since = _unix_nanos(req.arg("since"))
        until = _unix_nanos(req.arg("until"))
        follow = req.flag("follow") and running
        tail = LogTail(record.log_dir, streams)
        tty = record.config.tty

        def encode(stream: int, lines: list[tuple[int | None, bytes]]):
            picked = [
                (when, line)
                for when, line in lines
                if (not since or (when or 0) >= since) and (not until or (when or 0) <= until)
            ]
            data = b"".join((stamp(when) + b" " if stamps else b"") + line for when, line in picked)
            yield from frames(stream, data, tty)

        def lines_of(stream: int, data: bytes, start: int):
            return timed_lines(data, start, LogTimes.read(tail.path(stream)))

        def body():
            for stream, data, start in tail.read_new_at():
                lines = lines_of(stream, data, start)
                if count is not None:
                    lines = lines[-count:] if count > 0 else []
                yield from encode(stream, lines)
            while follow:
                ended = engine.wait_for_exit_after(record.id, seen, timeout=0.1)
                for stream, data, start in tail.read_new_at():
                    yield from encode(stream, lines_of(stream, data, start))
                if ended or (until and time.time_ns() > until):
                    break

        return StreamResponse(body(), content_type=RAW if tty else MULTIPLEXED)

    # -- exec ------------------------------------------------------------------------
    def exec_create(self, req: Request) -> Response:
        session = self.execs.create(req.params["id"], req.json(required=True))
        return Response.json({"Id": session.id}, 201)

    def exec_start(self, req: Request):
        body = req.json() or {}
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object")
        session = self.execs.claim(req.params["id"])
        if body.get("Detach"):
            threading.Thread(target=self.execs.run, args=(session, lambda chunk: None), daemon=True).start()
            return Response.empty(200)

        def run(rfile, wfile):
            def write(chunk: bytes) -> None:
                wfile.write(chunk)
                wfile.flush()

            # Clients that read the 101 head through a buffered reader and
            # then switch to the raw socket (the docker SDK) lose whatever
            # arrived together with the head; give them a moment to read it
            # alone.  (dockerd has the same race, hidden by runc's start-up.)
            time.sleep(HEAD_ALONE_DELAY)
            self.execs.run(session, write, rfile)

        return UpgradeResponse(run, RAW if session.tty else MULTIPLEXED)

    def exec_inspect(self, req: Request) -> Response:
        return Response.json(self.execs.get(req.params["id"]).inspect())


def _unix_nanos(text: str | None) -> int:
    """``since=``/``until=``: Unix seconds, maybe with a fraction (0: none)."""
    if not text:
        return 0
    try:
        return int(float(text) * 1e9)
    except ValueError:
        raise BadParameter(f"invalid time {text!r}: expected Unix seconds") from None


def _window(req: Request) -> tuple[int, int]:
    rows, columns = req.int_arg("h", 0) or 0, req.int_arg("w", 0) or 0
    if not (0 <= rows <= 0xFFFF and 0 <= columns <= 0xFFFF):
        raise BadParameter(f"invalid terminal size {rows}x{columns}")
    return rows, columns


CONTAINER_FILTERS = ("status", "name", "id", "label", "ancestor", "exited")


def _filters(req: Request) -> dict[str, list[str]]:
    """``filters={"status":["exited"],"name":["web"]}`` (values as list or as a map)."""
    filters = parse_filters(req.arg("filters"), CONTAINER_FILTERS)
    for value in filters.get("exited", []):
        if not value.lstrip("-").isdecimal():
            raise BadParameter(f"invalid filter 'exited={value}': an exit code is an integer")
    return filters


def _matches(row: dict, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key == "status" and row["State"] not in values:
            return False
        if key == "name" and not any(v.lstrip("/") in n.lstrip("/") for v in values for n in row["Names"]):
            return False
        if key == "id" and not any(row["Id"].startswith(v) for v in values):
            return False
        if key == "label":
            for v in values:
                k, sep, want = v.partition("=")
                if k not in row["Labels"] or (sep and row["Labels"][k] != want):
                    return False
        if key == "ancestor" and not any(v in (row["Image"], row["ImageID"]) for v in values):
            return False
        if key == "exited" and not (
            row["State"] == "exited" and any(f"Exited ({int(v)})" in row["Status"] for v in values)
        ):
            return False
    return True


def _stop_signal(req: Request) -> int | None:
    """``docker stop -s`` / ``docker restart -s``: the signal instead of the
    container's stop signal."""
    name = req.arg("signal")
    return signal_number(name) if name else None


def tail_count(text: str | None) -> int | None:
    """``tail``: how many of the last lines to send; None for all of them.
    dockerd reads it with Go's ``strconv.Atoi`` and sends everything when
    that fails or the number is negative, so ``all``, ``x``, ``1.5`` and
    ``-1`` all mean all (docker 28's CLI passes ``--tail`` on unchecked)."""
    if not text or not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    count = int(text)
    return count if count >= 0 else None
