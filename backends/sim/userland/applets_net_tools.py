"""Talking over the network: ping, nc, wget, nslookup (httpd: applets_httpd).

Each behaves as busybox 1.35 does -- its output, its error wording
("can't connect to remote host (172.18.0.9): No route to host"), its exit
status -- on the simulated sockets.  Time is the simulator's: ``ping -c 3``
takes three virtual seconds, a connection to a silent host waits the
kernel's SYN retries unless ``-w`` says less.
"""

from __future__ import annotations

import errno
import struct

from .applet_table import applet
from .libc import Gen, complain, err, out, parse_options, read_all, strerror, write_all
from .net_resolv import QTYPE, RCODES, is_address, query, resolv_conf, resolve

# -- ping ---------------------------------------------------------------------------------------


def _fmt_ms(seconds: float) -> str:
    usec = max(0, int(round(seconds * 1_000_000)))
    return f"{usec // 1000}.{usec % 1000:03d}"


@applet("ping")
def ping_main(sys) -> Gen:
    opts = yield from parse_options(sys, "ping", "46c:s:t:AI:W:w:qp:i:")
    if opts is None:
        return 1
    if len(opts.operands) != 1:
        from .libc import show_usage

        yield from show_usage(sys, "ping")
        return 1
    host = opts.operands[0]
    count = int(opts.value("c", "0") or 0)
    size = int(opts.value("s", "56") or 56)
    wait_last = float(opts.value("W", "10") or 10)
    deadline = float(opts.value("w")) if opts.value("w") else None
    interval = float(opts.value("i", "1") or 1)
    quiet = "q" in opts
    addresses = yield from resolve(sys, host)
    if not addresses:
        yield from complain(sys, "ping", f"bad address '{host}'")
        return 1
    ip = addresses[0]
    fd = sys.socket("icmp")
    yield from out(sys, f"PING {host} ({ip}): {size} data bytes\n")
    started = sys.time()
    sent = received = 0
    rtts: list[float] = []
    seq = 0
    while True:
        if deadline is not None and sys.time() - started >= deadline:
            break
        t0 = sys.time()
        packet = struct.pack(">BBHHH", 8, 0, 0, 0, seq & 0xFFFF) + bytes(size)
        try:
            sys.sendto(fd, packet, (ip, 0))
        except OSError as e:
            yield from complain(sys, "ping", f"sendto: {strerror(e)}")
            return 1
        sent += 1
        last = count and sent >= count
        until = t0 + (wait_last if last else interval)
        if deadline is not None:
            until = min(until, started + deadline)
        while sys.time() < until:
            try:
                data, frm = yield from sys.recvfrom(fd, 65536, timeout=until - sys.time())
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    break
                raise
            if len(data) < 8 or data[0] != 0:
                continue
            got_seq = struct.unpack(">H", data[6:8])[0]
            rtt = sys.time() - t0
            received += 1
            rtts.append(rtt)
            if not quiet:
                yield from out(
                    sys,
                    f"{len(data)} bytes from {frm[0]}: seq={got_seq} ttl={frm[1]} time={_fmt_ms(rtt)} ms\n",
                )
            if last:
                break
        if last:
            break
        rest = t0 + interval - sys.time()
        if rest > 0:
            yield from sys.sleep(rest)
        seq += 1
    sys.close(fd)
    loss = (sent - received) * 100 // sent if sent else 0
    text = f"\n--- {host} ping statistics ---\n{sent} packets transmitted, {received} packets received, {loss}% packet loss\n"
    if rtts:
        avg = sum(rtts) / len(rtts)
        text += f"round-trip min/avg/max = {_fmt_ms(min(rtts))}/{_fmt_ms(avg)}/{_fmt_ms(max(rtts))} ms\n"
    yield from out(sys, text)
    return 0 if received else 1


# -- nc -----------------------------------------------------------------------------------------


def _pump(sys, sock: int) -> Gen:
    """busybox nc's loop: stdin to the socket, the socket to stdout; stdin's
    end is a half-close (shutdown), the socket's end is the end."""
    watching = [0, sock]
    while True:
        ready = yield from sys.poll(watching)
        for fd in ready:
            try:
                data = yield from sys.read(fd, 65536)
            except OSError as e:
                if fd == sock:
                    yield from complain(sys, "nc", strerror(e))
                    return 1
                data = b""
            if fd == sock:
                if not data:
                    return 0
                yield from write_all(sys, 1, data)
            else:
                if not data:
                    try:
                        sys.shutdown(sock, 1)
                    except OSError:
                        pass
                    watching = [sock]
                    continue
                yield from write_all(sys, sock, data)


