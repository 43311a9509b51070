"""Binary dumps: od (busybox 1.35's ``od_bloaty.c``, the coreutils-like
one Debian builds), hexdump and xxd (through libbb's format engine,
:mod:`.dump_engine`).

od: ``-t`` types ``a c d[N] o[N] u[N] x[N] f[N]`` (N = 1, 2, 4, 8; C S I
L; F D L for floats) with ``z`` for the text trailer, the traditional
``-a -b -c -d -f -h -i -l -o -s -x``, ``-A d|o|x|n``, ``-j``, ``-N``,
``-w``, ``-v``, ``-S``; repeated lines as ``*``.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from decimal import Decimal
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .dump_engine import ALL, Dumper, DumpError, DumpExit
from .libc import (
    BufferedOutput,
    UsageError,
    close_quietly,
    complain,
    getopt,
    read_chunk,
    read_text,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]


class Die(Exception):
    pass


_BKM = {"b": 512, "k": 1024, "m": 1024 * 1024}


def parse_size(text: str, suffixes: dict[str, int] = _BKM, base0: bool = True) -> int:
    """xstrtou*_sfx: a number (0x hex, 0 octal) with an optional suffix."""
    body = text
    mult = 1
    for suf, m in sorted(suffixes.items(), key=lambda kv: -len(kv[0])):
        if suf and body.endswith(suf) and body[: -len(suf)]:
            body, mult = body[: -len(suf)], m
            break
    try:
        if base0 and body.lower().startswith("0x"):
            n = int(body[2:], 16)
        elif base0 and body.startswith("0") and len(body) > 1:
            n = int(body[1:], 8)
        else:
            if not body.isdigit():
                raise ValueError
            n = int(body)
    except ValueError:
        raise Die(f"invalid number '{text}'") from None
    return n * mult


# -- od ----------------------------------------------------------------------------------

OCT_DIGITS = (0, 3, 6, 8, 11, 14, 16, 19, 22, 25, 27, 30, 32, 35, 38, 41, 43)
SDEC_DIGITS = (1, 4, 6, 8, 11, 13, 16, 18, 20, 23, 25, 28, 30, 33, 35, 37, 40)
UDEC_DIGITS = (0, 3, 5, 8, 10, 13, 15, 17, 20, 22, 25, 27, 29, 32, 34, 37, 39)
HEX_DIGITS = (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32)
CHARNAME = (
    "nul soh stx etx eot enq ack bel  bs  ht  nl  vt  ff  cr  so  si "
    "dle dc1 dc2 dc3 dc4 nak syn etb can  em sub esc  fs  gs  rs  us  sp"
)
NAMES = [CHARNAME[i * 4 : i * 4 + 3] for i in range(33)]


class Spec:
    __slots__ = ("kind", "size", "width", "trailer", "conv")

    def __init__(self, kind: str, size: int, width: int, conv: str = "") -> None:
        self.kind, self.size, self.width, self.trailer, self.conv = kind, size, width, False, conv


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def decode_format(s_orig: str) -> list[Spec]:
    specs = []
    s = s_orig
    i = 0
    while i < len(s):
        c = s[i]
        if c in "doux":
            i += 1
            size = 4
            if i < len(s) and s[i] in "CSIL":
                size = {"C": 1, "S": 2, "I": 4, "L": 8}[s[i]]
                i += 1
            elif i < len(s) and s[i].isdigit():
                j = i
                while j < len(s) and s[j].isdigit():
                    j += 1
                bad = j < len(s) and _is_alnum(s[j])
                size = 4294967295 if bad else int(s[i:j])
                if size not in (1, 2, 4, 8):
                    raise Die(f"invalid type string '{s_orig}'; {size}-byte integral type is not supported")
                i = j
            pos = "doux".index(c)
            width = (SDEC_DIGITS, OCT_DIGITS, UDEC_DIGITS, HEX_DIGITS)[pos][size]
            spec = Spec(c, size, width, c)
        elif c == "f":
            i += 1
            size = 8
            if i < len(s) and s[i] in "FDL":
                size = {"F": 4, "D": 8, "L": 16}[s[i]]
                i += 1
            elif i < len(s) and s[i].isdigit():
                j = i
                while j < len(s) and s[j].isdigit():
                    j += 1
                bad = j < len(s) and _is_alnum(s[j])
                size = 4294967295 if bad else int(s[i:j])
                if size not in (4, 8, 16):
                    raise Die(
                        f"invalid type string '{s_orig}'; {size}-byte floating point type is not supported"
                    )
                i = j
            width = {4: 15, 8: 23, 16: 23}[size]
            spec = Spec("f", size, width)
        elif c in "ac":
            i += 1
            spec = Spec(c, 1, 3)
        else:
            raise Die(f"invalid character '{c}' in type string '{s_orig}'")
        if i < len(s) and s[i] == "z":
            spec.trailer = True
            i += 1
        specs.append(spec)
    return specs


def _long_double(raw: bytes) -> str:
    mant = int.from_bytes(raw[:8], "little")
    se = int.from_bytes(raw[8:10], "little")
    sign, exp = se >> 15, se & 0x7FFF
    if exp == 0x7FFF:
        body = "inf" if mant << 1 == 0 else "nan"
        return ("-" if sign else "") + body
    if mant == 0:
        value = Decimal(0)
    else:
        value = Decimal(mant) * (Decimal(2) ** (max(exp, 1) - 16383 - 63))
    text = format(value, ".15e")
    mantissa, _, exponent = text.partition("e")
    ex = int(exponent)
    text = f"{mantissa}e{'-' if ex < 0 else '+'}{abs(ex):02d}"
    return ("-" if sign else "") + text


def format_block(spec: Spec, block: bytes) -> str:
    out = []
    if spec.kind == "a":
        for b in block:
            c = b & 0x7F
            if c == 0x7F:
                out.append(" del")
            elif c > 32:
                out.append("   " + chr(c))
            else:
                out.append(" " + NAMES[c])
        return "".join(out)
    if spec.kind == "c":
        names = {0: "\\0", 7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
        for b in block:
            if 32 <= b < 127:
                out.append("   " + chr(b))
            elif b in names:
                out.append("  " + names[b])
            else:
                out.append(f" {b:03o}")
        return "".join(out)
    size = spec.size
    for k in range(0, len(block) - len(block) % size, size):
        raw = block[k : k + size]
        if spec.kind == "f":
            if size == 4:
                out.append(f" {struct.unpack('<f', raw)[0]:15.7e}")
            elif size == 8:
                out.append(f" {struct.unpack('<d', raw)[0]:23.15e}")
            else:
                out.append(f" {_long_double(raw):>23}")
            continue
        signed = spec.kind == "d" and size in (1, 2, 8)
        n = int.from_bytes(raw, "little", signed=signed)
        if spec.kind == "d" and size == 4:
            n = n - (1 << 32) if n >= 1 << 31 else n  # printed with %d
        w = spec.width
        if spec.kind == "d":
            out.append(f" {n:{w}d}")
        elif spec.kind == "u":
            out.append(f" {n:{w}d}")
        elif spec.kind == "o":
            out.append(f" {n:0{w}o}")
        else:
            out.append(f" {n:0{w}x}")
    return "".join(out)


class _Files:
    """The concatenation of od's input files."""

    def __init__(self, sys: Sys, names: list[str]) -> None:
        self.sys, self.names, self.status = sys, list(names), 0
        self.fd: int | None = None

    def open_next(self) -> Gen:
        while self.names:
            name = self.names.pop(0)
            if name == "-":
                self.fd = 0
                return
            try:
                self.fd = self.sys.open(name, 0)
                return
            except OSError as e:
                yield from complain(self.sys, "od", f"{name}: {strerror(e)}")
                self.status = 1
        self.fd = None

    def close(self) -> None:
        if self.fd:
            close_quietly(self.sys, self.fd)

    def read(self, n: int) -> Gen:
        data = b""
        while len(data) < n and self.fd is not None:
            chunk = yield from read_chunk(self.sys, self.fd, n - len(data))
            if chunk:
                data += chunk
                continue
            self.close()
            yield from self.open_next()
        return data

    def skip(self, n: int) -> Gen:
        while n and self.fd is not None:
            kind, size = self.sys.fd_info(self.fd)
            if kind == "file" and size > 0:
                if size < n:
                    n -= size
                else:
                    self.sys.lseek(self.fd, n, 1)
                    return
            else:
                while n > 0:
                    chunk = yield from read_chunk(self.sys, self.fd, min(n, 1024))
                    if not chunk:
                        break
                    n -= len(chunk)
                if n == 0:
                    return
            self.close()
            yield from self.open_next()
        if n:
            raise Die("can't skip past end of combined input")


