"""Name resolution as libc does it for busybox: /etc/hosts, then DNS.

``resolve`` is ``getaddrinfo`` for IPv4: a dotted address is itself; a name
is looked up in ``/etc/hosts`` first, then asked of the nameservers in
``/etc/resolv.conf`` (with its ``search`` domains for a name without a dot)
over UDP port 53 -- in a container on a user-defined network that is the
engine's embedded DNS server at 127.0.0.11.  The DNS messages are built and
read here (RFC 1035), so the simulated userland needs nothing but sockets.
"""

from __future__ import annotations

import errno
import ipaddress
import struct

from .libc import Gen, read_text

QTYPE = {"A": 1, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
QUERY_TIMEOUT = 5.0  # seconds per nameserver (resolv.conf's default "timeout:5")


def is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def hosts_entries(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and is_address(fields[0]):
            found.append((fields[0], fields[1:]))
    return found


def resolv_conf(sys) -> Gen:
    """(nameservers, search domains) of /etc/resolv.conf."""
    try:
        text = yield from read_text(sys, "/etc/resolv.conf")
    except OSError:
        text = ""
    servers, search = [], []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            servers.append(fields[1])
        elif fields and fields[0] in ("search", "domain"):
            search = fields[1:]
    return servers or ["127.0.0.1"], search


def from_hosts(sys, name: str) -> Gen:
    try:
        text = yield from read_text(sys, "/etc/hosts")
    except OSError:
        return []
    return [ip for ip, names in hosts_entries(text) if name.lower() in (n.lower() for n in names)]


def build_query(ident: int, name: str, qtype: int) -> bytes:
    head = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # RD
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".") if p)
    return head + labels + b"\0" + struct.pack(">HH", qtype, 1)


def _skip_name(data: bytes, pos: int) -> int:
    while pos < len(data):
        n = data[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1
    raise ValueError("truncated name")


def parse_reply(data: bytes) -> tuple[int, int, bool, list[tuple[int, bytes]]]:
    """(id, rcode, authoritative, [(type, rdata)]) of a DNS reply."""
    ident, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", data[:12])
    pos = 12
    for _ in range(qd):
        pos = _skip_name(data, pos) + 4
    answers = []
    for _ in range(an):
        pos = _skip_name(data, pos)
        rtype, _rclass, _ttl, length = struct.unpack(">HHIH", data[pos : pos + 10])
        pos += 10
        answers.append((rtype, data[pos : pos + length]))
        pos += length
    return ident, flags & 0xF, bool(flags & 0x0400), answers


def query(sys, server: str, name: str, qtype: int, timeout: float = QUERY_TIMEOUT) -> Gen:
    """One question to one server over UDP: (rcode, authoritative, addresses).
    OSError: the server cannot be reached (ECONNREFUSED ...); EAGAIN: no answer in time."""
    fd = sys.socket("udp")
    try:
        yield from sys.connect(fd, (server, 53))
        ident = int(sys.time() * 1000) & 0xFFFF
        sys.send(fd, build_query(ident, name, qtype))
        while True:
            data = yield from sys.recv(fd, 65535, timeout=timeout)
            try:
                got_id, rcode, aa, answers = parse_reply(data)
            except (ValueError, struct.error):
                continue
            if got_id != ident:
                continue
            addresses = []
            for rtype, rdata in answers:
                if rtype == 1 and len(rdata) == 4:
                    addresses.append(str(ipaddress.IPv4Address(rdata)))
                elif rtype == 28 and len(rdata) == 16:
                    addresses.append(str(ipaddress.IPv6Address(rdata)))
            return rcode, aa, addresses
    finally:
        sys.close(fd)


def resolve(sys, name: str) -> Gen:
    """IPv4 addresses of ``name`` (hosts, then DNS); [] if none."""
    if is_address(name):
        return [name]
    found = yield from from_hosts(sys, name)
    if found:
        return found
    servers, search = yield from resolv_conf(sys)
    candidates = [name] if "." in name else [*(f"{name}.{d}" for d in search), name]
    for server in servers:
        for candidate in candidates:
            try:
                rcode, _aa, addresses = yield from query(sys, server, candidate, 1)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH):
                    break  # the next server
                raise
            if rcode == 0 and addresses:
                return addresses
    return []