@applet("nc")
def nc_main(sys) -> Gen:
    opts = yield from parse_options(sys, "nc", "i:w:lp:f:e:")
    if opts is None:
        return 1
    timeout = float(opts.value("w")) if opts.value("w") else None
    if "l" in opts:
        port = int(opts.value("p", "0") or 0)
        listener = sys.socket("tcp", v6=True)  # busybox listens on [::]:PORT, IPv4 too
        try:
            sys.bind(listener, ("0.0.0.0", port))
            sys.listen(listener, 1)
        except OSError as e:
            yield from complain(sys, "nc", f"bind: {strerror(e)}")
            return 1
        try:
            conn, _peer = yield from sys.accept(listener, timeout=timeout)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                yield from complain(sys, "nc", "timed out")
                return 1
            raise
        sys.close(listener)
        return (yield from _pump(sys, conn))
    if len(opts.operands) not in (1, 2):
        from .libc import show_usage

        yield from show_usage(sys, "nc")
        return 1
    host, port_text = (*opts.operands, "0")[:2]  # a host alone: port 0 (refused), as the image's nc
    addresses = yield from resolve(sys, host)
    if not addresses:
        yield from complain(sys, "nc", f"bad address '{host}'")
        return 1
    ip = addresses[0]
    sock = sys.socket("tcp")
    if opts.value("p"):
        sys.bind(sock, ("0.0.0.0", int(opts.value("p"))))
    try:
        yield from sys.connect(sock, (ip, int(port_text)), timeout=timeout)
    except OSError as e:
        if e.errno == errno.EINPROGRESS:
            yield from complain(sys, "nc", "timed out")
        else:
            yield from complain(sys, "nc", f"can't connect to remote host ({ip}): {strerror(e)}")
        return 1
    return (yield from _pump(sys, sock))


# -- wget ---------------------------------------------------------------------------------------


def _progress(name: str, size: int) -> str:
    shown, unit = size, " "
    for u in " kMGTPEZY":
        unit = u
        if shown < 100000:
            break
        shown //= 1024
    return f"{name:<20.20}{100:4d}% |{'*' * 32}| {shown:5d}{unit} 0:00:00 ETA\n"


def _parse_url(url: str) -> tuple[str, int, str] | None:
    if "://" in url:
        scheme, url = url.split("://", 1)
        if scheme != "http":
            return None
    hostport, _, path = url.partition("/")
    host, _, port = hostport.partition(":")
    return host, int(port) if port else 80, "/" + path


