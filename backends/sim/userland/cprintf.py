"""One C ``printf`` directive at a time, as glibc formats it.

busybox hands a format and one argument to printf in many places (awk's
printf, hexdump/od formats, fmt_num); this is that call:
``cformat("%-5.2f|", 3.14159)``.
"""

from __future__ import annotations

import math
import re


class FormatError(ValueError):
    """A conversion this printf does not know."""


_SPEC = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d*))?(hh|h|ll|l|L|q|j|z|t)?([a-zA-Z%])")


def _float_text(conv: str, flags: str, prec: int | None, value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        body = (
            ("nan" if math.isnan(value) else "inf")
            if conv.islower()
            else ("NAN" if math.isnan(value) else "INF")
        )
        sign = (
            "-"
            if (math.isinf(value) and value < 0) or (math.isnan(value) and math.copysign(1, value) < 0)
            else ""
        )
        if not sign and "+" in flags:
            sign = "+"
        elif not sign and " " in flags:
            sign = " "
        return sign + body
    if conv in "aA":
        text = value.hex() if prec is None else _hexfloat(value, prec)
        text = text.replace("0x", "0x").replace("+", "+")
        return text.upper() if conv == "A" else text
    spec = "%" + flags.replace("0", "").replace("-", "") + ("" if prec is None else f".{prec}") + conv
    return spec % value


def _hexfloat(value: float, prec: int) -> str:
    return value.hex()


def cformat(spec: str, arg) -> str:
    """One printf directive (and the text around it) with one argument, as
    glibc formats it: ``%d %i %o %u %x %X %c %s %e %E %f %F %g %G %a %A``
    with flags, width and precision; ``%%`` is a percent sign."""
    out = []
    pos = 0
    used = False
    for m in _SPEC.finditer(spec):
        out.append(spec[pos : m.start()])
        pos = m.end()
        flags, width_text, prec_text, length, conv = m.groups()
        if conv == "%":
            out.append("%")
            continue
        value = arg if not used else (0 if conv not in "s" else "")
        used = True
        width = int(width_text) if width_text else 0
        prec = int(prec_text) if prec_text else (0 if prec_text == "" and "." in m.group(0) else None)
        out.append(
            _one(
                conv,
                flags,
                width,
                prec,
                value,
                64 if length and length in ("l", "ll", "q", "j", "z", "t") else 32,
            )
        )
    out.append(spec[pos:])
    return "".join(out)


def _one(conv: str, flags: str, width: int, prec: int | None, value, bits: int = 32) -> str:
    left = "-" in flags
    if conv == "s":
        text = str(value)
        if prec is not None:
            text = text[:prec]
        return text.ljust(width) if left else text.rjust(width)
    if conv == "c":
        text = value if isinstance(value, str) else chr(value & 0xFF)
        return text.ljust(width) if left else text.rjust(width)
    if conv in "diouxX":
        n = int(value)
        if conv in "ouxX":
            n &= (1 << bits) - 1
        neg = n < 0
        digits = {"d": str, "i": str, "u": str}.get(conv, None)
        if digits is not None:
            body = str(abs(n))
        elif conv == "o":
            body = format(n, "o")
        else:
            body = format(n, "x" if conv == "x" else "X")
        if prec is not None:
            body = "" if prec == 0 and n == 0 else body.rjust(prec, "0")
        prefix = ""
        if conv in "di":
            prefix = "-" if neg else ("+" if "+" in flags else (" " if " " in flags else ""))
        elif "#" in flags:
            if conv == "o" and not body.startswith("0"):
                body = "0" + body
            elif conv in "xX" and n != 0:
                prefix = "0x" if conv == "x" else "0X"
        if "0" in flags and not left and prec is None:
            body = body.rjust(width - len(prefix), "0")
        text = prefix + body
        return text.ljust(width) if left else text.rjust(width)
    if conv in "eEfFgGaA":
        x = float(value)
        text = _float_text(conv, flags, prec, x)
        finite = not (math.isnan(x) or math.isinf(x))
        if finite and not text.startswith("-"):
            if "+" in flags:
                text = "+" + text
            elif " " in flags:
                text = " " + text
        if "#" in flags and finite and conv in "gG" and "." not in text and "e" not in text.lower():
            pass
        if "0" in flags and not left and finite:
            sign = text[0] if text[:1] in "+- " else ""
            text = sign + text[len(sign) :].rjust(width - len(sign), "0")
        return text.ljust(width) if left else text.rjust(width)
    raise FormatError(conv)
