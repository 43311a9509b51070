"""getopt(1) -- after busybox 1.35's util-linux/getopt.c, which hands the
work to the C library: so this module is mostly glibc's getopt_long and
getopt_long_only (posix/getopt.c), with their orderings (PERMUTE, or
REQUIRE_ORDER after "+" or with POSIXLY_CORRECT, RETURN_IN_ORDER after
"-"), the permutation that moves operands behind the options, long-option
abbreviations and ambiguity, ``-W foo`` for ``--foo``, and their error
messages word for word.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import BufferedOutput, Die, UsageError, complain, dies, err, getopt, show_usage

Gen = Generator[Any, Any, Any]

NON_OPT = 1  # what getopt returns for an operand in RETURN_IN_ORDER mode
LONG_OPT = 2  # the val of every long option busybox registers
PERMUTE, REQUIRE_ORDER, RETURN_IN_ORDER = range(3)
NO_ARG, REQUIRED_ARG, OPTIONAL_ARG = range(3)


@dataclass
class LongOpt:
    name: str
    has_arg: int


@dataclass
class GetoptState:
    """glibc's struct _getopt_data, for one parse of one argv."""

    argv: list[str]
    optstring: str
    longopts: list[LongOpt] | None
    long_only: bool
    posixly_correct: bool
    optind: int = 1
    nextchar: str = ""
    first_nonopt: int = 1
    last_nonopt: int = 1
    ordering: int = PERMUTE
    print_errors: bool = True
    optarg: str | None = None
    longind: int = -1
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.optstring
        if s[:1] == "-":
            self.ordering, s = RETURN_IN_ORDER, s[1:]
        elif s[:1] == "+":
            self.ordering, s = REQUIRE_ORDER, s[1:]
        elif self.posixly_correct:
            self.ordering = REQUIRE_ORDER
        self.optstring = s
        if s[:1] == ":":
            self.print_errors = False

    def error(self, text: str) -> None:
        if self.print_errors:
            self.errors.append(f"{self.argv[0]}: {text}\n")

    def exchange(self) -> None:
        """Move the operands [first_nonopt, last_nonopt) behind the options
        [last_nonopt, optind) that followed them."""
        argv = self.argv
        nonopts = argv[self.first_nonopt : self.last_nonopt]
        opts = argv[self.last_nonopt : self.optind]
        argv[self.first_nonopt : self.optind] = opts + nonopts
        self.first_nonopt += len(opts)
        self.last_nonopt = self.optind

    def _nonoption(self) -> bool:
        arg = self.argv[self.optind]
        return not arg.startswith("-") or arg == "-"

    def next(self) -> int:
        """One call of getopt_long: an option character, LONG_OPT, NON_OPT,
        ord('?') / ord(':') for an error, or -1 at the end."""
        argv, argc = self.argv, len(self.argv)
        self.optarg = None
        if not self.nextchar:
            self.last_nonopt = min(self.last_nonopt, self.optind)
            self.first_nonopt = min(self.first_nonopt, self.optind)
            if self.ordering == PERMUTE:
                if self.first_nonopt != self.last_nonopt and self.last_nonopt != self.optind:
                    self.exchange()
                elif self.last_nonopt != self.optind:
                    self.first_nonopt = self.optind
                while self.optind < argc and self._nonoption():
                    self.optind += 1
                self.last_nonopt = self.optind
            if self.optind != argc and argv[self.optind] == "--":
                self.optind += 1
                if self.first_nonopt != self.last_nonopt and self.last_nonopt != self.optind:
                    self.exchange()
                elif self.first_nonopt == self.last_nonopt:
                    self.first_nonopt = self.optind
                self.last_nonopt = argc
                self.optind = argc
            if self.optind == argc:
                if self.first_nonopt != self.last_nonopt:
                    self.optind = self.first_nonopt
                return -1
            if self._nonoption():
                if self.ordering == REQUIRE_ORDER:
                    return -1
                self.optarg = argv[self.optind]
                self.optind += 1
                return NON_OPT
            arg = argv[self.optind]
            if self.longopts is not None:
                if arg[1] == "-":
                    self.nextchar = arg[2:]
                    return self.long_option("--", self.long_only)
                if self.long_only and (len(arg) > 2 or arg[1] not in self.optstring):
                    self.nextchar = arg[1:]
                    code = self.long_option("-", True)
                    if code != -1:
                        return code
            self.nextchar = arg[1:]
        c, self.nextchar = self.nextchar[0], self.nextchar[1:]
        pos = self.optstring.find(c)
        if not self.nextchar:
            self.optind += 1
        if pos < 0 or c in ":;":
            self.error(f"invalid option -- '{c}'")
            return ord("?")
        spec = self.optstring[pos + 1 : pos + 3]
        if c == "W" and spec[:1] == ";" and self.longopts is not None:
            return self._w_option(c)
        if spec[:1] == ":":
            if spec == "::":
                if self.nextchar:
                    self.optarg, self.optind = self.nextchar, self.optind + 1
            elif self.nextchar:
                self.optarg, self.optind = self.nextchar, self.optind + 1
            elif self.optind == argc:
                self.error(f"option requires an argument -- '{c}'")
                self.nextchar = ""
                return ord(":") if self.optstring[:1] == ":" else ord("?")
            else:
                self.optarg, self.optind = argv[self.optind], self.optind + 1
            self.nextchar = ""
        return ord(c)

    def _w_option(self, c: str) -> int:
        """POSIX's ``-W foo``: the same as ``--foo``."""
        if self.nextchar:
            word = self.nextchar
        elif self.optind == len(self.argv):
            self.error(f"option requires an argument -- '{c}'")
            return ord(":") if self.optstring[:1] == ":" else ord("?")
        else:
            word = self.argv[self.optind]
        self.nextchar = word
        return self.long_option("-W ", False)

    def long_option(self, prefix: str, long_only: bool) -> int:
        assert self.longopts is not None
        argv, longopts = self.argv, self.longopts
        name, eq, value = self.nextchar.partition("=")
        found = next((i for i, o in enumerate(longopts) if o.name == name), -1)
        if found < 0:
            ambiguous: list[int] = []
            for i, o in enumerate(longopts):
                if not o.name.startswith(name):
                    continue
                if found < 0:
                    found = i
                elif long_only or longopts[found].has_arg != o.has_arg:
                    ambiguous = ambiguous or [found]
                    ambiguous.append(i)
            if ambiguous:
                names = "".join(f" '{prefix}{longopts[i].name}'" for i in sorted(ambiguous))
                self.error(f"option '{prefix}{self.nextchar}' is ambiguous; possibilities:{names}")
                self.nextchar = ""
                self.optind += 1
                return ord("?")
        if found < 0:
            if not long_only or argv[self.optind][1] == "-" or self.nextchar[0] not in self.optstring:
                self.error(f"unrecognized option '{prefix}{self.nextchar}'")
                self.nextchar = ""
                self.optind += 1
                return ord("?")
            return -1  # getopt_long_only: a short option after all
        option = longopts[found]
        self.optind += 1
        self.nextchar = ""
        if eq:
            if option.has_arg == NO_ARG:
                self.error(f"option '{prefix}{option.name}' doesn't allow an argument")
                return ord("?")
            self.optarg = value
        elif option.has_arg == REQUIRED_ARG:
            if self.optind < len(argv):
                self.optarg = argv[self.optind]
                self.optind += 1
            else:
                self.error(f"option '{prefix}{option.name}' requires an argument")
                return ord(":") if self.optstring[:1] == ":" else ord("?")
        self.longind = found
        return LONG_OPT