@applet("wget")
def wget_main(sys) -> Gen:
    args, quiet, show_headers, output, spider = [], False, False, None, False
    argv = sys.argv[1:]
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--spider":
            spider = True
        elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            j = 1
            while j < len(a):
                c = a[j]
                j += 1
                if c == "q":
                    quiet = True
                elif c == "S":
                    show_headers = True
                elif c in ("c",):
                    pass
                elif c in ("O", "T", "Y", "U"):
                    value = a[j:] if j < len(a) else (argv[i] if i < len(argv) else "")
                    if j >= len(a):
                        i += 1
                    if c == "O":
                        output = value
                    break
                else:
                    yield from complain(sys, "wget", f"invalid option -- '{c}'")
                    return 1
        else:
            args.append(a)
    if not args:
        from .libc import show_usage

        yield from show_usage(sys, "wget")
        return 1
    parsed = _parse_url(args[0])
    if parsed is None:
        yield from complain(sys, "wget", f"not an http or ftp url: {args[0]}")
        return 1
    host, port, path = parsed
    shown = args[0].split("://", 1)[-1].partition("/")[0]  # as written: busybox says "host[:port]"
    addresses = yield from resolve(sys, host)
    if not addresses:
        yield from complain(sys, "wget", f"bad address '{host}'")
        return 1
    ip = addresses[0]
    if not quiet:
        yield from err(sys, f"Connecting to {shown} ({ip}:{port})\n")
    method = "HEAD" if spider else "GET"
    # busybox follows a 301/302/303's Location (five at most): a path on the
    # same server quietly, another server after saying "Connecting to" it;
    # the file is still named after the URL asked for.
    redirects = 5
    where = path
    while True:
        sock = sys.socket("tcp")
        try:
            yield from sys.connect(sock, (ip, port))
        except OSError as e:
            yield from complain(sys, "wget", f"can't connect to remote host ({ip}): {strerror(e)}")
            return 1
        hostline = host if port == 80 else f"{host}:{port}"
        request = (
            f"{method} {where} HTTP/1.1\r\nHost: {hostline}\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n"
        )
        yield from write_all(sys, sock, request)
        data = yield from read_all(sys, sock)
        sys.close(sock)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0] if lines else ""
        parts = status.split(" ", 2)
        location = next(
            (line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("location:")),
            None,
        )
        if len(parts) >= 2 and parts[1] in ("301", "302", "303") and location is not None:
            if show_headers:  # the headers up to Location, where busybox stops reading them
                cut = next(i for i, line in enumerate(lines) if line.lower().startswith("location:"))
                yield from err(sys, "".join(f"  {line}\n" for line in lines[: cut + 1]))
            redirects -= 1
            if redirects == 0:
                yield from complain(sys, "wget", "too many redirections")
                return 1
            if location.startswith("/"):
                where = location
                continue
            target = _parse_url(location)
            if target is None:
                yield from complain(sys, "wget", f"not an http or ftp url: {location}")
                return 1
            host, port, where = target
            addresses = yield from resolve(sys, host)
            if not addresses:
                yield from complain(sys, "wget", f"bad address '{host}'")
                return 1
            ip = addresses[0]
            if not quiet:
                shown = location.split("://", 1)[-1].partition("/")[0]
                yield from err(sys, f"Connecting to {shown} ({ip}:{port})\n")
            continue
        break
    if show_headers:
        yield from err(sys, "".join(f"  {line}\n" for line in lines) + "  \n")
    if len(parts) < 2 or not parts[1].startswith("2"):
        yield from complain(sys, "wget", f"server returned error: {status}")
        return 1
    if spider:
        return 0
    if output is None:
        output = path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    if output == "-":
        if not quiet:
            yield from err(sys, "writing to stdout\n")
        yield from write_all(sys, 1, body)
        if not quiet:
            yield from err(sys, _progress("-", len(body)) + "written to stdout\n")
        return 0
    try:
        from ..sys_api import O_CREAT, O_TRUNC, O_WRONLY

        fd = sys.open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
    except OSError as e:
        yield from complain(sys, "wget", f"can't open '{output}': {strerror(e)}")
        return 1
    if not quiet:
        yield from err(sys, f"saving to '{output}'\n")
    yield from write_all(sys, fd, body)
    sys.close(fd)
    if not quiet:
        yield from err(sys, _progress(output.rsplit("/", 1)[-1], len(body)) + f"'{output}' saved\n")
    return 0


# -- nslookup -----------------------------------------------------------------------------------


@applet("nslookup")
def nslookup_main(sys) -> Gen:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    # -type=a / -query=aaaa: one question; by default A, then AAAA (the real
    # busybox prints the answers as they arrive, which is either order)
    wanted = [a.split("=", 1)[1].upper() for a in sys.argv[1:] if a.startswith(("-type=", "-query=", "-q="))]
    qtypes = [t for t in wanted[-1:] if t in QTYPE] or ["A", "AAAA"]
    if not args:
        from .libc import show_usage

        yield from show_usage(sys, "nslookup")
        return 1
    name = args[0]
    if len(args) > 1:
        server = args[1]
    else:
        servers, _search = yield from resolv_conf(sys)
        server = servers[0]
    text = f"Server:\t\t{server}\nAddress:\t{server}:53\n\n"
    yield from out(sys, text)
    if is_address(name):
        return 0
    status = 0
    for qtype in qtypes:
        try:
            rcode, aa, addresses = yield from query(sys, server, name, QTYPE[qtype])
        except OSError as e:
            if e.errno != errno.EAGAIN:
                yield from complain(sys, "nslookup", f"write to '{server}': {strerror(e)}")
            yield from out(sys, ";; connection timed out; no servers could be reached\n\n")
            return 1
        if rcode != 0:
            yield from out(sys, f"** server can't find {name}: {RCODES.get(rcode, rcode)}\n\n")
            status = 1
            continue
        section = "" if aa or not addresses else "Non-authoritative answer:\n"
        for address in addresses:
            section += f"Name:\t{name}\nAddress: {address}\n"
        yield from out(sys, section + "\n")
    return status
