"""From the text of a Dockerfile to *logical lines*.

A logical line is one instruction: physical lines ending in the escape
character (``\\``) continue on the next one -- unless that escape is itself
preceded by one (``a\\\\`` ends the line).  As in Docker's parser:

* leading whitespace of an instruction's first line is ignored, but that of
  a continuation line is kept (``RUN a \\`` + ``  b`` is ``RUN a   b``);
* a line whose first non-blank character is ``#`` is a comment -- also in the
  middle of a continued instruction, where it is simply left out;
* an empty line inside a continuation is skipped (Docker warns about it);
* parser directives are only recognised at the very top (:mod:`.directives`).

Each logical line remembers where it started and ended, for error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .directives import DirectiveError, Directives
from .errors import DockerfileError


@dataclass(frozen=True)
class LogicalLine:
    text: str  # the joined instruction, continuation characters removed
    start: int  # 1-based number of its first physical line
    end: int  # and of its last
    original: str  # the first physical line, as written (for messages)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def split_lines(source: str, filename: str = "Dockerfile") -> tuple[Directives, list[LogicalLine], list[str]]:
    """Directives, logical lines and warnings of a Dockerfile's text."""
    directives = Directives()
    physical = source.removeprefix("\ufeff").splitlines()
    lines: list[LogicalLine] = []
    warnings: list[str] = []
    i = 0

    # Docker's rule: the escape at the end continues the line only when the
    # character before it is not the escape too ("a\\" ends a line with a
    # literal backslash; so does "a\\\", surprisingly, as Docker does).
    def continuation(text: str) -> re.Match | None:
        esc = re.escape(directives.escape)  # (known once the directives are read)
        return re.search(f"(?<!{esc}){esc}[ \t]*$", text)

    while i < len(physical):
        raw = physical[i]
        i += 1
        try:
            if directives.offer(raw.lstrip()):
                continue
        except DirectiveError as e:
            raise DockerfileError(str(e), filename=filename, line=i, text=raw) from None
        if _is_comment(raw) or not raw.strip():
            continue
        start = i
        text = raw.lstrip()
        match = continuation(text)
        if match:
            text = text[: match.start()]
        empty_continuation = False
        while match and i < len(physical):
            raw_next = physical[i]
            i += 1
            if _is_comment(raw_next):
                continue
            if not raw_next.strip():
                empty_continuation = True
                continue
            match = continuation(raw_next)
            text += raw_next[: match.start()] if match else raw_next
        if empty_continuation:
            warnings.append(f"[WARNING]: Empty continuation line found in:\n    {text}")
        if text.strip():
            lines.append(LogicalLine(text, start, i, raw.strip()))
    return directives, lines, warnings