# -- the applet --------------------------------------------------------------------------------


def _normalise(arg: str, quote: bool, tcsh: bool) -> str:
    if not quote:
        return arg
    out = ["'"]
    for ch in arg:
        if tcsh and ch == "\n":
            out.append("\\n")
        elif (tcsh and (ch == "!" or ch in " \t\v\f\r")) or ch == "'":
            out.append("'\\" + ch + "'")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


def _add_long_options(longopts: list[LongOpt] | None, spec: str) -> list[LongOpt] | None:
    for token in spec.replace(",", " ").replace("\t", " ").replace("\n", " ").split(" "):
        if not token:
            continue
        has_arg = NO_ARG
        if token.endswith(":"):
            token, has_arg = token[:-1], REQUIRED_ARG
            if token.endswith(":"):
                token, has_arg = token[:-1], OPTIONAL_ARG
            if not token:
                raise Die("empty long option specified")
        longopts = (longopts or []) + [LongOpt(token, has_arg)]
    return longopts


def _generate_output(
    sys: Sys,
    argv: list[str],
    optstring: str,
    longopts: list[LongOpt] | None,
    flags: set[str],
) -> Gen:
    quote, tcsh = "u" not in flags, "tcsh" in flags
    state = GetoptState(list(argv), optstring, longopts, "a" in flags, "POSIXLY_CORRECT" in sys.env)
    if "q" in flags:
        state.print_errors = False
    out = BufferedOutput(sys, 1)
    status = 0
    while True:
        opt = state.next()
        for message in state.errors:  # stderr is unbuffered: each error as it comes
            yield from err(sys, message)
        state.errors.clear()
        if opt == -1:
            break
        if opt in (ord("?"), ord(":")):
            status = 1
        elif "Q" not in flags:
            if opt == LONG_OPT:
                assert longopts is not None
                option = longopts[state.longind]
                out.write(f" --{option.name}")
                if option.has_arg:
                    out.write(" " + _normalise(state.optarg or "", quote, tcsh))
            elif opt == NON_OPT:
                out.write(" " + _normalise(state.optarg or "", quote, tcsh))
            else:
                out.write(f" -{chr(opt)}")
                # busybox looks the option up in the optstring as given, ordering
                # mark included (glibc parsed it without): `-o '--:'` finds the mark
                # for option '-', and so prints no argument for it.
                pos = optstring.find(chr(opt))
                if pos >= 0 and optstring[pos + 1 : pos + 2] == ":":
                    out.write(" " + _normalise(state.optarg or "", quote, tcsh))
    if "Q" not in flags:
        out.write(" --")
        for arg in state.argv[state.optind :]:
            out.write(" " + _normalise(arg, quote, tcsh))
        out.write("\n")
    yield from out.flush()
    return status


