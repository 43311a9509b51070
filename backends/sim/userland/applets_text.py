"""Applets that read and write text: cat, head, tail, wc, grep, and the
small ones (echo, printf, test, basename, dirname, true, false).  Line
filters and expr: applets_filters.

They stream where real busybox streams -- ``yes | head -1`` must end, and
``tail`` of an endless stream without newlines must keep (and pay for)
what it holds, so a memory limit can OOM-kill it.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from . import cmd_echo, cmd_printf, cmd_test
from .applet_table import applet
from .libc import (
    LineReader,
    UsageError,
    close_quietly,
    complain,
    getopt,
    open_input,
    out,
    parse_int,
    parse_options,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]


def _usage_error(sys: Sys, prog: str, e: UsageError) -> Gen:
    if e.message:
        yield from complain(sys, prog, e.message)
    yield from show_usage(sys, prog)
    return 1


@applet("true")
def true_main(sys: Sys) -> Gen:
    return 0
    yield


@applet("false")
def false_main(sys: Sys) -> Gen:
    return 1
    yield


@applet("echo")
def echo_main(sys: Sys) -> Gen:
    return (yield from cmd_echo.echo(sys, sys.argv, "echo"))


@applet("printf")
def printf_main(sys: Sys) -> Gen:
    if len(sys.argv) < 2:
        yield from show_usage(sys, "printf")
        return 1
    return (yield from cmd_printf.printf(sys, sys.argv, "printf"))


@applet("test", "[", "[[")
def test_main(sys: Sys) -> Gen:
    name = sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "test"
    prog = name if name in ("[", "[[") else "test"
    argv = [prog] + list(sys.argv[1:])
    return (yield from cmd_test.test(sys, argv, prog))


# -- cat ----------------------------------------------------------------------------


@applet("cat")
def cat_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "cat", "nbvteAu")
    if opts is None:
        return 1
    status = 0
    number = "n" in opts or "b" in opts
    lineno = 1
    for path in opts.operands or ["-"]:
        fd = yield from open_input(sys, "cat", path)
        if fd is None:
            status = 1
            continue
        try:
            while True:
                try:
                    chunk = yield from read_chunk(sys, fd, 65536)
                except OSError as e:
                    yield from complain(sys, "cat", f"read error: {strerror(e)}")
                    status = 1
                    break
                if not chunk:
                    break
                # the chunk is memory the process holds until it is written
                yield from sys.alloc(len(chunk))
                if number:
                    lines = chunk.split(b"\n")
                    buf = []
                    for i, line in enumerate(lines):
                        if i == len(lines) - 1 and not line:
                            break
                        if "b" in opts and not line:
                            buf.append(b"\n" if i < len(lines) - 1 else b"")
                            continue
                        buf.append(b"%6d\t" % lineno + line + (b"\n" if i < len(lines) - 1 else b""))
                        lineno += 1
                    chunk = b"".join(buf)
                try:
                    yield from write_all(sys, 1, chunk)
                finally:
                    sys.free(len(chunk))
        finally:
            close_quietly(sys, fd)
    return status


# -- head / tail ----------------------------------------------------------------------


def _count_option(argv: list[str], prog: str) -> tuple[list[str], str | None]:
    """``head -5`` is the old spelling of ``head -n 5``."""
    args = []
    count = None
    for a in argv:
        if len(a) > 1 and a[0] == "-" and a[1:].isdigit() and count is None:
            count = a[1:]
        else:
            args.append(a)
    return args, count


@applet("head")
def head_main(sys: Sys) -> Gen:
    args, old = _count_option(sys.argv[1:], "head")
    try:
        opts = getopt(args, "n:c:qv")
    except UsageError as e:
        return (yield from _usage_error(sys, "head", e))
    by_bytes = "c" in opts
    text = opts.value("c") if by_bytes else opts.value("n", old or "10")
    count = parse_int(text or "")
    if count is None:
        yield from complain(sys, "head", f"invalid number '{text}'")
        return 1
    files = opts.operands or ["-"]
    status = 0
    for idx, path in enumerate(files):
        fd = yield from open_input(sys, "head", path, "{p}: {e}")
        if fd is None:
            status = 1
            continue
        if ("v" in opts or len(files) > 1) and "q" not in opts:
            yield from out(
                sys, ("\n" if idx else "") + f"==> {'standard input' if path == '-' else path} <==\n"
            )
        try:
            if by_bytes:
                left = count
                while left > 0:
                    chunk = yield from read_chunk(sys, fd, min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
                    yield from write_all(sys, 1, chunk)
            else:
                reader = LineReader(sys, fd)
                for _ in range(count):
                    line = yield from reader.readline()
                    if not line:
                        break
                    yield from write_all(sys, 1, line)
        finally:
            close_quietly(sys, fd)
    return status


@applet("tail")
def tail_main(sys: Sys) -> Gen:
    args, old = _count_option(sys.argv[1:], "tail")
    try:
        opts = getopt(args, "n:c:fqvFs:")
    except UsageError as e:
        return (yield from _usage_error(sys, "tail", e))
    by_bytes = "c" in opts
    text = opts.value("c") if by_bytes else opts.value("n", old or "10")
    from_start = text is not None and text.startswith("+")
    count = parse_int(text.lstrip("+") if text else "")
    if count is None:
        yield from complain(sys, "tail", f"invalid number '{text}'")
        return 1
    count = abs(count)
    files = opts.operands or ["-"]
    status = 0
    opened = 0
    for idx, path in enumerate(files):
        fd = yield from open_input(sys, "tail", path)
        if fd is None:
            status = 1
            continue
        opened += 1
        if ("v" in opts or len(files) > 1) and "q" not in opts:
            yield from out(
                sys, ("\n" if idx else "") + f"==> {'standard input' if path == '-' else path} <==\n"
            )
        try:
            data = yield from _tail_read(sys, fd, count, by_bytes, from_start)
        finally:
            close_quietly(sys, fd)
        yield from write_all(sys, 1, data)
        if "f" in opts or "F" in opts:
            yield from sys.pause()  # follow: a simulated file never grows under us
    if opened == 0:
        yield from complain(sys, "tail", "no files")
    return status


def _tail_read(sys: Sys, fd: int, count: int, by_bytes: bool, from_start: bool) -> Gen:
    """Keep only what the answer needs; charge what is held.  A stream with
    no newline (``tail /dev/zero``) keeps growing -- and is charged -- until
    the memory limit kills the process, as with real busybox."""
    held = 0
    buf = bytearray()
    try:
        while True:
            chunk = yield from read_chunk(sys, fd, 65536)
            if not chunk:
                break
            buf += chunk
            if not from_start:
                if by_bytes:
                    del buf[: max(0, len(buf) - count)]
                else:
                    # keep what follows the (count+1)-th newline from the end:
                    # a superset of the last `count` lines
                    idx = len(buf)
                    for _ in range(count + 1):
                        idx = buf.rfind(b"\n", 0, idx)
                        if idx < 0:
                            break
                    if idx >= 0:
                        del buf[: idx + 1]
            if len(buf) > held:
                yield from sys.alloc(len(buf) - held)
                held = len(buf)
            elif len(buf) < held:
                sys.free(held - len(buf))
                held = len(buf)
    finally:
        if held:
            sys.free(held)
    data = bytes(buf)
    if from_start:
        if by_bytes:
            return data[max(count - 1, 0) :]
        lines = data.splitlines(keepends=True)
        return b"".join(lines[max(count - 1, 0) :])
    if by_bytes:
        return data[-count:] if count else b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:]) if count else b""


# -- wc -------------------------------------------------------------------------------

_WORD = re.compile(rb"[^ \t\n\r\v\f]+")
_SPACE = (b" ", b"\t", b"\n", b"\r", b"\v", b"\f")


@applet("wc")
def wc_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "wc", "clwmL")
    if opts is None:
        return 1
    wanted = [f for f in "lwcL" if f in opts or (f == "c" and "m" in opts)]
    if not wanted:
        wanted = ["l", "w", "c"]
    files = opts.operands or ["-"]
    totals = {k: 0 for k in "lwcL"}
    rows = []
    status = 0
    for path in files:
        fd = yield from open_input(sys, "wc", path, "{p}: {e}")
        if fd is None:
            status = 1
            continue
        counts = {k: 0 for k in "lwcL"}
        in_word = False
        line_len = 0
        try:
            while True:
                chunk = yield from read_chunk(sys, fd, 65536)
                if not chunk:
                    break
                counts["c"] += len(chunk)
                counts["l"] += chunk.count(b"\n")
                # words: runs of non-space; one that continues from the last
                # chunk was already counted
                runs = len(_WORD.findall(chunk))
                if runs and in_word and chunk[:1] not in _SPACE:
                    runs -= 1
                counts["w"] += runs
                in_word = chunk[-1:] not in _SPACE
                if "L" in wanted:
                    for b in chunk:
                        if b == 10:
                            counts["L"] = max(counts["L"], line_len)
                            line_len = 0
                        else:
                            line_len += 1
                    counts["L"] = max(counts["L"], line_len)
        finally:
            close_quietly(sys, fd)
        for k in totals:
            totals[k] = max(totals[k], counts[k]) if k == "L" else totals[k] + counts[k]
        rows.append((counts, "" if path == "-" else path))
    if len(files) > 1:
        rows.append((totals, "total"))
    for counts, name in rows:
        # busybox pads every column to 9 unless one count of one input is shown
        if len(wanted) == 1 and len(files) == 1:
            line = f"{counts[wanted[0]]}"
        else:
            line = " ".join(f"{counts[k]:9d}" for k in wanted)
        yield from out(sys, line + (f" {name}" if name else "") + "\n")
    return status


# -- grep -----------------------------------------------------------------------------


def bre_to_python(pattern: str, extended: bool = False) -> str:
    """A POSIX regular expression as a Python one.  In a basic RE (BRE)
    ``\\(``, ``\\{``, ``\\|`` and ``\\+``/``\\?`` are the operators and bare
    ones are literal; an extended RE (``grep -E``) is the other way round.
    Bracket expressions get their ``[:class:]`` names expanded."""
    outp: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            outp.append("\\" + n if extended or n not in "(){}|+?" else n)
            i += 2
            continue
        if c == "[":
            body, i = _bracket_expression(pattern, i + 1)
            outp.append(body)
            continue
        if c in "(){}|+?" and not extended:
            outp.append("\\" + c)
        elif c == "*" and (not outp or outp[-1] in ("^", "(")):
            outp.append("\\*")
        else:
            outp.append(c)
        i += 1
    return "".join(outp)


_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
}


def _bracket_expression(pattern: str, i: int) -> tuple[str, int]:
    """A POSIX bracket expression starting after ``[``, as a Python class
    (``[:upper:]`` expanded; backslash and ``[`` are literal in POSIX)."""
    out = ["["]
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        c = pattern[i]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        first = False
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            if end > 0:
                out.append(_POSIX_CLASSES.get(pattern[i + 2 : end], ""))
                i = end + 2
                continue
        out.append("\\" + c if c in "\\[]^" else c)
        i += 1
    return re.escape("[" + pattern[i:]), len(pattern)  # no closing "]": literal


@applet("grep", "egrep", "fgrep")
def grep_main(sys: Sys) -> Gen:
    prog = sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "grep"
    opts = yield from parse_options(sys, prog, "EFivcqlLnhHsowxe:m:rA:B:C:")
    if opts is None:
        return 1
    patterns = opts.values.get("e", [])
    operands = list(opts.operands)
    if not patterns:
        if not operands:
            yield from show_usage(sys, prog)
            return 2
        patterns = [operands.pop(0)]
    fixed = "F" in opts or prog == "fgrep"
    extended = "E" in opts or prog == "egrep"
    flags = re.IGNORECASE if "i" in opts else 0
    regexes = []
    for p in patterns:
        for alt in p.split("\n"):
            src = re.escape(alt) if fixed else bre_to_python(alt, extended)
            if "x" in opts:
                src = f"(?:{src})\\Z"
            elif "w" in opts:
                src = rf"(?<!\w)(?:{src})(?!\w)"
            try:
                regexes.append(re.compile(src.encode("utf-8", "surrogateescape"), flags))
            except re.error:
                yield from complain(sys, prog, f"bad regex '{alt}'")
                return 2
    max_count = parse_int(opts.value("m", "-1") or "-1")
    files = operands or ["-"]
    show_name = ("H" in opts or len(files) > 1) and "h" not in opts
    matched_any = False
    status_err = False
    for path in files:
        fd = yield from open_input(sys, prog, path, "{p}: {e}")
        if fd is None:
            status_err = True
            continue
        name = "(standard input)" if path == "-" else path
        reader = LineReader(sys, fd)
        count, lineno = 0, 0
        try:
            while True:
                line = yield from reader.readline()
                if not line:
                    break
                lineno += 1
                body = line[:-1] if line.endswith(b"\n") else line
                found = [
                    m for rx in regexes for m in ([rx.match(body)] if "x" in opts else rx.finditer(body)) if m
                ]
                hit = bool(found) != ("v" in opts)
                if not hit:
                    continue
                count += 1
                matched_any = True
                if "q" in opts:
                    return 0
                if "l" in opts or "L" in opts:
                    break
                if "c" not in opts:
                    prefix = (name.encode() + b":" if show_name else b"") + (
                        b"%d:" % lineno if "n" in opts else b""
                    )
                    if "o" in opts and "v" not in opts:
                        for m in found:
                            if m.group(0):
                                yield from write_all(sys, 1, prefix + m.group(0) + b"\n")
                    else:
                        yield from write_all(sys, 1, prefix + body + b"\n")
                if max_count is not None and max_count >= 0 and count >= max_count:
                    break
        finally:
            close_quietly(sys, fd)
        if "c" in opts:
            yield from out(sys, (f"{name}:" if show_name else "") + f"{count}\n")
        if "l" in opts and count:
            yield from out(sys, name + "\n")
        if "L" in opts and not count:
            yield from out(sys, name + "\n")
    if status_err and not ("q" in opts and matched_any):
        return 2
    return 0 if matched_any else 1


# -- basename / dirname ---------------------------------------------------------------


@applet("basename")
def basename_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    if args and args[0] == "--":
        args = args[1:]
    if not args or len(args) > 2:
        yield from show_usage(sys, "basename")
        return 1
    path = args[0]
    stripped = path.rstrip("/")
    name = stripped.rsplit("/", 1)[-1] if stripped else ("/" if path else "")
    if len(args) == 2 and name != args[1] and name.endswith(args[1]):
        name = name[: -len(args[1])]
    yield from out(sys, name + "\n")
    return 0


@applet("dirname")
def dirname_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    if len(args) != 1:
        yield from show_usage(sys, "dirname")
        return 1
    path = args[0].rstrip("/")
    if not path:
        result = "/" if args[0] else "."
    elif "/" not in path:
        result = "."
    else:
        result = path.rsplit("/", 1)[0].rstrip("/") or "/"
    yield from out(sys, result + "\n")
    return 0
