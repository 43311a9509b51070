"""glibc's address parsing and host entries as busybox's ipcalc and
dnsdomainname use them: ``inet_aton`` (all its forms: ``a``, ``a.b``,
``a.b.c``, hex and octal parts, trailing blanks), and the canonical name
(``h_name``) that ``gethostbyname``/``gethostbyaddr`` return -- from
/etc/hosts (the first line that matches: its first name), else from the
nameservers of /etc/resolv.conf (the name that answered; a PTR record for
an address).  A failure is an h_errno, with ``hstrerror``'s words.
"""

from __future__ import annotations

import errno
import struct

from .libc import Gen, read_text
from .net_resolv import build_query, hosts_entries, is_address, query, resolv_conf

HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY = "Unknown host", "Host name lookup failure", "Unknown server error"


class LookupError_(Exception):
    """gethostby* returned NULL: ``str(self)`` is hstrerror(h_errno)."""


def _strtoul0(text: str, i: int) -> tuple[int, int]:
    """strtoul(text + i, &end, 0) from a digit: (value, end)."""
    if (
        text[i] == "0"
        and text[i + 1 : i + 2] in ("x", "X")
        and text[i + 2 : i + 3].lower() in set("0123456789abcdef")
    ):
        j = i + 2
        while j < len(text) and text[j].lower() in "0123456789abcdef":
            j += 1
        return int(text[i + 2 : j], 16), j
    digits = "01234567" if text[i] == "0" else "0123456789"
    j = i
    while j < len(text) and text[j] in digits:
        j += 1
    return int(text[i:j], 8 if text[i] == "0" else 10), j


def inet_aton(text: str) -> int | None:
    """glibc 2.36's inet_aton: the address as a host-order int, or None."""
    parts: list[int] = []
    i = 0
    while True:
        if i >= len(text) or not ("0" <= text[i] <= "9"):
            return None
        val, i = _strtoul0(text, i)
        if val > 0xFFFFFFFF:
            return None
        c = text[i] if i < len(text) else ""
        if c != ".":
            break
        if len(parts) > 2 or val > 0xFF:
            return None
        parts.append(val)
        i += 1
    if c and not (c.isascii() and c in " \t\n\v\f\r"):
        return None
    if val > (0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF)[len(parts)]:
        return None
    word = 0
    for k, p in enumerate(parts):
        word |= p << (24 - 8 * k)
    return word | val


def inet_ntoa(addr: int) -> str:
    return ".".join(str((addr >> s) & 0xFF) for s in (24, 16, 8, 0))


def _hosts(sys) -> Gen:
    try:
        text = yield from read_text(sys, "/etc/hosts")
    except OSError:
        return []
    return hosts_entries(text)


def gethostbyname_name(sys, name: str) -> Gen:
    """h_name of gethostbyname(name); raises LookupError_."""
    if is_address(name):
        return name
    for _ip, names in (yield from _hosts(sys)):
        if name.lower() in (n.lower() for n in names):
            return names[0]
    servers, search = yield from resolv_conf(sys)
    candidates = [name] if "." in name else [*(f"{name}.{d}" for d in search), name]
    return (yield from _ask(sys, servers, [(c, 1) for c in candidates], None))


def gethostbyaddr_name(sys, addr: int) -> Gen:
    """h_name of gethostbyaddr(addr, AF_INET); raises LookupError_."""
    dotted = inet_ntoa(addr)
    for ip, names in (yield from _hosts(sys)):
        if inet_aton(ip) == addr:
            return names[0]
    servers, _search = yield from resolv_conf(sys)
    reverse = ".".join(reversed(dotted.split("."))) + ".in-addr.arpa"
    return (yield from _ask(sys, servers, [(reverse, 12)], reverse))


def _ask(sys, servers: list[str], questions: list[tuple[str, int]], ptr_of: str | None) -> Gen:
    """The first question a server answers: the name asked (A) or the PTR
    target; LookupError_ with the h_errno of the last failure."""
    failure = TRY_AGAIN
    for server in servers:
        for name, qtype in questions:
            try:
                if qtype == 12:
                    target = yield from _ptr_query(sys, server, name)
                    if target is not None:
                        return target
                    failure = HOST_NOT_FOUND
                    continue
                rcode, _aa, addresses = yield from query(sys, server, name, qtype)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH):
                    failure = TRY_AGAIN
                    break  # the next server
                raise
            if rcode == 0 and addresses:
                return name
            failure = HOST_NOT_FOUND if rcode in (0, 3) else TRY_AGAIN
    raise LookupError_(failure)


def _ptr_query(sys, server: str, name: str) -> Gen:
    """One PTR question over UDP: the target name, or None."""
    fd = sys.socket("udp")
    try:
        yield from sys.connect(fd, (server, 53))
        ident = int(sys.time() * 1000) & 0xFFFF
        sys.send(fd, build_query(ident, name, 12))
        while True:
            data = yield from sys.recv(fd, 65535, timeout=5.0)
            try:
                return _ptr_answer(data, ident)
            except _Skip:
                continue
    finally:
        sys.close(fd)


class _Skip(Exception):
    pass


def _read_name(data: bytes, pos: int) -> tuple[str, int]:
    labels: list[str] = []
    end = None
    for _ in range(128):
        n = data[pos]
        if n == 0:
            return ".".join(labels), (end if end is not None else pos + 1)
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | data[pos + 1]
            continue
        labels.append(data[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
        pos += n + 1
    raise _Skip()


def _ptr_answer(data: bytes, ident: int) -> str | None:
    try:
        got, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", data[:12])
        if got != ident:
            raise _Skip()
        pos = 12
        for _ in range(qd):
            pos = _read_name(data, pos)[1] + 4
        for _ in range(an):
            pos = _read_name(data, pos)[1]
            rtype, _rclass, _ttl, length = struct.unpack(">HHIH", data[pos : pos + 10])
            pos += 10
            if rtype == 12:
                return _read_name(data, pos)[0]
            pos += length
    except (IndexError, struct.error):
        raise _Skip() from None
    return None
