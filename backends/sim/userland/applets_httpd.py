"""httpd: busybox's small web server, as busybox 1.35 on Debian serves.

What the real one does and this one copies (each seen on the host's
busybox): the URL is percent-decoded, its query cut off and ``//``, ``/./``
and ``..`` folded before anything else -- a ``..`` above the root is
``400 Bad Request`` (with busybox's own "Unsupported method" text); a
directory asked without its trailing slash is ``302 Found`` with a
``Location`` that adds it; a method other than GET or HEAD is ``501``; an
error page has no Content-Length; HEAD gets the body too.  ``-v`` logs each
response to stderr, ``-vv`` the URL before it, ``-vvv`` "connected" and
"closed" around them, each line prefixed with the client's address as the
listening socket sees it (``[::ffff:172.17.0.1]:40000`` on the default
``[::]``).  Without ``-f`` httpd daemonizes with stdin, stdout and stderr on
/dev/null, so its log goes nowhere, as the real one's does.
"""

from __future__ import annotations

import time
from urllib.parse import unquote_to_bytes

from ..sys_api import O_RDWR
from .applet_table import applet
from .libc import Gen, complain, err, parse_options, read_all, strerror, write_all

CONTENT_TYPES = {
    "html": "text/html",
    "htm": "text/html",
    "txt": "text/plain",
    "css": "text/css",
    "js": "application/javascript",
    "json": "application/json",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
}

# status -> (reason, the sentence busybox's error page says)
STATUS = {
    200: ("OK", ""),
    302: ("Found", ""),
    400: ("Bad Request", "Unsupported method"),
    404: ("Not Found", "The requested URL was not found"),
    501: ("Not Implemented", "The requested method is not recognized"),
}


def _http_date(seconds: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(seconds))


def _error_page(status: int) -> bytes:
    title = f"{status} {STATUS[status][0]}"
    return f"<HTML><HEAD><TITLE>{title}</TITLE></HEAD>\n<BODY><H1>{title}</H1>\n{STATUS[status][1]}\n</BODY></HTML>\n".encode()


def normalise_url(url: str) -> str | None:
    """The path busybox serves and logs for request URL ``url``: decoded,
    without its query, ``//`` and ``/./`` folded, ``..`` applied; None when
    it is not a path or climbs above the root (400)."""
    path = url.split("?", 1)[0]
    try:
        decoded = unquote_to_bytes(path).decode("latin-1")
    except ValueError:
        return None
    if not decoded.startswith("/"):
        return None
    kept: list[str] = []
    parts = decoded.split("/")[1:]
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not kept:
                return None
            kept.pop()
            continue
        kept.append(part)
    slash = parts[-1] in ("", ".", "..")
    return "/" + "/".join(kept) + ("/" if slash and kept else "")


class Log:
    """``-v`` lines on stderr, prefixed as busybox prefixes them (it sets
    its applet name to the client's address)."""

    def __init__(self, sys, verbose: int, peer: tuple[str, int], v6: bool):
        self.sys, self.verbose = sys, verbose
        self.who = f"[::ffff:{peer[0]}]:{peer[1]}" if v6 else f"{peer[0]}:{peer[1]}"

    def say(self, level: int, text: str) -> Gen:
        if self.verbose >= level:
            yield from err(self.sys, f"{self.who}: {text}\n")


@applet("httpd")
def httpd_main(sys) -> Gen:
    opts = yield from parse_options(sys, "httpd", "ifvp:h:c:u:r:m:e:d:P:")
    if opts is None:
        return 1
    where = opts.value("p", "80") or "80"
    ip, _, port = where.rpartition(":")
    home = opts.value("h", ".") or "."
    verbose = opts.flags.get("v", 0)
    v6 = not ip  # busybox listens on [::]:PORT (IPv4 too) unless given an address
    listener = sys.socket("tcp", v6=v6)
    try:
        sys.bind(listener, (ip or "0.0.0.0", int(port)))
        sys.listen(listener, 9)
    except OSError as e:
        yield from complain(sys, "httpd", f"bind: {strerror(e)}")
        return 1
    if "f" not in opts:
        # Daemonize (bb_daemonize_or_rexec): the child serves with its stdio
        # on /dev/null, the parent (the shell's command) returns.
        def serve_forever(child) -> Gen:
            null = child.open("/dev/null", O_RDWR)
            for fd in (0, 1, 2):
                child.dup2(null, fd)
            if null > 2:
                child.close(null)
            return (yield from _accept_loop(child, listener, home, verbose, v6))

        sys.fork(serve_forever)
        sys.close(listener)
        return 0
    return (yield from _accept_loop(sys, listener, home, verbose, v6))


def _accept_loop(sys, listener: int, home: str, verbose: int, v6: bool) -> Gen:
    while True:
        conn, peer = yield from sys.accept(listener)
        log = Log(sys, verbose, peer, v6)
        yield from log.say(3, "connected")
        yield from _serve(sys, conn, home, log)
        yield from log.say(3, "closed")


def _read_request(sys, conn: int) -> Gen:
    request = b""
    while b"\r\n\r\n" not in request and b"\n\n" not in request:
        try:
            chunk = yield from sys.recv(conn, 65536, timeout=60)
        except OSError:
            chunk = b""
        if not chunk:
            break
        request += chunk
    return request


def _is_dir(sys, path: str) -> bool:
    try:
        return sys.stat(path).kind.name == "DIR"
    except OSError:
        return False


def _serve(sys, conn: int, home: str, log: Log) -> Gen:
    line = (yield from _read_request(sys, conn)).split(b"\n", 1)[0].decode("latin-1").strip()
    parts = line.split()
    method = parts[0] if parts else ""
    url = normalise_url(parts[1]) if len(parts) >= 2 else None
    status, body, extra = 400, b"", ""
    if url is not None:
        query = parts[1].split("?", 1)[1] if "?" in parts[1] else None
        base = home.rstrip("/")
        moved = not url.endswith("/") and _is_dir(sys, base + url)
        yield from log.say(2, f"url:{url}")
        if method not in ("GET", "HEAD"):
            status = 501
        elif moved:
            status = 302
            extra = f"Location: {url}/{'?' + query if query is not None else ''}\r\n"
        else:
            status, body, extra = yield from _file(
                sys, base + url + ("index.html" if url.endswith("/") else "")
            )
    yield from log.say(1, f"response:{status}")
    head = f"HTTP/1.1 {status} {STATUS[status][0]}\r\nDate: {_http_date(sys.wall_time())}\r\nConnection: close\r\n"
    head += f"Content-type: {'text/html' if status != 200 else _content_type(url or '')}\r\n{extra}\r\n"
    if status not in (200, 302):
        body = _error_page(status)
    try:
        yield from write_all(sys, conn, head.encode() + body)  # HEAD too: busybox sends the body
    except OSError:
        pass
    sys.close(conn)


def _content_type(path: str) -> str:
    if path.endswith("/"):
        path += "index.html"
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def _file(sys, path: str) -> Gen:
    """(status, body, headers) for a file to send."""
    try:
        mtime = int(sys.inode_info(path).mtime)
        fd = sys.open(path)
        body = yield from read_all(sys, fd)
        sys.close(fd)
    except OSError:
        return 404, b"", ""
    extra = (
        f"Accept-Ranges: bytes\r\nLast-Modified: {_http_date(mtime)}\r\n"
        f'ETag: "{mtime:x}-{len(body):x}"\r\nContent-Length: {len(body)}\r\n'
    )
    return 200, body, extra
