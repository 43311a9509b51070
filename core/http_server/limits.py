"""The numbers that keep one client from holding a server.

A server reachable over a network meets clients that send a head one byte a
minute (slowloris), announce a body they never send, or open a thousand
connections.  Each limit below bounds one of those; none applies to a
connection that has become a stream on purpose (``attach``, ``exec`` after
``101 UPGRADED``) or to a long answer being written (``logs -f``,
``events``, ``wait``): there it is the *server* that takes its time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # A request head (request line and headers).  Docker's biggest are a
    # build's X-Registry-Config: a few kilobytes.
    max_head_bytes: int = 64 * 1024
    # A request body, whatever the endpoint (a tar to /images/load, a
    # layer PATCHed to the registry); endpoints set lower ones.
    max_body_bytes: int = 64 << 30
    # Seconds a kept-alive connection may wait for its next request.
    idle_timeout: float = 300.0
    # Seconds from the first byte of a request to the end of its head, and
    # for a TLS handshake.
    head_timeout: float = 30.0
    # Seconds a body may go without a single byte arriving (not a limit
    # on the whole upload: a 1 GiB layer on a slow link takes long).
    body_timeout: float = 60.0
    # Seconds a whole (non-streamed) answer may take to be sent.
    send_timeout: float = 60.0
    # Connections served at once.  `docker run` holds two for as long as
    # its container runs (attach, wait), so this sits well above what
    # clients open at once; past it, new connections wait in the kernel's
    # listen backlog (listeners.BACKLOG) until one ends -- queued, not refused.
    max_connections: int = 512
    # Bytes of an unread body drained so that the connection can carry the
    # next request; past that the connection is closed instead.
    max_drain_bytes: int = 1 << 20


DEFAULT_LIMITS = Limits()
