"""Dockerfile instructions as typed data, and how each one's arguments are read.

The parser has turned the file into logical lines; here each line becomes
one instruction object.  The *forms* follow Docker's parser:

* **exec (JSON) form** ``CMD ["sh", "-c", "x"]``: a JSON array of strings, run
  as it is; **shell form** ``CMD sh -c x``: one string, run by the ``SHELL``
  (``/bin/sh -c``).  Anything starting with ``[`` that is not valid JSON is
  shell form -- ``RUN [ -f x ]`` runs the ``[`` command.
* **key=value** ``ENV A=1 B="x y"``, or the old ``ENV A 1 2`` (one key, the
  rest of the line is the value);
* **flags** ``COPY --from=build --chown=1:1 a b``: ``--name=value`` words
  right after the instruction.

Nothing is substituted here: ``$VAR`` is resolved when the instruction is
executed, with the environment at that point of the build.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .lexer import LogicalLine

_WHITESPACE = re.compile(r"[ \t\r\n\v\f]+")
STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")


class InstructionError(ValueError):
    """Bad arguments for an instruction; the parser adds the location."""


@dataclass
class Instruction:
    line: LogicalLine

    name = ""  # the keyword, upper case (set per class)

    @property
    def text(self) -> str:
        """The instruction as written (continuations joined): the ``Step`` title."""
        return self.line.text.strip()


@dataclass
class From(Instruction):
    base: str = ""
    stage_name: str | None = None
    platform: str | None = None
    name = "FROM"


@dataclass
class Command(Instruction):
    """RUN, CMD, ENTRYPOINT, SHELL: exec form (``json``) or one shell string."""

    args: list[str] = field(default_factory=list)
    json: bool = False


@dataclass
class Run(Command):
    name = "RUN"


@dataclass
class Cmd(Command):
    name = "CMD"


@dataclass
class Entrypoint(Command):
    name = "ENTRYPOINT"


@dataclass
class Shell(Command):
    name = "SHELL"


@dataclass
class Env(Instruction):
    pairs: list[tuple[str, str]] = field(default_factory=list)
    name = "ENV"


@dataclass
class Label(Instruction):
    pairs: list[tuple[str, str]] = field(default_factory=list)
    name = "LABEL"


@dataclass
class Arg(Instruction):
    pairs: list[tuple[str, str | None]] = field(default_factory=list)  # None: no default
    name = "ARG"


@dataclass
class Expose(Instruction):
    ports: list[str] = field(default_factory=list)
    name = "EXPOSE"


@dataclass
class Volume(Instruction):
    paths: list[str] = field(default_factory=list)
    name = "VOLUME"


@dataclass
class Workdir(Instruction):
    path: str = ""
    name = "WORKDIR"


@dataclass
class User(Instruction):
    user: str = ""
    name = "USER"


@dataclass
class StopSignal(Instruction):
    signal: str = ""
    name = "STOPSIGNAL"


@dataclass
class Maintainer(Instruction):
    maintainer: str = ""
    name = "MAINTAINER"


@dataclass
class Copy(Instruction):
    sources: list[str] = field(default_factory=list)
    dest: str = ""
    chown: str = ""
    chmod: str = ""
    from_: str = ""
    name = "COPY"


@dataclass
class Add(Copy):
    name = "ADD"


@dataclass
class Healthcheck(Instruction):
    """``test`` is Docker's ``Healthcheck.Test``: ``["NONE"]``,
    ``["CMD", ...]`` (exec form) or ``["CMD-SHELL", "text"]``; durations in ns."""

    test: list[str] = field(default_factory=list)
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    retries: int = 0
    name = "HEALTHCHECK"


@dataclass
class Onbuild(Instruction):
    expression: str = ""  # the trigger as written, e.g. "RUN make"
    trigger: Instruction | None = None
    name = "ONBUILD"


# ----------------------------------------------------------------- helpers


def split_flags(rest: str) -> tuple[dict[str, str | None], str]:
    """Leading ``--name=value`` (or ``--name``) words, and what follows."""
    flags: dict[str, str | None] = {}
    while rest.startswith("--"):
        word = _WHITESPACE.split(rest, 1)[0]
        after = rest[len(word) :].lstrip()
        if word == "--":
            return flags, after
        key, sep, value = word[2:].partition("=")
        flags[key] = _unquote(value) if sep else None
        rest = after
    return flags, rest


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def check_flags(keyword: str, flags: dict[str, str | None], allowed: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for key, value in flags.items():
        if key not in allowed:
            raise InstructionError(f"Unknown flag: {key}")
        if value is None:
            raise InstructionError(f"Missing a value on flag: --{key}")
        out[key] = value
    return out


def parse_json_array(rest: str) -> list[str] | None:
    """The exec form, or None when ``rest`` is shell form.  A JSON array with
    something other than strings in it is an error, as in Docker."""
    text = rest.lstrip()
    if not text.startswith("["):
        return None
    try:
        value, _end = json.JSONDecoder().raw_decode(text)  # like Go's Decoder: trailing text ignored
    except json.JSONDecodeError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise InstructionError(
            "Dockerfile contains an argument that is not a string: JSON arrays must hold strings only"
        )
    return value


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on whitespace outside quotes; quotes and escapes are *kept* (they
    are removed later, by substitution).  Docker's ``parseWords``."""
    words, word = [], ""
    blank_ok = False
    quote = ""
    i, n = 0, len(rest)
    in_word = False
    while i < n:
        ch = rest[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if i + 1 == n:
                    i += 1
                    continue
                word += ch
                i += 1
                ch = rest[i]
            word += ch
            i += 1
            continue
        if not in_word:
            if ch.isspace():
                i += 1
                continue
            in_word = True
        if ch.isspace():
            if blank_ok or word:
                words.append(word)
            word, blank_ok, in_word = "", False, False
            i += 1
            continue
        if ch in "'\"":
            quote, blank_ok = ch, True
        if ch == escape:
            if i + 1 == n:
                i += 1
                continue
            word += ch
            i += 1
            ch = rest[i]
        word += ch
        i += 1
    if in_word and (blank_ok or word):
        words.append(word)
    return words


def parse_key_values(keyword: str, rest: str, escape: str) -> list[tuple[str, str]]:
    """``K=V K2="v 2"`` or the old ``K v v`` (a single key, the rest is its value)."""
    words = parse_words(rest, escape)
    if not words:
        raise InstructionError(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        parts = _WHITESPACE.split(rest.strip(), 1)
        if len(parts) < 2:
            raise InstructionError(f"{keyword} must have two arguments")
        return [(parts[0], parts[1])]
    pairs = []
    for word in words:
        if "=" not in word:
            raise InstructionError(
                f"Syntax error - can't find = in {json.dumps(word)}. Must be of the form: name=value"
            )
        key, _, value = word.partition("=")
        if not key:
            raise InstructionError(f"{keyword} names can not be blank")
        pairs.append((key, value))
    return pairs


GO_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str, flag: str) -> int:
    """Go's ``time.ParseDuration`` (``30s``, ``1m30s``, ``1.5h``) in nanoseconds."""
    if not text:
        return 0
    pos, total = 0, 0.0
    body = text.lstrip("+")
    if body == "0":
        total = 0
    else:
        while pos < len(body):
            match = _DURATION_PART.match(body, pos)
            if not match:
                raise InstructionError(f'time: invalid duration "{text}"')
            total += float(match.group(1)) * GO_UNITS[match.group(2)]
            pos = match.end()
        if not body:
            raise InstructionError(f'time: invalid duration "{text}"')
    if total < 1_000_000:
        raise InstructionError(f'Interval "{flag}" cannot be less than 1ms')
    return int(total)