@applet("od")
def od_main(sys: Sys) -> Gen:
    argv = []
    for a in sys.argv[1:]:
        for long, short in (
            ("--skip-bytes=", "-j"),
            ("--address-radix=", "-A"),
            ("--read-bytes=", "-N"),
            ("--format=", "-t"),
            ("--width=", "-w"),
            ("--strings=", "-S"),
        ):
            if a.startswith(long):
                a = short + a[len(long) :]
        argv.append({"--output-duplicates": "-v", "--strings": "-S3", "--width": "-w32"}.get(a, a))
    try:
        opts = getopt(argv, "A:N:abcdfhij:lot:vxsS:w:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "od", e.message)
        yield from show_usage(sys, "od")
        return 1
    out = BufferedOutput(sys, 1)
    try:
        base, pad = "o", 7
        no_address = False
        if "A" in opts.values:
            a = (opts.value("A") or "")[:1]
            if a not in ("d", "o", "x", "n") or not a:
                raise Die(f"bad output address radix '{a}' (must be [doxn])")
            # -An: busybox takes the padding of the lines after the first
            # from past the end of its 3-entry table; that byte is 'u', 69
            base, pad = {"d": ("d", 7), "o": ("o", 7), "x": ("x", 6), "n": ("o", 69)}[a]
            no_address = a == "n"
        specs: list[Spec] = []
        for letter, fmt in (
            ("a", "a"),
            ("b", "oC"),
            ("c", "c"),
            ("d", "u2"),
            ("f", "fF"),
            ("h", "x2"),
            ("i", "d2"),
        ):
            if letter in opts:
                specs += decode_format(fmt)
        skip = parse_size(opts.value("j") or "") if "j" in opts.values else 0
        if "l" in opts:
            specs += decode_format("d4")
        if "o" in opts:
            specs += decode_format("o2")
        for fmt in opts.values.get("t", []):
            specs += decode_format(fmt)
        if "x" in opts:
            specs += decode_format("x2")
        if "s" in opts:
            specs += decode_format("d2")
        limit = parse_size(opts.value("N") or "") if "N" in opts.values else None
        string_min = parse_size(opts.value("S") or "") if "S" in opts.values else None
        if not specs:
            specs = decode_format("o2")

        def address(n: int, end: str = "") -> None:
            if not no_address:
                out.write(f"{n:0{pad}{base}}{end}")

        files = _Files(sys, opts.operands or ["-"])
        yield from files.open_next()
        yield from files.skip(skip)
        if files.fd is None:
            yield from out.flush()
            return 1
        lcm = 1
        for sp in specs:
            m, k = lcm, sp.size  # Euclid: m ends as gcd(lcm, size)
            while k:
                m, k = k, m % k
            lcm = lcm * sp.size // m
        if "w" in opts.values:
            per = int(opts.value("w") or "0") if (opts.value("w") or "").isdigit() else 0
            if not per or per % lcm:
                yield from complain(sys, "od", f"warning: invalid width {per}; using {lcm} instead")
                per = lcm
        else:
            per = lcm * (16 // lcm) if lcm < 16 else lcm
        end = None if limit is None else skip + limit
        offset = skip
        if string_min is not None:
            yield from _od_strings(sys, files, out, offset, end, string_min, address)
            yield from out.flush()
            return files.status
        prev: bytes | None = None
        dup = False
        while True:
            want = per if end is None else min(per, end - offset)
            block = (yield from files.read(want)) if want > 0 else b""
            if len(block) < per:
                break
            if "v" not in opts and prev is not None and block == prev:
                if not dup:
                    out.write("*\n")
                    dup = True
            else:
                dup = False
                _write_block(out, specs, block, per, offset, address, pad)
            prev = block
            offset += len(block)
            yield from out.drain()
        if block:
            padded_len = lcm * ((len(block) + lcm - 1) // lcm)
            padded = block + bytes(padded_len - len(block))
            if "v" not in opts and prev is not None and padded == prev and padded_len == per:
                if not dup:
                    out.write("*\n")
            else:
                _write_block(out, specs, padded, per, offset, address, pad, real=len(block))
            offset += len(block)
        address(offset, "\n")
        yield from out.flush()
        return files.status
    except Die as e:
        yield from out.flush_quietly()
        yield from complain(sys, "od", str(e))
        return 1


def _write_block(
    out, specs, block: bytes, per: int, offset: int, address, pad: int, real: int | None = None
) -> None:
    for i, sp in enumerate(specs):
        if i == 0:
            address(offset)
        else:
            out.write(" " * pad)
        out.write(format_block(sp, block))
        if sp.trailer:
            n = len(block)
            blank = (per - n) // sp.size
            out.write(" " * (blank * (sp.width + 1)))
            text = block[: real if real is not None else n]
            out.write("  >" + "".join(chr(b) if 32 <= b < 127 else "." for b in text) + "<")
        out.write("\n")


def _od_strings(sys, files: _Files, out, address_value: int, end, string_min: int, address) -> Gen:
    escapes = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    pos = address_value
    buf = bytearray()
    while True:
        if end is not None and end - string_min <= pos:
            return
        b = yield from files.read(1)
        if not b:
            return
        pos += 1
        c = b[0]
        if c == 0:
            if len(buf) >= string_min:
                address(pos - len(buf) - 1, " ")
                out.write("".join(escapes.get(x, chr(x)) for x in buf) + "\n")
            buf = bytearray()
            continue
        if not (32 <= c < 127 or c in escapes):
            buf = bytearray()
            continue
        buf.append(c)


# -- hexdump / xxd ----------------------------------------------------------------------------

HEXDUMP_STRINGS = {
    "b": '"%07.7_ax "16/1 "%03o ""\\n"',
    "c": '"%07.7_ax "16/1 "%3_c ""\\n"',
    "d": '"%07.7_ax "8/2 "  %05u ""\\n"',
    "o": '"%07.7_ax "8/2 " %06o ""\\n"',
    "x": '"%07.7_ax "8/2 "   %04x ""\\n"',
}


@applet("hexdump")
def hexdump_main(sys: Sys) -> Gen:
    d = Dumper(sys, "hexdump")
    args = list(sys.argv[1:])
    files: list[str] = []
    try:
        i = 0
        while i < len(args):
            a = args[i]
            i += 1
            if a == "--":
                files += args[i:]
                break
            if not a.startswith("-") or a == "-":
                files.append(a)
                continue
            j = 1
            while j < len(a):
                ch = a[j]
                j += 1
                if ch not in "bcdoxCe:f:n:s:v".replace(":", ""):
                    yield from complain(sys, "hexdump", f"invalid option -- '{ch}'")
                    yield from show_usage(sys, "hexdump")
                    return 1
                if ch in "efns":
                    if j < len(a):
                        val = a[j:]
                    elif i < len(args):
                        val, i = args[i], i + 1
                    else:
                        yield from complain(sys, "hexdump", f"option requires an argument -- '{ch}'")
                        yield from show_usage(sys, "hexdump")
                        return 1
                    j = len(a)
                    if ch == "e":
                        d.add(val)
                    elif ch == "f":
                        text = yield from read_text(sys, val)
                        for line in text.splitlines():
                            line = line.lstrip(" \t")
                            if line and not line.startswith("#"):
                                d.add(line)
                    elif ch == "n":
                        if not val.isdigit():
                            raise Die(f"invalid number '{val}'")
                        d.length = int(val)
                    else:
                        d.skip = parse_size(val)
                    continue
                if ch in HEXDUMP_STRINGS:
                    d.add('"%07.7_Ax\\n"')
                    d.add(HEXDUMP_STRINGS[ch])
                elif ch == "C":
                    d.add('"%08.8_Ax\\n"')
                    d.add('"%08.8_ax  "8/1 "%02x ""  "8/1 "%02x "')
                    d.add('"  |"16/1 "%_p""|\\n"')
                elif ch == "v":
                    d.vflag = ALL
        if not d.fss:
            d.add('"%07.7_Ax\\n"')
            d.add('"%07.7_ax "8/2 "%04x ""\\n"')
        return (yield from d.dump(files))
    except (Die, DumpError) as e:
        yield from d.out.flush_quietly()
        yield from complain(sys, "hexdump", str(e))
        return 1
    except DumpExit as e:
        return e.status


@applet("xxd")
def xxd_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "l:s:apirg:c:o:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "xxd", e.message)
        yield from show_usage(sys, "xxd")
        return 1
    if len(opts.operands) > 1:
        yield from show_usage(sys, "xxd")
        return 1
    d = Dumper(sys, "xxd")
    d.vflag = ALL
    try:
        if "l" in opts.values:
            d.length = parse_size(opts.value("l") or "", {})
        if "s" in opts.values:
            d.skip = parse_size(opts.value("s") or "", {})
        if "r" in opts:
            return (yield from _xxd_reverse(sys, opts))
        if "o" in opts.values:
            text = opts.value("o") or ""
            neg = text.startswith("-")
            d.displayoff = -parse_size(text[1:], {}) if neg else parse_size(text, {})
        group = int(opts.value("g") or "") if (opts.value("g") or "").isdigit() else 2
        cols = int(opts.value("c") or "") if (opts.value("c") or "").isdigit() else 0
        if "p" in opts:
            cols = cols or 30
            group = cols
        else:
            cols = cols or (12 if "i" in opts else 16)
            if "i" in opts:
                group = 1
                d.add('" "')
            else:
                d.add('"%08.8_ax: "')
        if group < 1 or group >= cols:
            d.add(f'{cols}/1 "%02x"')
        elif group == 1:
            d.add(f'{cols}/1 " 0x%02x,"' if "i" in opts else f'{cols}/1 "%02x "')
        else:
            d.add(
                "".join('/1 "%02x"' if (k == cols or k % group) else '/1 "%02x "' for k in range(1, cols + 1))
            )
        if "p" not in opts and "i" not in opts:
            d.add(f'"  "{cols}/1 "%_p""\\n"')
        else:
            d.add('"\\n"')
            d.eofstring = "\n"
        name = opts.operands[0] if opts.operands else None
        if "i" in opts and name:
            d.out.write(_c_style(name, "unsigned char %s") + "[] = {\n")
        r = yield from d.dump([name] if name else [])
        if r == 0 and "i" in opts and name:
            d.out.write(_c_style(name, "};\nunsigned int %s") + f"_len = {d.address};\n")
            yield from d.out.flush()
        return r
    except (Die, DumpError) as e:
        yield from d.out.flush_quietly()
        yield from complain(sys, "xxd", str(e))
        return 1
    except DumpExit as e:
        return e.status


def _c_style(name: str, hdr: str) -> str:
    prefix = hdr.replace("%s", "__" if name[:1].isdigit() else "")
    return prefix + "".join(c if c.isascii() and c.isalnum() else "_" for c in name)


def _xxd_reverse(sys: Sys, opts) -> Gen:
    name = opts.operands[0] if opts.operands else "-"
    if name == "-":
        fd = 0
    else:
        try:
            fd = sys.open(name, 0)
        except OSError as e:
            raise Die(f"can't open '{name}': {strerror(e)}") from None
    from .libc import read_all

    data = (yield from read_all(sys, fd)).decode("latin-1")
    out = BufferedOutput(sys, 1)
    hexdigits = "0123456789abcdefABCDEF"
    if "p" in opts:
        pending = None
        for ch in data:
            if ch in hexdigits:
                if pending is None:
                    pending = int(ch, 16)
                else:
                    out.write(bytes([(pending << 4) | int(ch, 16)]))
                    pending = None
            elif ch in " \t\n\r\v\f":
                continue
            else:
                pending = None
    else:
        for line in data.splitlines():
            colon = line.find(":")
            if colon < 0:
                continue
            body = line[colon + 1 :]
            hexpart = body.split("  ", 1)[0] if "  " in body[1:] else body
            digits = [c for c in hexpart if c in hexdigits]
            for k in range(0, len(digits) - 1, 2):
                out.write(bytes([int(digits[k] + digits[k + 1], 16)]))
    yield from out.flush()
    return 0
