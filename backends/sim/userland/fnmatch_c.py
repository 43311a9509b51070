"""glibc's ``fnmatch(3)`` without flags (what find's ``-name``/``-path``
and tar's ``--exclude`` use): ``*`` and ``?`` match any character, ``/``
and a leading dot included; ``[...]`` with ``!``/``^``, ranges and
``[:class:]``; a backslash quotes the next character; a ``[`` without its
``]`` is an ordinary character.  (Python's fnmatch differs: no backslash
quoting, and its own idea of case.)
"""

from __future__ import annotations

import functools
import re

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "0-9a-zA-Z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~",
    "print": " -~",
    "graph": "!-~",
    "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f",
}


def _bracket(p: str, i: int) -> tuple[str, int] | None:
    """The class starting after ``[`` at ``i``, or None if it never closes."""
    j = i
    negate = j < len(p) and p[j] in "!^"
    if negate:
        j += 1
    items: list[str] = []
    first = True
    while j < len(p):
        ch = p[j]
        if ch == "]" and not first:
            body = "".join(items) or "(?!)"
            return ("[^" if negate else "[") + body + "]", j + 1
        first = False
        if ch == "[" and p.startswith("[:", j):
            end = p.find(":]", j + 2)
            name = p[j + 2 : end] if end >= 0 else ""
            if end >= 0 and name in _CLASSES:
                items.append(_CLASSES[name])
                j = end + 2
                continue
        if ch == "\\" and j + 1 < len(p):
            j += 1
            ch = p[j]
        j += 1
        if j + 1 < len(p) and p[j] == "-" and p[j + 1] != "]":
            hi = p[j + 1]
            j += 2
            if hi == "\\" and j < len(p):
                hi = p[j]
                j += 1
            if ord(hi) >= ord(ch):
                items.append(f"{re.escape(ch)}-{re.escape(hi)}")
            continue
        items.append(re.escape(ch))
    return None


@functools.lru_cache(maxsize=256)
def _compile(pattern: str, casefold: bool, pathname: bool = False, leading_dir: bool = False):
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*" if pathname else ".*")
        elif ch == "?":
            out.append("[^/]" if pathname else ".")
        elif ch == "[":
            got = _bracket(pattern, i)
            if got is None:
                out.append(re.escape("["))
            else:
                text, i = got
                out.append(f"(?!/){text}" if pathname else text)
        elif ch == "\\":
            if i >= len(pattern):
                return None  # a trailing backslash matches nothing
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(ch))
    flags = re.DOTALL | re.ASCII | (re.IGNORECASE if casefold else 0)
    return re.compile("".join(out) + (r"(?:/.*)?\Z" if leading_dir else r"\Z"), flags)


def fnmatch(
    pattern: str, name: str, casefold: bool = False, pathname: bool = False, leading_dir: bool = False
) -> bool:
    """``pathname``: FNM_PATHNAME (no wildcard matches "/"); ``leading_dir``:
    FNM_LEADING_DIR (the pattern may match a leading part ending at "/")."""
    rx = _compile(pattern, casefold, pathname, leading_dir)
    return rx is not None and rx.match(name) is not None
