"""rdate -- after busybox 1.35's util-linux/rdate.c.

``rdate [-s] [-p] HOST[:PORT]`` asks an RFC 868 time server (TCP port 37,
"time" in /etc/services is not read: the image has none) for 4 bytes,
seconds since 1900, and takes the 32 bits nearest to the local clock (so
2036's wrap-around works).  Without -p it sets the clock -- which in a
container (no CAP_SYS_TIME) is "settimeofday: Operation not permitted",
unless the time already matches ("current time matches remote time");
unless -s alone it prints the remote time as ctime(3) in the local zone.
Errors: "bad address", "can't connect to remote host (IP): ERR",
"HOST: short read" (the first read() brought fewer than 4 bytes).

Not modelled (SIMPLIFICATIONS.md): setting the clock -- the simulated
kernel refuses it to every process, as a container's missing
CAP_SYS_TIME does; the 10-second alarm for a server that never answers.
"""

from __future__ import annotations

import struct
from typing import Any

from ..sys_api import Sys
from . import timefmt
from .applet_table import applet
from .libc import Gen, complain, out, parse_options, strerror
from .net_resolv import resolve

RFC_868_BIAS = 2208988800
TIME_PORT = 37


@applet("rdate")
def rdate_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "rdate", "sp", need_operands=True)
    if opts is None:
        return 1
    remote = yield from _ask_remote_date(sys, opts.operands[0])
    if remote is None:
        return 1
    flags = {c for c in "sp" if c in opts}
    if "p" not in flags:
        if int(sys.wall_time()) == remote:
            yield from complain(sys, "rdate", "current time matches remote time")
        else:
            # settimeofday: the simulated kernel lets no process set the clock
            yield from complain(sys, "rdate", "settimeofday: Operation not permitted")
            return 1
    if flags != {"s"}:
        zone = yield from timefmt.load_zone(sys)
        yield from out(sys, timefmt.ctime(timefmt.localtime(zone, remote)) + "\n")
    return 0


def _ask_remote_date(sys: Any, host: str) -> Gen:
    # Any: the socket calls are the network's, outside the Sys protocol (as nc's and wget's)
    name, port = host, TIME_PORT
    if host.count(":") == 1:
        name, _, port_text = host.partition(":")
        if not port_text.isdigit() or int(port_text) > 65535:
            yield from complain(sys, "rdate", f"bad port '{port_text}'")
            return None
        port = int(port_text)
    addresses = yield from resolve(sys, name)
    if not addresses:
        yield from complain(sys, "rdate", f"bad address '{name}'")
        return None
    ip = addresses[0]
    sock = sys.socket("tcp")
    try:
        yield from sys.connect(sock, (ip, port))
    except OSError as e:
        yield from complain(sys, "rdate", f"can't connect to remote host ({ip}): {strerror(e)}")
        return None
    try:
        data = yield from sys.read(sock, 4)
    except OSError:
        data = b""
    if len(data) != 4:
        yield from complain(sys, "rdate", f"{host}: short read")
        return None
    sys.close(sock)
    (nett,) = struct.unpack(">I", data)
    nett = (nett - RFC_868_BIAS) % 2**32
    cur = int(sys.wall_time())
    adjust = (nett - cur % 2**32) % 2**32
    if adjust >= 2**31:
        adjust -= 2**32
    return cur + adjust
