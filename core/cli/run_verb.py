"""``run`` once its command line is read: the create request, then the
container started with our terminal wired to it (or detached).

Used by the click verb in :mod:`.containers` and by the lean path of
:mod:`.lean_run`, which reads the same command line without click: one way
from the flags to the requests.  Nothing here imports click (a ``run`` that
must pull first imports :mod:`.registry`, which does).
"""

from __future__ import annotations

import os
import sys

from stepbox.core.engine.client import EngineError

from .attach import Wiring, check_tty, run_attached
from .attach import start as start_container
from .errors import CommandFailed, run_refusals
from .run_body import create_body
from .terminal import window_size


def say(message: str) -> None:
    """A line on stderr (stdout is the container's)."""
    print(message, file=sys.stderr, flush=True)


class PreparedRun:
    """What ``run`` sends once its flags are checked.  (A plain class: the
    lean path does without importing dataclasses, see lean_run.)"""

    __slots__ = ("detach", "wiring", "body")

    def __init__(self, detach: bool, wiring: Wiring, body: dict) -> None:
        self.detach = detach
        self.wiring = wiring
        self.body = body  # of POST /containers/create


def prepare_run(
    detach: bool, detach_keys: str, sig_proxy: bool, image: str, command, flags: dict
) -> PreparedRun:
    """What ``run`` checks before any request: the terminal, the detach keys,
    the create body (a bad flag value raises click's usage error)."""
    wiring = Wiring(
        stdin=flags["interactive"], tty=flags["tty"], detach_keys=detach_keys, sig_proxy=sig_proxy
    )
    if not detach:
        check_tty(wiring)
        wiring.keys()
    body = create_body(
        image, command, attached=not detach, console_size=window_size() if flags["tty"] else None, **flags
    )
    return PreparedRun(detach, wiring, body)


def run_prepared(conn, run: PreparedRun, name: str | None, flags: dict) -> int:
    """Create and start the container; the status ``run`` ends with (the
    container's own, attached; 0, detached: its ID is printed)."""
    with run_refusals():
        cid = create_container(conn, run.body, name, flags["pull"], flags["cidfile"])
        if run.detach:
            start_container(conn.client, cid)
            print(cid, flush=True)
            return 0
        wait_for = "removed" if flags["auto_remove"] else "next-exit"
        return run_attached(conn.client, cid, wait_for=wait_for, wiring=run.wiring)


def create_container(
    conn, body: dict, name: str | None, pull: str = "missing", cidfile: str | None = None
) -> str:
    """``POST /containers/create``; the new container's ID.  What the daemon
    said meanwhile (it built busybox from the host's binary ...) is shown.

    ``--pull``: ``missing`` pulls the image when the daemon has none
    ("Unable to find image ... locally", as docker's CLI does it: create,
    pull, create again), ``always`` pulls first, ``never`` does not.
    ``--cidfile``: the ID is written there (a file that exists already is refused)."""
    if cidfile and os.path.exists(cidfile):
        raise CommandFailed(
            f"stepbox: Container ID file found, make sure the other container isn't running or delete {cidfile}",
            125,
        )
    client = conn.client
    if pull == "always":
        _pull_for_run(conn, body["Image"])
    try:
        reply = client.request("POST", "/containers/create", query={"name": name}, body=body).json()
    except EngineError as e:
        if pull != "missing" or e.status != 404 or "No such image" not in e.message:
            raise
        say(f"Unable to find image '{_familiar(body['Image'])}' locally")
        _pull_for_run(conn, body["Image"])
        reply = client.request("POST", "/containers/create", query={"name": name}, body=body).json()
    for line in reply.get("Warnings") or []:
        say(line)
    if cidfile:
        from stepbox.core.kernel.atomic import atomic_write

        atomic_write(cidfile, reply["Id"].encode())
    return reply["Id"]


def _familiar(image: str) -> str:
    """``nosuchimage`` as docker names it in messages: ``nosuchimage:latest``."""
    from stepbox.core.image.reference import InvalidReference, parse_reference

    try:
        return parse_reference(image).familiar_str()
    except InvalidReference:
        return image


def _pull_for_run(conn, image: str) -> None:
    """docker run's pull: its progress on stderr (stdout is the container's);
    a pull that fails fails the run as the daemon's refusal would (125)."""
    import contextlib

    from .registry import _transfer  # imports click: only when a run must pull

    try:
        with contextlib.redirect_stdout(sys.stderr):
            _transfer(conn, "POST", "/images/create", image, False, query={"fromImage": image})
    except SystemExit as e:
        if e.code not in (0, None):
            sys.exit(125)
        raise
