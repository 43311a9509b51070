"""Writers of the archive formats the package applets read, for the
differential tests (inputs made here, no downloads): ar (GNU layout)."""

from __future__ import annotations


def ar_header(name: bytes, size: int, *, mtime=1700000000, uid=0, gid=0, mode=b"100644") -> bytes:
    return b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name, mtime, uid, gid, mode, size)


def make_ar(members, *, symbols: bool = False) -> bytes:
    """members: (name, data, fields) -- GNU ar's layout: names longer
    than 15 bytes go to the "//" table, short ones end in '/'."""
    out = [b"!<arch>\n"]

    def add(header: bytes, data: bytes) -> None:
        out.append(header + data + (b"\n" if len(data) % 2 else b""))

    if symbols:
        add(ar_header(b"/", 8, mtime=0, mode=b"0"), b"\0\0\0\1\0\0\0\x44")
    table = b""
    names = []
    for name, _data, _fields in members:
        if len(name) > 15:
            names.append(b"/%d" % len(table))
            table += name + b"/\n"
        else:
            names.append(name + b"/")
    if table:
        add(b"%-48s%-10d`\n" % (b"//", len(table)), table)
    for ar_name, (_name, data, fields) in zip(names, members, strict=True):
        add(ar_header(ar_name, len(data), **fields), data)
    return b"".join(out)
