"""The code blocks of a Markdown tutorial, and how their output is checked.

The convention (``tutorials/README.md`` tells readers the same):

* ```` ```console ```` -- a terminal session.  A line starting with ``$ `` is
  a command; lines after it that start with the shell's continuation prompt
  ``> `` continue it (after a trailing ``\\``, in a here-document); the lines
  after it, up to the next command, are its output.  Commands run one after
  another in one shell, so variables, ``cd`` and background jobs carry over,
  and each must exit with status 0.  Shown output is checked: every line
  must match, where ``...`` inside a line stands for any text and a line
  that is only ``...`` for any number of lines.  A command shown without
  output is not checked.
* ```` ```python ```` -- executed in order in one Python process per
  tutorial (one namespace), beside the shell; it must not raise.

No other kind of code block is allowed: every block of a tutorial runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class Block:
    kind: str  # "console" or "python"
    source: str
    line: int  # where the block starts in the file (1-based)
    commands: list[Command] = field(default_factory=list)  # console blocks only


class TutorialError(ValueError):
    pass


def parse_blocks(markdown: str, name: str = "tutorial") -> list[Block]:
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        kind, start = match.group(1), index + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise TutorialError(f"{name}:{start}: a code block is never closed")
        if kind not in ("console", "python"):
            raise TutorialError(
                f"{name}:{start}: a ```{kind or '(no language)'} block: tutorials may only "
                "have ```console and ```python blocks, which the tests run"
            )
        body = lines[start:end]
        block = Block(kind, "\n".join(body) + "\n", start + 1)
        if kind == "console":
            block.commands = _commands(body, start + 1, name)
        blocks.append(block)
        index = end + 1
    return blocks


def _commands(body: list[str], first_line: int, name: str) -> list[Command]:
    commands: list[Command] = []
    index = 0
    while index < len(body):
        line = body[index]
        if line.startswith("$ "):
            text, number = line[2:], first_line + index
            # Lines shown after the shell's continuation prompt "> " belong to the
            # command: after a trailing backslash, inside a here-document ...
            while index + 1 < len(body) and body[index + 1].startswith("> "):
                index += 1
                text = text + "\n" + body[index][2:]
            commands.append(Command(text, [], number))
        elif not commands:
            if line.strip():
                raise TutorialError(f"{name}:{first_line + index}: output before the first $ command")
        else:
            commands[-1].expected.append(line.rstrip())
        index += 1
    for command in commands:
        while command.expected and not command.expected[-1]:
            command.expected.pop()
    return commands


def _line_pattern(expected: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(piece) for piece in expected.split("...")) + r"\Z", re.S)


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Match lines, ``...`` being a wildcard (see the module docstring)."""
    patterns = [None if line.strip() == "..." else _line_pattern(line) for line in expected]
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(patterns):
            result = j == len(actual)
        elif patterns[i] is None:
            result = any(match(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            pattern = patterns[i]
            assert pattern is not None
            result = j < len(actual) and bool(pattern.match(actual[j])) and match(i + 1, j + 1)
        memo[(i, j)] = result
        return result

    return match(0, 0)


def code_blocks_of(blocks: list[Block]) -> list[tuple[str, str]]:
    """What the blocks *do* (kind, code without the shown output): the same in
    every language a tutorial is written in."""
    shown = []
    for block in blocks:
        if block.kind == "console":
            shown += [("console", command.text) for command in block.commands]
        else:
            shown.append(("python", block.source))
    return shown


__all__ = ["Block", "Command", "TutorialError", "code_blocks_of", "output_matches", "parse_blocks"]
