"""``stepbox exec``: create an exec instance, start it attached (or not), read its exit code.

The requests are docker's: ``POST /containers/{id}/exec`` (what to run, which
streams, a TTY or not), then ``POST /exec/{id}/start`` -- hijacked, like an
attach, unless ``-d`` -- then ``GET /exec/{id}/json`` for ``ExitCode``.
With ``-t`` the terminal's size goes to ``POST /exec/{id}/resize``.
"""

from __future__ import annotations

from urllib.parse import quote

from stepbox.core.engine.client import EngineClient

from .attach import Wiring, stream_hijacked
from .errors import CommandFailed
from .terminal import window_size


def run_exec(
    client: EngineClient,
    container: str,
    command: list[str],
    env: list[str],
    workdir: str,
    wiring: Wiring,
    detach: bool,
    *,
    user: str = "",
    privileged: bool = False,
) -> int:
    body = {
        "Cmd": command,
        "Env": env,
        "WorkingDir": workdir,
        "User": user,
        "Privileged": privileged,
        "AttachStdin": wiring.stdin,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
        "Tty": wiring.tty,
        "DetachKeys": wiring.detach_keys,
    }
    size = window_size() if wiring.tty else None
    if size:
        body["ConsoleSize"] = list(size)
    exec_id = client.request("POST", f"/containers/{quote(container, safe='')}/exec", body=body).json()["Id"]
    path = f"/exec/{exec_id}"
    if detach:
        client.request("POST", f"{path}/start", body={"Detach": True, "Tty": wiring.tty})
        return 0
    rfile, sock = client.upgrade("POST", f"{path}/start", body={"Detach": False, "Tty": wiring.tty})
    wiring.sig_proxy = False  # docker exec forwards no signals
    with sock:
        if stream_hijacked(client, path, rfile, sock, wiring):
            raise CommandFailed("read escape sequence", 1)
    return client.request("GET", f"{path}/json").json()["ExitCode"]