_OWN_LONGOPTS = {
    "options": "o",
    "longoptions": "l",
    "quiet": "q",
    "quiet-output": "Q",
    "shell": "s",
    "test": "T",
    "unquoted": "u",
    "alternative": "a",
    "name": "n",
}


@applet("getopt")
@dies("getopt")
def getopt_main(sys: Sys) -> Gen:
    argv = list(sys.argv)
    compatible = "GETOPT_COMPATIBLE" in sys.env
    if len(argv) < 2:
        if compatible:  # the original getopt said nothing wrong here
            out = BufferedOutput(sys, 1)
            out.write(" --\n")
            yield from out.flush()
            return 0
        raise Die("missing optstring argument")
    if not argv[1].startswith("-") or compatible:
        bare = argv[1].lstrip("-+")  # no ordering mark in this mode
        return (yield from _generate_output(sys, [argv[0], *argv[2:]], bare, None, {"u"}))
    try:
        opts = getopt(argv[1:], "o:n:qQs:Tual:", permute=False, longopts=_OWN_LONGOPTS)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "getopt", e.message)
        yield from show_usage(sys, "getopt")
        return 1
    flags = set(opts.flags)
    longopts = None
    for spec in opts.values.get("l", []):
        longopts = _add_long_options(longopts, spec)
    shell = opts.value("s")
    if shell is not None:
        if shell in ("tcsh", "csh"):
            flags.add("tcsh")
        elif shell not in ("bash", "sh"):
            yield from complain(sys, "getopt", f"unknown shell '{shell}', assuming bash")
    if "T" in opts:
        return 4
    rest = opts.operands
    optstring = opts.value("o")
    if optstring is None:
        if not rest:
            raise Die("missing optstring argument")
        optstring, rest = rest[0], rest[1:]
    given_name = opts.value("n")
    name = argv[0] if given_name is None else given_name
    return (yield from _generate_output(sys, [name, *rest], optstring, longopts, flags))
