"""``stepbox system dial-stdio``: the far end of ``-H ssh://user@host``.

A client given ``ssh://user@host`` runs ``ssh user@host stepbox system
dial-stdio`` and speaks HTTP to that process's stdin and stdout.  This
command connects to the daemon on *its* machine (the same one a plain
``stepbox ps`` there would use: ``-H``, a context, or the state
directory's, started if none runs) and copies bytes both ways until the
daemon closes -- exactly what ``docker system dial-stdio`` does, so ssh
alone decides who may reach the daemon, and no port is opened.
"""

from __future__ import annotations

import os
import socket
import threading

import click

from .main import cli


@cli.group("system")
def system():
    """Manage stepbox."""


@system.command("dial-stdio")
@click.pass_obj
def dial_stdio(connection):
    """Proxy the stdio stream to the daemon connection (the far end of ssh://)."""
    client = connection.client  # finds (or starts) the daemon, checks it answers
    sock = client.endpoint.connect(None)
    relay(sock, 0, 1)


def relay(sock: socket.socket, stdin: int, stdout: int) -> None:
    """stdin -> sock and sock -> stdout until the daemon closes.  The end of
    stdin is passed on as a half-close (the daemon may still answer)."""

    def upstream() -> None:
        try:
            while data := os.read(stdin, 65536):
                sock.sendall(data)
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    threading.Thread(target=upstream, name="stdin to daemon", daemon=True).start()
    try:
        while data := sock.recv(65536):
            view = memoryview(data)
            while view:
                view = view[os.write(stdout, view) :]
    except OSError:
        pass
    finally:
        os.close(stdout)
        sock.close()
