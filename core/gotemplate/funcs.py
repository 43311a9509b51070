"""The functions a template can call: text/template's own and the docker CLI's.

text/template: ``and or not len index slice eq ne lt le gt ge print printf
println html js urlquery``.  The docker CLI adds ``json split join title
lower upper pad truncate`` (docker/cli ``templates/templates.go``).
"""

from __future__ import annotations

import html as htmlmod
import re
from urllib.parse import quote_plus

from .values import MISSING, GoMap, go_json, go_quote, go_str, go_type, truth


class CallError(Exception):
    """A function refused its arguments (``error calling index: ...``)."""


def _and(*args):
    if not args:
        raise CallError("and needs at least one argument")
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def _or(*args):
    if not args:
        raise CallError("or needs at least one argument")
    for a in args:
        if truth(a):
            return a
    return args[-1]


def _len(value):
    if isinstance(value, (str, list, dict)):
        return len(value.encode() if isinstance(value, str) else value)
    raise CallError(f"len of type {go_type(value)}")


def _index(value, *keys):
    for key in keys:
        if isinstance(value, list) or isinstance(value, str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise CallError(f"cannot index slice/array with type {go_type(key)}")
            if not 0 <= key < len(value):
                raise CallError(f"index out of range: {key}")
            value = value[key] if isinstance(value, list) else value.encode()[key]
        elif isinstance(value, dict) and not isinstance(value, GoMap):
            raise CallError("can't index item of type struct")
        elif isinstance(value, dict):
            if not isinstance(key, str):
                raise CallError(f"value has type {go_type(key)}; should be string")
            value = value.get(key, "" if isinstance(value, GoMap) else MISSING)
        elif value is None or value is MISSING:
            raise CallError("index of untyped nil")
        else:
            raise CallError(f"can't index item of type {go_type(value)}")
    return value


def _slice(value, *bounds):
    if not isinstance(value, (str, list)):
        raise CallError(f"can't slice item of type {go_type(value)}")
    if len(bounds) > 2:
        raise CallError("too many slice indexes")
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else len(value)
    if not 0 <= start <= end <= len(value):
        raise CallError(f"slice indexes out of range: {start}:{end}")
    return value[start:end]


def _basic(value):
    if value is MISSING:
        return None
    return value


def _comparable(a, b) -> None:
    numbers = (int, float)
    if isinstance(a, bool) != isinstance(b, bool) or (
        not (isinstance(a, numbers) and isinstance(b, numbers)) and type(a) is not type(b)
    ):
        if a is not None and b is not None:
            raise CallError("incompatible types for comparison")


def _eq(first, *others):
    if not others:
        raise CallError("missing argument for comparison")
    for other in others:
        _comparable(_basic(first), _basic(other))
        if _basic(first) == _basic(other):
            return True
    return False


def _ordered(op):
    def compare(a, b):
        a, b = _basic(a), _basic(b)
        _comparable(a, b)
        if isinstance(a, (bool, list, dict)) or a is None:
            raise CallError("invalid type for comparison")
        return op(a, b)

    return compare


def _sprint(*args) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out = ""
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out += " "
        out += go_str(a)
    return out


def _sprintln(*args) -> str:
    return " ".join(go_str(a) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


def go_sprintf(fmt: str, *args) -> str:
    """fmt.Sprintf for the verbs templates use: %v %s %d %q %x %X %o %b %c %f %e %g %t %T %%."""
    out = []
    pos = 0
    index = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, precision, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[index]
        index += 1
        out.append(_format_one(flags, width, precision, verb, arg))
    out.append(fmt[pos:])
    if index < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{go_type(a)}={go_str(a)}" for a in args[index:]) + ")")
    return "".join(out)


def _format_one(flags: str, width: str | None, precision: str | None, verb: str, arg) -> str:
    arg = _basic(arg)
    text = _format_good(flags, width, precision, verb, arg)
    if text is not None:
        return text
    # a wrong verb: %!d(string=    a) -- the value as %v, with the flags and width
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(arg)}={_pad(go_str(arg), flags, width if width and width != '*' else '')})"


