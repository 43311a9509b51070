"""``stepbox run`` without ``-d``, ``start -a``, ``attach``: a terminal wired to a container.

The order is docker's, and it matters (the wire is shown in
:mod:`stepbox.core.engine.containers`): attach to the container's output
and have the daemon acknowledge a wait *before* starting it, so neither the
first line of output nor the exit can be missed.  The output is then
copied as it comes, and the command ends with the container's exit status.

With ``-i`` our stdin goes up the same hijacked connection; its end is
passed on as a half-close (the container's stdin then ends too).  With
``-t`` the container has a terminal: ours goes into raw mode, its size is
sent after the start and on each SIGWINCH, the output comes unframed, and
ctrl-p ctrl-q (``--detach-keys``) lets go of the container, leaving it
running -- as with docker, the CLI watches for the sequence itself.

Without a TTY, SIGINT/SIGTERM/SIGHUP are passed on to the container
(docker's ``--sig-proxy``): a Ctrl-C reaches the container's command, not
just the client.  A command that ignores it (a shell as PID 1 does) keeps
running; a second Ctrl-C lets go of it and ends the client.  (With a TTY,
Ctrl-C is a key like any other: the container's terminal makes it SIGINT.)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
from types import SimpleNamespace

from stepbox.core.engine.client import EngineClient, EngineError
from stepbox.core.engine.escape_keys import EscapeDetector, InvalidDetachKeys, parse_detach_keys
from stepbox.core.engine.url_parts import quote

from .errors import CommandFailed, exec_failure_status
from .output import copy_frames
from .terminal import following_window, is_terminal, raw_mode

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
NOT_A_TTY = "the input device is not a TTY"


class Wiring(SimpleNamespace):
    """How we are attached: stdin sent or not, a TTY or not, the detach keys.
    (A SimpleNamespace, not a dataclass: ``run``'s lean path does without
    importing dataclasses, see lean_run.)"""

    stdin: bool
    tty: bool
    detach_keys: str
    sig_proxy: bool

    def __init__(self, stdin: bool = False, tty: bool = False, detach_keys: str = "", sig_proxy: bool = True):
        super().__init__(stdin=stdin, tty=tty, detach_keys=detach_keys, sig_proxy=sig_proxy)

    def keys(self) -> bytes:
        try:
            return parse_detach_keys(self.detach_keys)
        except InvalidDetachKeys as e:
            raise CommandFailed(f"stepbox: {e}", 125) from None

    def query(self, **more) -> dict:
        query = {"stream": 1, "stdout": 1, "stderr": 1, **more}
        if self.stdin:
            query["stdin"] = 1
        if self.detach_keys:
            query["detachKeys"] = self.detach_keys
        return query


def check_tty(wiring: Wiring) -> None:
    """docker's CheckTty: -it with a stdin that is not a terminal is refused."""
    if wiring.tty and wiring.stdin and not is_terminal(sys.stdin.fileno()):
        raise CommandFailed(f"stepbox: {NOT_A_TTY}", 1)


def run_attached(
    client: EngineClient, cid: str, wait_for: str = "next-exit", wiring: Wiring | None = None
) -> int:
    """Start container ``cid`` with our stdout/stderr (and with ``-i`` our
    stdin) attached; its exit status once it has exited (``wait_for="removed"``:
    and been removed, for ``--rm``); 0 if we detached."""
    wiring = wiring or Wiring()
    wiring.keys()  # a bad --detach-keys fails before anything starts
    path = _path(cid)
    rfile, sock = client.upgrade("POST", f"{path}/attach", query=wiring.query())
    with sock, client.stream("POST", f"{path}/wait", query={"condition": wait_for}) as waiting:
        start(client, cid)
        detached = stream_hijacked(client, path, rfile, sock, wiring)
        if detached:
            return 0
        return json.loads(waiting.body.read())["StatusCode"]


def attach(client: EngineClient, name: str, wiring: Wiring) -> int:
    """``stepbox attach``: to a running container, until it exits (its exit
    status) or we detach (docker: "read escape sequence", status 1)."""
    path = _path(name)
    with client.stream("POST", f"{path}/wait") as waiting:
        info = client.request("GET", f"{path}/json").json()
        _check_running(info)
        wiring.tty = bool(info["Config"]["Tty"])
        wiring.stdin = wiring.stdin and bool(info["Config"]["OpenStdin"])
        check_tty(wiring)
        wiring.keys()
        rfile, sock = client.upgrade("POST", f"{path}/attach", query=wiring.query())
        with sock:
            _check_running(client.request("GET", f"{path}/json").json())
            if stream_hijacked(client, path, rfile, sock, wiring):
                raise CommandFailed("read escape sequence", 1)
        return json.loads(waiting.body.read())["StatusCode"]


