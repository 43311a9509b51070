"""The shim: the process that is the parent of a container's init.

A container must outlive the command that started it (``docker run -d``
returns at once).  Whoever is the *parent* of the container's PID 1 is the
one the kernel tells when it exits (``waitpid``), so that parent must not be
the short-lived CLI.  Docker puts ``containerd-shim`` there; stepbox starts
this small program:

1. The engine runs ``python -m stepbox.backends.linux.shim CONFIG`` in a new
   session (``setsid``); that process forks and exits at once, so the real
   shim is nobody's child in the engine (it is re-parented to the host's
   init) and cannot get a controlling terminal -- the classic *double fork*.
2. The shim marks itself a *child subreaper* (``PR_SET_CHILD_SUBREAPER``):
   orphans below it are re-parented to it instead of the host's init.
3. It forks the *joiner* (:func:`.init.run_joiner`), which joins the
   cgroup, unshares the namespaces and forks PID 1, then exits; PID 1 is
   re-parented to the shim.
4. It tells the engine the PIDs over a pipe, then waits for PID 1 and writes
   its exit status atomically to ``RUN_DIR/exit.json`` (temp file, fsync,
   rename), where any later program finds it.

Meanwhile it carries the container's output: stdout and stderr are pipes
whose read ends the shim holds (:class:`StreamRelay`), and the shim appends
what comes through to the log files -- as containerd-shim does.  The
container only ever holds pipe ends: no host file it could ``fchmod`` or
reopen through ``/proc/self/fd/1``.  (The relay takes plain fd pairs, so a
stdin pipe or a pseudo-terminal can be carried the same way.)
"""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import socket
import sys
import time
from typing import Any, NoReturn

from stepbox.core.kernel import log_times
from stepbox.core.kernel.atomic import atomic_write_json as write_json_atomic

from . import libc
from .init import run_joiner
from .nsenter import run_exec_joiner
from .procfs import start_time
from .shim_io import InputHub, bind_io_socket


def write_id_maps(pid: int, uid_map: list, gid_map: list) -> bool:
    """Write a new user namespace's uid/gid maps (``inside outside count``
    lines, each file written once, in one write(2), from the parent
    namespace).  Returns False if the kernel refused."""
    try:
        for name, mapping in (("uid_map", uid_map), ("gid_map", gid_map)):
            text = "".join(f"{inside} {outside} {count}\n" for inside, outside, count in mapping)
            fd = os.open(f"/proc/{pid}/{name}", os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
    except OSError as e:
        sys.stderr.write(f"stepbox shim: writing /proc/{pid} id maps: {e}\n")
        return False
    return True


TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGQUIT)