def _format_good(flags: str, width: str | None, precision: str | None, verb: str, arg) -> str | None:
    spec_flags = flags.replace("#", "") if verb not in "xXob" else flags
    w = width if width and width != "*" else ""
    p = f".{precision}" if precision not in (None, "*") else ("." if precision is not None else "")
    if verb == "s" and (arg is None or isinstance(arg, (bool, int, float))):
        return None
    if verb in "vs":
        text = go_str(arg)
        if precision not in (None, "*"):
            text = text[: int(precision)]
        return _pad(text, flags, w)
    if verb == "q":
        if isinstance(arg, str):
            return _pad(go_quote(arg), flags, w)
        if isinstance(arg, int) and not isinstance(arg, bool):
            return _pad(_quote_rune(arg), flags, w)
        return None
    if verb == "T":
        return _pad(go_type(arg), flags, w)
    if verb == "t":
        return _pad(go_str(arg), flags, w) if isinstance(arg, bool) else None
    if verb in "dxXobc":
        if isinstance(arg, bool) or not isinstance(arg, int):
            if verb in "xX" and isinstance(arg, str):
                text = arg.encode().hex()
                return _pad(text.upper() if verb == "X" else text, flags, w)
            return None
        if verb == "c":
            return _pad(chr(arg), flags, w)
        return (
            ("%" + spec_flags + w + {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb]) % arg
            if verb != "b"
            else _pad(format(arg, "b"), flags, w)
        )
    if verb in "feEgG":
        if isinstance(arg, bool) or not isinstance(arg, float):
            return None
        return ("%" + spec_flags + w + (p if p != "." else ".0") + verb) % arg
    return None


def _quote_rune(code: int) -> str:
    """strconv.QuoteRune."""
    if not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    ch = chr(code)
    if ch == "'":
        return "'\\''"
    inner = go_quote(ch)[1:-1].replace('\\"', '"')
    if code < 0x20 or code == 0x7F:
        inner = {7: "\\a", 8: "\\b", 12: "\\f", 11: "\\v"}.get(code, inner)
    return "'" + inner + "'"


def _pad(text: str, flags: str, width: str) -> str:
    if not width:
        return text
    n = int(width)
    return text.ljust(n) if "-" in flags else text.rjust(n)


def _js(*args) -> str:
    text = _sprint(*args)
    table = {
        "\\": "\\\\",
        "'": "\\'",
        '"': "\\u0022",
        "<": "\\u003C",
        ">": "\\u003E",
        "&": "\\u0026",
        "=": "\\u003D",
    }
    return "".join(table.get(c, c) for c in text)


# -- the docker CLI's ------------------------------------------------------------------------


def _json(value) -> str:
    return go_json(value)


def _split(text, sep) -> list[str]:
    if not isinstance(text, str) or not isinstance(sep, str):
        raise CallError("expected string")
    if sep == "":
        return list(text)
    return text.split(sep)


def _join(elements, sep) -> str:
    if elements is None or elements is MISSING:
        return ""
    if not isinstance(elements, list):
        raise CallError(f"expected slice, got {go_type(elements)}")
    return sep.join(go_str(e) for e in elements)


def _title(text) -> str:
    """strings.Title: the first letter of each word (after a non-letter) upper-cased."""
    if not isinstance(text, str):
        raise CallError(f"expected string; found {go_str(text)}")
    out, prev = [], " "
    for ch in text:
        out.append(ch.upper() if not (prev.isalnum() or prev == "_" or prev == "'") else ch)
        prev = ch
    return "".join(out)


def _string_arg(fn):
    def call(*args):
        for a in args:
            if not isinstance(a, str):
                raise CallError(f"expected string; found {go_str(a)}")
        return fn(*args)

    return call


def _pad_with_space(source, prefix, suffix) -> str:
    if not isinstance(source, str):
        raise CallError(f"expected string; found {go_str(source)}")
    return source if source == "" else " " * prefix + source + " " * suffix


def _truncate(source, length) -> str:
    if not isinstance(source, str):
        raise CallError(f"expected string; found {go_str(source)}")
    return source if len(source) < length else source[:length]


# Argument kinds Go checks before the call (reflect), for the functions whose
# parameters are typed: a mismatch is reported at the argument
# (``at <5>: expected string; found 5``).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "split": ("string", "string"),
    "title": ("string",),
    "lower": ("string",),
    "upper": ("string",),
    "pad": ("string", "int", "int"),
    "truncate": ("string", "int"),
    "printf": ("string",),
}


def kind_matches(kind: str, value) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return True


BUILTINS = {
    "and": _and,
    "or": _or,
    "not": lambda v: not truth(v),
    "len": _len,
    "index": _index,
    "slice": _slice,
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "print": _sprint,
    "printf": lambda fmt, *args: go_sprintf(go_str(fmt), *args),
    "println": _sprintln,
    "html": lambda *args: htmlmod.escape(_sprint(*args)).replace("&#x27;", "&#39;"),
    "js": _js,
    "urlquery": lambda *args: quote_plus(_sprint(*args)),
    # docker/cli templates
    "json": _json,
    "split": _split,
    "join": _join,
    "title": _title,
    "lower": _string_arg(str.lower),
    "upper": _string_arg(str.upper),
    "pad": _pad_with_space,
    "truncate": _truncate,
}