def _check_running(info: dict) -> None:
    state = info["State"]
    if state.get("Paused"):
        raise CommandFailed("stepbox: You cannot attach to a paused container, unpause it first", 1)
    if state.get("Restarting"):
        raise CommandFailed(
            "stepbox: You cannot attach to a restarting container, wait until it is running", 1
        )
    if not state.get("Running"):
        raise CommandFailed("stepbox: You cannot attach to a stopped container, start it first", 1)


def start(client: EngineClient, cid: str) -> None:
    """``POST /containers/{id}/start``.  A command that cannot be executed
    ends the CLI with 126 or 127, as docker's does, not with 125."""
    try:
        client.request("POST", f"{_path(cid)}/start")
    except EngineError as e:
        status = exec_failure_status(e.message)
        if status is None:
            raise
        raise CommandFailed(f"stepbox: {e.message}", status) from None


def _path(cid: str) -> str:
    return f"/containers/{quote(cid, safe='')}"  # a name or an ID, as a path segment


def stream_hijacked(client: EngineClient, path: str, rfile, sock: socket.socket, wiring: Wiring) -> bool:
    """Copy the container's output here (and our input there) until its
    output ends; True if we detached."""
    stdin_fd = sys.stdin.fileno()
    terminal_here = wiring.tty and is_terminal(stdin_fd)
    detached = threading.Event()
    with contextlib.ExitStack() as stack:
        restore = stack.enter_context(raw_mode(stdin_fd) if terminal_here else contextlib.nullcontext(None))
        if wiring.tty and is_terminal(sys.stdout.fileno()):
            stack.enter_context(following_window(_resizer(client, path)))
        elif wiring.sig_proxy and not wiring.tty:
            stack.enter_context(_forwarding_signals(client, path))
        if wiring.stdin:
            keys = wiring.keys() if wiring.tty else b""
            threading.Thread(
                target=_send_input, args=(stdin_fd, sock, keys, detached), name="stdin", daemon=True
            ).start()
        try:
            if wiring.tty:
                _copy_raw(rfile)
            else:
                copy_frames(rfile.read)
        except (OSError, ValueError):
            if not detached.is_set():
                raise
        if restore is not None:
            restore()
    return detached.is_set()


def _send_input(fd: int, sock: socket.socket, keys: bytes, detached: threading.Event) -> None:
    escape = EscapeDetector(keys) if keys else None
    try:
        while data := os.read(fd, 65536):
            seen = False
            if escape is not None:
                data, seen = escape.feed(data)
            if data:
                sock.sendall(data)
            if seen:
                detached.set()
                sock.shutdown(socket.SHUT_RDWR)  # ends the output copy too
                return
        sock.shutdown(socket.SHUT_WR)  # end of our input: a half-close
    except OSError:
        pass


def _copy_raw(rfile) -> None:
    """A TTY's output: one stream, no frames, shown as it comes."""
    out = sys.stdout.buffer
    sys.stdout.flush()
    read = getattr(rfile, "read1", rfile.read)
    while data := read(65536):
        out.write(data)
        out.flush()


def _resizer(client: EngineClient, path: str):
    """Resizes are sent from a thread: a signal handler must not make a
    request in the middle of another one."""
    import queue  # here: only a TTY's size changes are queued

    sizes: queue.SimpleQueue = queue.SimpleQueue()

    def worker() -> None:
        while True:
            rows, columns = sizes.get()
            try:
                client.request("POST", f"{path}/resize", query={"h": rows, "w": columns})
            except (EngineError, OSError):
                pass

    threading.Thread(target=worker, name="resize", daemon=True).start()
    return lambda rows, columns: sizes.put((rows, columns))


@contextlib.contextmanager
def _forwarding_signals(client: EngineClient, path: str):
    forwarded: set[int] = set()

    def forward(signum, _frame):
        if signum in forwarded:  # the second time: the user wants out
            signal.signal(signum, signal.SIG_DFL)
            raise KeyboardInterrupt
        forwarded.add(signum)
        try:
            client.request("POST", f"{path}/kill", query={"signal": str(signum)})
        except (EngineError, OSError):
            pass  # it has exited meanwhile

    saved = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