class StreamRelay:
    """Copies what arrives on read fds to write fds, until end-of-file on all."""

    def __init__(self) -> None:
        self.routes: dict[int, int] = {}  # source fd -> sink fd
        self.indexes: dict[int, int] = {}  # sink fd -> its log_times index fd

    def add(self, source: int, sink: int) -> None:
        os.set_blocking(source, False)
        self.routes[source] = sink

    @property
    def open(self) -> bool:
        return bool(self.routes)

    def pump(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` for data and move what is there."""
        if not self.routes:
            return
        try:
            ready, _, _ = select.select(list(self.routes), [], [], timeout)
        except InterruptedError:
            return
        for source in ready:
            self.drain(source)

    def drain(self, source: int) -> None:
        """Move what ``source`` has now; close it at end-of-file."""
        while True:
            try:
                chunk = os.read(source, 65536)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                chunk = b""  # a terminal's master once no process holds the slave
            if not chunk:  # every writer closed its end
                os.close(source)
                del self.routes[source]
                return
            sink = self.routes[source]
            index = self.indexes.get(sink)
            if index is not None:  # when this chunk was written: docker logs --timestamps
                log_times.record(index, os.fstat(sink).st_size)
            while chunk:
                chunk = chunk[os.write(sink, chunk) :]

    def finish(self, deadline: float) -> None:
        """Drain until every source is closed, or the deadline passes (an
        exec'd process's background children may hold the pipe open)."""
        while self.routes and time.monotonic() < deadline:
            self.pump(max(0.0, deadline - time.monotonic()))
        for source in list(self.routes):
            self.drain(source)
            if source in self.routes:
                os.close(source)
                del self.routes[source]


def open_log_pipes(config: dict[str, Any], relay: StreamRelay) -> list[int]:
    """Pipes for the container's stdout and stderr: the write ends go into
    ``config["stdio"]`` for the joiner, the read ends into the relay with the
    log files (opened here, by the shim) as sinks.  Returns the write ends,
    which the shim closes once the joiner has them."""
    stdio = config.get("stdio")
    if not stdio:
        return []
    ends = []
    sinks: dict[str, int] = {}
    for name in ("stdout", "stderr"):
        path = stdio[name]
        if path not in sinks:
            sinks[path] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
            relay.indexes[sinks[path]] = os.open(
                log_times.index_path(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640
            )
            r, w = os.pipe2(os.O_CLOEXEC)
            relay.add(r, sinks[path])
            ends.append(w)
            stdio[f"_{path}"] = w
        stdio[f"{name}_fd"] = stdio[f"_{path}"]
    for path in sinks:
        del stdio[f"_{path}"]
    return ends


def open_input(config: dict[str, Any], relay: StreamRelay) -> tuple[InputHub | None, list[int]]:
    """What ``docker run -i`` / ``-t`` need: the io socket the engine writes
    to, and a stdin pipe (its read end goes to the joiner as
    ``stdio["stdin_fd"]``) or the console socket on which PID 1 (or the
    exec joiner) sends the terminal's master (``config["console_fd"]``).
    Returns the hub and the fds only the joiner needs (closed after the fork)."""
    stdio = config.get("stdio") or {}
    if not (stdio.get("open_stdin") or stdio.get("tty")):
        return None, []
    listener = bind_io_socket(config["run_dir"])
    # The stdout log: the sink of the first route open_log_pipes made.
    stdout_sink = next(iter(relay.routes.values()), None)

    def copy_terminal_output(master: int) -> None:
        if stdout_sink is not None:
            relay.add(master, stdout_sink)

    if stdio.get("tty"):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours.setblocking(False)
        theirs.set_inheritable(False)
        config["console_fd"] = theirs.detach()
        return InputHub(listener, None, ours, copy_terminal_output), [config["console_fd"]]
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    os.set_blocking(write_end, False)
    stdio["stdin_fd"] = read_end
    return InputHub(listener, write_end, None, copy_terminal_output), [read_end]


def run_shim(config: dict[str, Any]) -> NoReturn:
    """The shim's life: start the container's init (through the joiner),
    tell the engine its PIDs, wait for it, record how it ended."""
    # Terminal signals are not for us: only SIGKILL/SIGTERM from a clean-up.
    for sig in TERMINAL_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    detach = bool(config.get("detach"))
    if not detach:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
    relay = StreamRelay()
    write_ends = open_log_pipes(config, relay)
    hub, child_ends = open_input(config, relay)
    if config.get("console_fd") is not None and config["console_fd"] not in child_ends:
        # The caller's console socket (stepbox-runc --console-socket): only
        # the init (or the exec joiner) sends on it.
        child_ends.append(config["console_fd"])
    # --preserve-fds: the init keeps them; ours would hold the caller's pipes open
    child_ends += [fd for key, fd in config.items() if key.startswith("preserved_fd_")]
    report = start_init(config, write_ends + child_ends)
    info_fd = config["info_fd"]
    if "error" in report:
        os.write(info_fd, json.dumps(report).encode())
        os.close(info_fd)
        os._exit(1)
    init = report["init"]
    me = os.getpid()
    info = {
        "shim": me,
        "shim_start": start_time(me),
        "init": init,
        "init_start": start_time(init),
        "joiner": report["joiner"],
        "mode": config["mode"],  # "spawn": a container's init; "exec": a process joining one
    }
    write_json_atomic(os.path.join(config["run_dir"], "shim.json"), info)
    os.write(info_fd, json.dumps(info).encode())
    os.close(info_fd)
    if detach:
        # An OCI runtime's caller (containerd's shim, conmon) is a subreaper
        # and reaps the process itself: it must be its parent, not us.
        # The joiner is gone, so it is re-parented there already.
        os._exit(0)
    status = wait_relaying(init, relay, config["mode"] == "exec", hub)
    if hub is not None:
        hub.close(config["run_dir"])
    write_json_atomic(os.path.join(config["run_dir"], "exit.json"), exit_record(status))
    os._exit(0)


def start_init(config: dict[str, Any], joiner_fds: list[int]) -> dict[str, Any]:
    """Fork the joiner, which starts the container's init (or, for an exec,
    joins the running container); write the id maps it asks for; return its
    last report: ``{"init": pid, "joiner": pid}`` or ``{"error": ...}``.
    ``joiner_fds`` are pipe ends only the joiner keeps (closed here after the fork)."""
    sync_r, sync_w = os.pipe2(os.O_CLOEXEC)  # joiner -> shim: JSON lines
    ack_r, ack_w = os.pipe2(os.O_CLOEXEC)  # shim -> joiner: "k" when the id maps are written
    joiner = os.fork()
    if joiner == 0:
        for sig in TERMINAL_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        os.close(sync_r)
        os.close(ack_w)
        os.close(config["info_fd"])
        if config["mode"] == "exec":
            os.close(ack_r)
            run_exec_joiner(config, sync_w)
        else:
            run_joiner(config, sync_w, ack_r)
        os._exit(1)  # not reached
    os.close(sync_w)
    os.close(ack_r)
    for joiner_fd in joiner_fds:  # the joiner has them: ours would hide the end-of-file
        os.close(joiner_fd)
    # The pipes to PID 1 are its business now: keeping our copies would
    # hide the end-of-file the engine waits for after a successful exec.
    for key in ("cmd_fd", "rep_fd", "stdin_fd", "stdout_fd", "stderr_fd"):
        if config.get(key) is not None:
            os.close(config[key])
    report: dict[str, Any] = {"error": "the joiner died without a word", "errno": 5}
    with os.fdopen(sync_r, "rb") as sync:
        for line in sync:
            msg = json.loads(line)
            if "map" in msg:
                ok = write_id_maps(msg["map"], config.get("uid_map", []), config.get("gid_map", []))
                os.write(ack_w, b"k" if ok else b"x")
                continue
            report = msg
    os.close(ack_w)
    os.waitpid(joiner, 0)
    return report


def wait_relaying(init: int, relay: StreamRelay, is_exec: bool, hub: InputHub | None = None) -> int | None:
    """Carry output until PID 1 has ended, then the rest of it, then reap
    every child left (we are a subreaper); the wait status of ``init``.

    A pidfd of ``init`` is in the same select as the pipes, so its end is
    seen at once, not at the next poll.  A container's PID 1 takes every
    process of its namespace with it, so its pipes reach end-of-file right
    after; an exec'd process may leave children holding them, so its output
    is only drained for a moment.  The container's input (``hub``) is
    served in the same loop."""
    try:
        pidfd = os.pidfd_open(init)
    except ProcessLookupError:
        pidfd = None
    status = None
    try:
        while status is None:
            sources = list(relay.routes) + ([pidfd] if pidfd is not None else [])
            sinks = []
            if hub is not None:
                sources += hub.readers()
                sinks = hub.writers()
            try:
                ready, writable, _ = select.select(sources, sinks, [], 1.0)
            except InterruptedError:
                ready, writable = [], []
            for fd in ready:
                if hub is not None and hub.owns(fd):
                    hub.readable(fd)
                elif fd in relay.routes:
                    relay.drain(fd)
            for fd in writable:
                if hub is not None:
                    hub.writable(fd)
            status = _reap(init)
            if pidfd is None and status is None and not relay.open:
                status = _wait_for(init)
    finally:
        if pidfd is not None:
            os.close(pidfd)
    relay.finish(time.monotonic() + (0.2 if is_exec else 5.0))
    while True:  # what is left below us (orphans of the container's namespace)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
    return status


def _reap(init: int) -> int | None:
    """Reap every child that has ended; ``init``'s wait status if it was one."""
    status = None
    while True:
        try:
            pid, wstatus = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        except InterruptedError:
            continue
        if pid == 0:
            return status
        if pid == init:
            status = wstatus


def _wait_for(init: int) -> int | None:
    while True:
        try:
            pid, wstatus = os.waitpid(-1, 0)
        except ChildProcessError:
            return None
        except InterruptedError:
            continue
        if pid == init:
            return wstatus


def exit_record(status: int | None) -> dict[str, Any]:
    """What ``exit.json`` says: the exit code as docker reports it (128+N
    for a signal), and the signal."""
    if status is None:
        return {"code": 255, "signal": None, "error": "init was not reaped by the shim"}
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return {"code": 128 + signum, "signal": signum}
    return {"code": os.WEXITSTATUS(status), "signal": None}


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    if os.fork() != 0:
        os._exit(0)  # the engine reaps this one at once
    try:
        run_shim(config)
    except BaseException as e:  # leave a trace, never a traceback to nobody
        sys.stderr.write(f"stepbox shim: {type(e).__name__}: {e}\n")
        sys.stderr.flush()
        os._exit(1)


if __name__ == "__main__":
    main(sys.argv)
