"""``stepbox run`` without ``-d``, and ``start -a``: attach, wait, start.

The order is docker's, and it matters (the wire is shown in
:mod:`stepbox.core.engine.containers`): attach to the container's output
and have the daemon acknowledge a wait *before* starting it, so neither the
first line of output nor the exit can be missed.  The output is then
copied as it comes, and the command ends with the container's exit status.

While attached, SIGINT/SIGTERM/SIGHUP are passed on to the container
(docker's ``--sig-proxy``): a Ctrl-C reaches the container's command, not
just the client.  A command that ignores it (a shell as PID 1 does) keeps
running; a second Ctrl-C lets go of it and ends the client.
"""

from __future__ import annotations

import contextlib
import json
import signal
from urllib.parse import quote

from stepbox.core.engine.client import EngineClient, EngineError

from .errors import CommandFailed, exec_failure_status
from .output import copy_frames

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_attached(client: EngineClient, cid: str, wait_for: str = "next-exit") -> int:
    """Start container ``cid`` with our stdout/stderr attached; its exit
    status once it has exited (``wait_for="removed"``: and been removed,
    for ``--rm``)."""
    path = f"/containers/{quote(cid, safe='')}"  # a name or an ID, as a path segment
    rfile, attached = client.upgrade("POST", f"{path}/attach", query={"stream": 1, "stdout": 1, "stderr": 1})
    with attached, client.stream("POST", f"{path}/wait", query={"condition": wait_for}) as waiting:
        start(client, cid)
        with _forwarding_signals(client, path):
            copy_frames(rfile.read)
            return json.loads(waiting.body.read())["StatusCode"]


def start(client: EngineClient, cid: str) -> None:
    """``POST /containers/{id}/start``.  A command that cannot be executed
    ends the CLI with 126 or 127, as docker's does, not with 125."""
    try:
        client.request("POST", f"/containers/{quote(cid, safe='')}/start")
    except EngineError as e:
        status = exec_failure_status(e.message)
        if status is None:
            raise
        raise CommandFailed(f"stepbox: {e.message}", status) from None


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
