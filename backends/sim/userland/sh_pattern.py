"""Shell patterns (``*``, ``?``, ``[...]``): for ``case``, ``${x#pat}`` and
pathname expansion ("globbing").

A pattern arrives as a list of ``(char, quoted)`` pairs: a quoted ``*``
stands for itself, which is how ``"*.txt"`` differs from ``*.txt``.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys

Chars = list[tuple[str, bool]]
GLOB_CHARS = set("*?[")


def chars(text: str, quoted: bool = False) -> Chars:
    return [(c, quoted) for c in text]


def has_glob(pattern: Chars) -> bool:
    return any(c in GLOB_CHARS and not q for c, q in pattern)


def to_regex(pattern: Chars) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c, q = pattern[i]
        i += 1
        if q:
            out.append(re.escape(c))
        elif c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < len(pattern):
            out.append(re.escape(pattern[i][0]))
            i += 1
        elif c == "[":
            cls, j = _bracket(pattern, i)
            if cls is None:
                out.append(re.escape("["))
            else:
                out.append(cls)
                i = j
        else:
            out.append(re.escape(c))
    return "".join(out)


def _bracket(pattern: Chars, i: int) -> tuple[str | None, int]:
    """A ``[...]`` class starting after ``[``: (regex, index after ``]``)."""
    items: list[str] = []
    negate = False
    if i < len(pattern) and pattern[i][0] in "!^" and not pattern[i][1]:
        negate = True
        i += 1
    first = True
    while i < len(pattern):
        c, q = pattern[i]
        if c == "]" and not q and not first:
            body = "".join(items)
            return ("[^" if negate else "[") + body + "]", i + 1
        first = False
        if c == "[" and not q and i + 1 < len(pattern) and pattern[i + 1][0] == ":":
            end = "".join(ch for ch, _ in pattern[i:]).find(":]")
            if end > 0:
                name = "".join(ch for ch, _ in pattern[i + 2 : i + end])
                items.append(_CLASSES.get(name, ""))
                i += end + 2
                continue
        if (
            i + 2 < len(pattern)
            and pattern[i + 1][0] == "-"
            and not pattern[i + 1][1]
            and pattern[i + 2][0] != "]"
        ):
            items.append(re.escape(c) + "-" + re.escape(pattern[i + 2][0]))
            i += 3
            continue
        items.append(re.escape(c))
        i += 1
    return None, i


_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "blank": r" \t",
}


def match(pattern: Chars, text: str) -> bool:
    return re.fullmatch(to_regex(pattern), text, re.DOTALL) is not None


def strip(pattern: Chars, text: str, op: str) -> str:
    """``${x#p}`` (shortest prefix), ``##`` (longest), ``%`` / ``%%`` (suffix)."""
    rx = re.compile(to_regex(pattern), re.DOTALL)
    n = len(text)
    if op in ("#", "##"):
        rng = range(0, n + 1) if op == "#" else range(n, -1, -1)
        for k in rng:
            if rx.fullmatch(text, 0, k):
                return text[k:]
    else:
        rng = range(n, -1, -1) if op == "%" else range(0, n + 1)
        for k in rng:
            if rx.fullmatch(text, k, n):
                return text[:k]
    return text


def glob(sys: Sys, pattern: Chars) -> Generator[Any, Any, list[str]]:
    """Pathnames matching ``pattern``, sorted; [] if none.  Names starting
    with ``.`` match only a literal leading dot, as POSIX requires.  (A
    generator only so that it can later charge CPU; it does not block.)"""
    components: list[Chars] = [[]]
    for c, q in pattern:
        if c == "/":
            components.append([])
        else:
            components[-1].append((c, q))
    absolute = not components[0] and len(components) > 1
    paths = ["/" if absolute else ""]
    comps = components[1:] if absolute else components
    for idx, comp in enumerate(comps):
        last = idx == len(comps) - 1
        new_paths = []
        for base in paths:
            if not comp:  # "a//b" or trailing "/"
                new_paths.append(base + ("/" if base and not base.endswith("/") else ""))
                continue
            if not has_glob(comp):
                name = "".join(c for c, _ in comp)
                cand = _join(base, name)
                if last:
                    try:
                        sys.lstat(cand or ".")
                    except OSError:
                        continue
                new_paths.append(cand)
                continue
            try:
                names = sys.listdir(base or ".")
            except OSError:
                continue
            rx = re.compile(to_regex(comp), re.DOTALL)
            for name in sorted(names):
                if name.startswith(".") and not (comp[0][0] == "."):
                    continue
                if rx.fullmatch(name):
                    cand = _join(base, name)
                    if not last:
                        try:
                            if sys.stat(cand).kind.value != "dir":
                                continue
                        except OSError:
                            continue
                    new_paths.append(cand)
        paths = new_paths
        if not paths:
            return []
    return sorted(paths)
    yield  # pragma: no cover  (makes this a generator)


def _join(base: str, name: str) -> str:
    if not base:
        return name
    return base + name if base.endswith("/") else base + "/" + name
