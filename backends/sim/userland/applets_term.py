"""Terminal applets: more, less, stty -- after busybox 1.35, on a
simulator that has no terminals.

Every descriptor of a simulated process is a file, a pipe or /dev/null,
never a tty.  So the pagers take the path busybox takes when stdout is not
a terminal ("another popular pager, most, detects when stdout is not a tty
and turns into cat"): they copy their files like ``cat``.  ``stty`` checks
its whole command line first, exactly as busybox does (so a misspelt
setting is reported by name), then asks the terminal for its settings and
fails as busybox does on anything that is not one: ``stty: standard input:
Inappropriate ioctl for device``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from .applet_table import applet
from .libc import (
    Die,
    close_quietly,
    complain,
    dies,
    open_input,
    parse_options,
    read_chunk,
    strerror,
    write_all,
    xatou,
)

Gen = Generator[Any, Any, Any]


# -- more, less --------------------------------------------------------------------------------


def _as_cat(sys: Sys, prog: str, spec: str) -> Gen:
    """bb_cat(argv): each operand ("-" or none: stdin) copied to stdout,
    complaints under the pager's name."""
    opts = yield from parse_options(sys, prog, spec)
    if opts is None:
        return 1
    status = 0
    for path in opts.operands or ["-"]:
        fd = yield from open_input(sys, prog, path)
        if fd is None:
            status = 1
            continue
        try:
            while True:
                try:
                    chunk = yield from read_chunk(sys, fd)
                except OSError as e:
                    yield from complain(sys, prog, f"read error: {strerror(e)}")
                    status = 1
                    break
                if not chunk:
                    break
                yield from write_all(sys, 1, chunk)
        finally:
            close_quietly(sys, fd)
    return status


@applet("more")
def more_main(sys: Sys) -> Gen:
    # -d -f -l -s -u: accepted and ignored (they only matter on a terminal)
    return (yield from _as_cat(sys, "more", "dflsu"))


@applet("less")
def less_main(sys: Sys) -> Gen:
    return (yield from _as_cat(sys, "less", "EMmN~IFSRsX"))


# -- stty --------------------------------------------------------------------------------------

# The settings busybox's stty knows on Linux (glibc's termios), by kind.
# REVERSIBLE ones also take a leading "-" (``-echo``).
_REVERSIBLE_MODES = frozenset(
    """evenp parity oddp nl cooked raw pass8 litout cbreak decctlq tabs lcase LCASE parenb parodd
    cmspar hupcl hup cstopb cread clocal crtscts ignbrk brkint ignpar parmrk inpck istrip inlcr
    igncr icrnl ixon ixoff tandem iuclc ixany imaxbel iutf8 opost olcuc ocrnl onlcr onocr onlret
    ofill ofdel isig icanon iexten echo echoe crterase echok echonl noflsh xcase tostop echoprt
    prterase echoctl ctlecho echoke crtkill flusho extproc""".split()
)
_PLAIN_MODES = frozenset(
    "ek sane crt dec cs5 cs6 cs7 cs8 nl1 nl0 cr3 cr2 cr1 cr0 tab3 tab2 tab1 tab0 bs1 bs0 vt1 vt0 ff1 ff0".split()
)
_CONTROL_CHARS = frozenset(
    "intr quit erase kill eof eol eol2 swtch start stop susp rprnt werase lnext flush min time".split()
)
_NEED_NUMBER = ("line", "rows", "cols", "columns")  # a positive number follows
_SPEEDS = frozenset(
    int(n)
    for n in """0 50 75 110 134 150 200 300 600 1200 1800 2400 4800 9600 19200 38400 57600 115200
    230400 460800 500000 576000 921600 1000000 1152000 1500000 2000000 2500000 3000000 3500000
    4000000""".split()
)
_SUFFIXES = {"b": 512, "k": 1024, "B": 1024}
_NCCS = 32  # glibc's struct termios: a -g line has 4 flags and 32 control characters


def _recoverable(arg: str) -> bool:
    """The ``stty -g`` form: four hex flag words, then NCCS hex bytes, colon-separated
    (sscanf's %lx/%x: optional blanks and sign, an optional 0x)."""
    fields = arg.split(":")
    if len(fields) != 4 + _NCCS:
        return False
    for field in fields:
        body = field.lstrip(" \t\n")
        body = body[1:] if body[:1] in "+-" else body
        if body[:2].lower() == "0x" and len(body) > 2:
            body = body[2:]
        if not body or any(c not in "0123456789abcdefABCDEF" for c in body):
            return False
    return True


def _control_char(name: str, value: str) -> None:
    if name in ("min", "time") or (len(value) > 1 and value not in ("^-", "undef") and value[0] != "^"):
        xatou(value, 0, 0xFF, _SUFFIXES)


def _check_settings(argv: list[str]) -> tuple[set[str], str | None, bool]:
    """busybox's first pass over the command line: dies on the first bad
    setting.  The output flags ("a", "g"), the -F device, and whether
    settings were given."""
    output: set[str] = set()
    device = None
    settings = False
    k = 0
    while k < len(argv):
        arg = argv[k]
        following = argv[k + 1] if k + 1 < len(argv) else None
        k += 1
        if arg.startswith("-"):
            if arg[1:] in _REVERSIBLE_MODES:
                settings = True
                continue
            if arg[1:] in _PLAIN_MODES:
                raise Die(f"invalid argument '{arg}'")
            for i, ch in enumerate(arg[1:], 1):
                if ch in "ag":
                    output.add(ch)
                elif ch == "F":
                    if device is not None:
                        raise Die("only one device may be specified")
                    device = arg[i + 1 :]
                    if not device:  # "-F DEVICE": the device leaves the list
                        if following is None:
                            raise Die("-F requires an argument")
                        device = following
                        del argv[k]
                    break
                else:
                    raise Die(f"invalid argument '{arg}'")
            continue
        settings = True
        if arg in _REVERSIBLE_MODES or arg in _PLAIN_MODES:
            continue
        if arg in _CONTROL_CHARS:
            if following is None:
                raise Die(f"{arg} requires an argument")
            _control_char(arg, following)
            k += 1
            continue
        if arg in _NEED_NUMBER or arg in ("ispeed", "ospeed"):
            if following is None:
                raise Die(f"{arg} requires an argument")
            k += 1
            if arg in _NEED_NUMBER:
                xatou(following, 1, 2**31 - 1, _SUFFIXES)
            else:  # an unknown speed passes here (cfsetispeed's error is not looked at)
                xatou(following)
            continue
        if arg in ("size", "speed") or _recoverable(arg):
            continue
        if xatou(arg) not in _SPEEDS:
            raise Die(f"invalid argument '{arg}'")
    if output == {"a", "g"}:
        raise Die("-a and -g are mutually exclusive")
    if output and settings:
        raise Die("modes may not be set when -a or -g is used")
    return output, device, settings


@applet("stty")
@dies("stty")
def stty_main(sys: Sys) -> Gen:
    _output, device, _settings = _check_settings(list(sys.argv[1:]))
    name = "standard input"
    fd = 0
    if device is not None:
        name = device
        try:
            fd = sys.open(device, O_RDONLY)
        except OSError as e:
            raise Die(f"can't open '{device}': {strerror(e)}") from None
    # tcgetattr: no descriptor of the simulator is a terminal
    try:
        sys.fd_info(fd)
    except OSError as e:
        raise Die(f"{name}: {strerror(e)}") from None
    raise Die(f"{name}: Inappropriate ioctl for device")
    yield  # a generator, like every applet
