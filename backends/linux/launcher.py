"""The shim launcher: forks shims fast, from a process that is safe to fork.

Starting a container's shim (see :mod:`.shim`) as ``python -m ...shim``
costs a whole interpreter start-up -- tens of milliseconds, most of
``docker run``'s budget.  ``os.fork`` of the engine would cost about one
millisecond, but the engine may be multi-threaded (the daemon serves each
client on a thread), and a child forked from a threaded process can
deadlock on a lock some other thread held at the fork.

So, like Android's *zygote*: one small single-threaded process per kernel,
started once, with the shim code already imported.  For each container the
engine sends it the shim's config and the pipe ends the shim needs (as
``SCM_RIGHTS`` file descriptors over a socketpair); the launcher forks, the
child becomes the shim exactly as ``shim.main`` would (new session, double
fork, stdio to the run dir's log), and the launcher answers "forked".

The launcher holds no state: when the engine closes its end of the socket
(the kernel is closed, or the engine died), it exits.

It runs from a **sealed copy of the Python interpreter** in a memfd, not
from the interpreter's file: every shim, joiner and exec helper is a fork
of it, so their ``/proc/PID/exe`` is that copy.  A process in a container
that reaches one of them (CVE-2019-5736: runc's own binary overwritten
through ``/proc/PID/exe`` of ``runc init``) finds a file it cannot write
(F_SEAL_WRITE) and that no other program runs -- runc does the same with a
sealed memfd clone of itself (libcontainer/nsenter/cloned_binary.c).  The
helpers are also non-dumpable while they enter a container (:mod:`.nsenter`).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading

from .sealed import running_sealed, sealed_interpreter
from .shim import run_shim

MAX_FDS = 8


class ShimLauncher:
    """The engine's end: one launcher process, requests one at a time."""

    def __init__(self):
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()  # one request/answer on the socket at a time

    def launch(self, config: dict, fds: dict[str, int], log_path: str) -> None:
        """Start a shim with ``config``; ``fds`` maps config keys to our fds,
        which the shim receives as its own (the config gets its numbers)."""
        names = list(fds)
        message = json.dumps({"config": config, "fd_names": names, "log": log_path}).encode()
        with self._lock:
            sock = self._connected()
            socket.send_fds(sock, [message], [fds[name] for name in names])
            answer = sock.recv(4096)
        if answer != b"forked":
            raise OSError(f"the shim launcher failed: {answer.decode(errors='replace') or 'it exited'}")

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()  # end-of-file: the launcher exits
                self._sock = None
            if self._proc is not None:
                if not _exited_within(self._proc.pid, 10):
                    self._proc.kill()
                self._proc.wait()
                self._proc = None

    def _connected(self) -> socket.socket:
        if self._sock is None or (self._proc is not None and self._proc.poll() is not None):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            interpreter = sealed_interpreter()
            try:
                # argv[0] stays the interpreter's path: Python finds its
                # prefix (and a venv) from it; what runs is the sealed copy.
                self._proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "import sys; from stepbox.backends.linux.launcher import main; main(sys.argv)",
                        str(theirs.fileno()),
                        str(interpreter),
                    ],
                    executable=f"/proc/self/fd/{interpreter}",
                    pass_fds=[theirs.fileno(), interpreter],
                    cwd="/",
                    stdin=subprocess.DEVNULL,
                    # A session of its own: whatever signals the engine's process
                    # group (a terminal's ^C, Jupyter's kernel shutdown, which
                    # SIGTERMs and then SIGKILLs every child in the kernel's group
                    # for ~29 s while one ignores it) is not for the launcher; it
                    # goes when the engine closes its socket, or dies.
                    start_new_session=True,
                )
            finally:
                theirs.close()
            self._sock = ours
        return self._sock


def _exited_within(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` (our child, not yet reaped) ends within
    ``seconds``.  A pidfd becomes readable when it exits: no polling (a
    ``Popen.wait(timeout=)`` sleeps in steps of up to 50 ms, which every
    short-lived command -- each stepbox-runc create -- would pay once)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([pidfd], [], [], seconds)
        return bool(ready)
    finally:
        os.close(pidfd)


class ForkingLauncher:
    """For a program that is single-threaded, short-lived and already runs
    from the sealed interpreter (``stepbox-runc create``/``exec``, see
    :func:`.sealed.reexec_sealed`): it forks its shims itself.  Forking is safe there
    (no other thread holds a lock), the shims' ``/proc/PID/exe`` is the
    sealed copy all the same, and it saves the launcher's interpreter
    start-up and imports -- most of a ``create``'s CPU time."""

    def launch(self, config: dict, fds: dict[str, int], log_path: str) -> None:
        assert threading.active_count() == 1, "fork only from a single-threaded program"
        assert running_sealed(), "fork shims only from the sealed interpreter"
        # The shim's stdio becomes /dev/null and its log: the fds it is
        # handed move above 2 first (they may be our own 0, 1 and 2).
        moved = {name: fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for name, fd in fds.items()}
        try:
            config = {**config, **moved}
            pid = os.fork()
            if pid == 0:
                # Only what the shim is handed: none of our other fds (the
                # engine's ends of the pipes to the init above all).
                keep = set(moved.values())
                for name in os.listdir("/proc/self/fd"):
                    if int(name) > 2 and int(name) not in keep:
                        try:
                            os.close(int(name))
                        except OSError:
                            pass
                _become_shim(None, config, list(moved.values()), log_path)
            os.waitpid(pid, 0)  # the first fork exits at once
        finally:
            for fd in moved.values():
                os.close(fd)

    def close(self) -> None:
        pass


# -- the launcher process ----------------------------------------------------------------


def serve(sock: socket.socket) -> None:
    # Our parent's terminal signals are not ours to die of; the socket's
    # end-of-file is how we learn to go.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, MAX_FDS)
        except InterruptedError:
            continue
        if not message:
            return
        try:
            request = json.loads(message)
            config = dict(request["config"])
            config.update(zip(request["fd_names"], fds, strict=True))
            pid = os.fork()
            if pid == 0:
                _become_shim(sock, config, fds, request["log"])
            os.waitpid(pid, 0)  # the first fork exits at once
            answer = b"forked"
        except Exception as e:  # tell the engine, keep serving
            answer = f"{type(e).__name__}: {e}".encode()
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(answer)


def _become_shim(sock: socket.socket | None, config: dict, fds: list[int], log_path: str) -> None:
    """In the forked child: what ``Popen(start_new_session=True, cwd="/")``
    plus ``shim.main`` do -- then run the shim.  Never returns."""
    try:
        if sock is not None:
            sock.close()
        os.setsid()
        os.chdir("/")
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        null = os.open("/dev/null", os.O_RDONLY)
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in (null, log):
            os.close(fd)
        if os.fork() != 0:
            os._exit(0)  # double fork: the shim is nobody's child here
        run_shim(config)
    except BaseException as e:  # never a traceback to nobody
        os.write(2, f"stepbox shim: {type(e).__name__}: {e}\n".encode())
    os._exit(1)


def main(argv: list[str]) -> None:
    if len(argv) > 2:
        os.close(int(argv[2]))  # the sealed interpreter we run from: nobody below needs the fd
    serve(socket.socket(fileno=int(argv[1])))


if __name__ == "__main__":
    main(sys.argv)
