"""``docker exec``: another process in a running container's namespaces.

Three requests, as the docker CLI sends them:

1. ``POST /containers/{id}/exec`` -- *create* an exec instance: only a
   record of what to run; nothing starts yet.  Answer ``{"Id": …}``.
2. ``POST /exec/{id}/start`` -- start it and *upgrade* the connection: the
   output comes back as multiplexed frames until the process ends.
3. ``GET /exec/{id}/json`` -- read ``ExitCode``.  The CLI asks right after
   the stream closes, so the exit code is recorded *before* closing it.

The process itself is :meth:`Processes.exec_in`: setns(2) into every
namespace of the container's PID 1 and join its cgroup (nsenter, in short).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field

from stepbox.core.container.errors import BadRequest, Conflict
from stepbox.core.container.flags import parse_env
from stepbox.core.container.record import RUNNING
from stepbox.core.kernel import ExecFailed, KernelError, ProcessHandle, Stdio

from .attach import InputPump, parse_detach_keys
from .create_fields import canonical, is_zero
from .engine import Engine
from .errors import BadParameter, NotFound
from .streams import STDERR, LogTail, frames

# The fields of an exec's create body (API v1.44): those stepbox honours, and
# any other field with a value is refused.
EXEC_FIELDS = {
    "Container",  # docker-py still sends the container's ID (the URL has it)
    "Detach",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "ConsoleSize",
    "DetachKeys",
    "Tty",
    "Env",
    "Cmd",
    "Privileged",
    "User",
    "WorkingDir",
}


@dataclass
class ExecSession:
    id: str
    container_id: str
    argv: list[str]
    env: dict[str, str]
    workdir: str
    user: str = ""
    privileged: bool = False
    tty: bool = False
    attach_stdin: bool = False
    window: tuple[int, int] | None = None
    detach_keys: str = ""
    handle: ProcessHandle | None = None  # the process, while it runs
    attach_stdout: bool = True
    attach_stderr: bool = True
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def inspect(self) -> dict:
        doc = {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "privileged": self.privileged,
                "user": self.user,
                "tty": self.tty,
                "entrypoint": self.argv[0] if self.argv else "",
                "arguments": self.argv[1:],
            },
            "OpenStdin": self.attach_stdin,
            "OpenStderr": self.attach_stderr,
            "OpenStdout": self.attach_stdout,
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.detach_keys,
            "Pid": self.pid,
        }
        if self.exit_code is None:
            del doc["ExitCode"]  # not started yet (dockerd: null; the schema: an integer)
        return doc


class ExecSessions:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._sessions: dict[str, ExecSession] = {}

    def create(self, container: str, body) -> ExecSession:
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object")
        body = canonical(body, EXEC_FIELDS)
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if not cmd or not isinstance(cmd, list) or not all(isinstance(c, str) for c in cmd):
            raise BadParameter("No exec command specified")
        env = body.get("Env") or []
        if not isinstance(env, list) or not all(isinstance(e, str) for e in env):
            raise BadParameter("invalid value for Env: expected a list of strings")
        workdir = body.get("WorkingDir") or ""
        if not isinstance(workdir, str) or (workdir and not workdir.startswith("/")):
            raise BadParameter(f"invalid WorkingDir {workdir!r}: it needs to be an absolute path")
        user = body.get("User") or ""
        if not isinstance(user, str):
            raise BadParameter("invalid value for User: expected a string")
        privileged = body.get("Privileged") or False
        if not isinstance(privileged, bool):
            raise BadParameter("invalid value for Privileged: expected a boolean")
        for name in body:
            if name not in EXEC_FIELDS and not is_zero(body[name]):
                raise BadParameter(f"stepbox does not support exec {name}: a field it does not know")
        record = self.engine.get(container)
        if record.state != RUNNING:
            raise Conflict(
                f"container {record.id} is not running"
                if record.state != "paused"
                else f"Container {record.id} is paused, unpause the container before exec"
            )
        detach_keys = body.get("DetachKeys") or ""
        if not isinstance(detach_keys, str):
            raise BadParameter("invalid value for DetachKeys: expected a string")
        parse_detach_keys(detach_keys)  # a bad one is refused now, not at start
        window = body.get("ConsoleSize")
        if window is not None and (
            not isinstance(window, list) or len(window) != 2 or not all(isinstance(v, int) for v in window)
        ):
            raise BadParameter("invalid value for ConsoleSize: expected [rows, columns]")
        session = ExecSession(
            secrets.token_hex(32),
            record.id,
            list(cmd),
            parse_env(env),
            workdir,
            user=user,
            privileged=privileged,
            tty=bool(body.get("Tty")),
            attach_stdin=bool(body.get("AttachStdin")),
            window=(window[0], window[1]) if window and any(window) else None,
            detach_keys=detach_keys,
            attach_stdout=bool(body.get("AttachStdout", True)),
            attach_stderr=bool(body.get("AttachStderr", True)),
        )
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, exec_id: str) -> ExecSession:
        with self._lock:
            session = self._sessions.get(exec_id)
        if session is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return session

    def of_container(self, cid: str) -> list[str]:
        with self._lock:
            return [s.id for s in self._sessions.values() if s.container_id == cid and s.running]

    def claim(self, exec_id: str) -> ExecSession:
        """Mark as started (an exec instance runs once: docker answers 409)."""
        session = self.get(exec_id)
        with self._lock:
            if session.started:
                raise Conflict(f"Exec {exec_id} has already been started")
            session.started = True
        return session

    def resize(self, exec_id: str, rows: int, columns: int) -> None:
        session = self.get(exec_id)
        handle = session.handle
        if session.tty and handle is not None and session.running:
            self.engine.kernel_call(lambda: handle.resize_terminal(rows, columns))

    def run(self, session: ExecSession, write, rfile=None) -> None:
        """Start the process, stream its output with ``write``, record the
        exit code; returns when the process has ended.  With ``rfile`` (the
        client's side of the connection) and AttachStdin, the client's input
        goes to the process (and its end closes the process's stdin, as
        dockerd does for exec, unless it is a terminal)."""
        engine = self.engine
        scratch = tempfile.mkdtemp(prefix="stepbox-exec-")
        finished_here = True  # False: a detached exec's thread finishes it
        try:
            stdio = Stdio(
                stdout=os.path.join(scratch, "stdout.log"),
                stderr=os.path.join(scratch, "stderr.log"),
                open_stdin=session.attach_stdin,
                tty=session.tty,
                window=session.window,
            )
            tail = LogTail(scratch)
            session.running = True
            try:
                with engine.changing(session.container_id) as record:  # not stopped meanwhile
                    if record.state != RUNNING:
                        raise Conflict(f"container {record.id} is not running")
                    credentials, privileges, home = engine.runtime.exec_identity(
                        record, session.user, session.privileged
                    )
                    env = {**record.env, **({"HOME": home} if home else {}), **session.env}
                    handle = engine.kernel.processes.exec_in(
                        record.pid,
                        session.argv,
                        env,
                        session.workdir or record.workdir,
                        stdio,
                        user=credentials,
                        privileges=privileges,
                        rlimits=record.config.rlimits,
                    )
                session.pid = handle.pid
                session.handle = handle
            except ExecFailed as e:
                # docker prints the runtime's complaint on stderr; 126/127 like a shell
                for chunk in frames(STDERR, f"OCI runtime exec failed: {e}: unknown\n".encode(), session.tty):
                    write(chunk)
                session.exit_code = e.exit_code
                return
            except (Conflict, BadRequest) as e:  # not running; an unknown -u user
                for chunk in frames(STDERR, f"{e}\n".encode(), session.tty):
                    write(chunk)
                session.exit_code = 126
                return
            pump = None
            detached = threading.Event()
            if rfile is not None and session.attach_stdin:
                pump = InputPump(
                    rfile,
                    lambda timeout: handle,
                    engine.kernel_call,
                    detach_keys=parse_detach_keys(session.detach_keys) if session.tty else None,
                    close_at_end=not session.tty,
                    on_detach=detached.set,
                    name=f"exec-stdin-{session.id[:12]}",
                ).start()
            status = None
            while status is None and not detached.is_set():
                status = engine.wait_process(handle, timeout=0.02 if session.tty else 0.05)
                self._pump(tail, session, write)
            if pump is not None:
                pump.stop()
            if status is None:  # detached: the process runs on, nobody reads its output
                threading.Thread(
                    target=self._finish_detached, args=(session, handle, scratch), daemon=True
                ).start()
                finished_here = False
                return
            self._pump(tail, session, write)
            session.exit_code = status.code
        finally:
            if finished_here:
                session.running = False
                session.handle = None
                if session.exit_code is None:
                    session.exit_code = 126
                session.done.set()
                shutil.rmtree(scratch, ignore_errors=True)

    def _finish_detached(self, session: ExecSession, handle, scratch: str) -> None:
        try:
            status = self.engine.wait_process(handle)
            session.exit_code = status.code if status is not None else 126
        except (KernelError, OSError):
            session.exit_code = 126
        finally:
            session.running = False
            session.handle = None
            session.done.set()
            shutil.rmtree(scratch, ignore_errors=True)

    @staticmethod
    def _pump(tail: LogTail, session: ExecSession, write) -> None:
        for stream, data in tail.read_new():
            if (stream == 1 and session.attach_stdout) or (stream == 2 and session.attach_stderr):
                for chunk in frames(stream, data, session.tty):
                    write(chunk)

    def forget_container(self, cid: str) -> None:
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.container_id == cid]:
                del self._sessions[key]
