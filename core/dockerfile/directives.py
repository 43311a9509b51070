"""Parser directives: ``# escape=`` and ``# syntax=`` at the very top.

A directive looks like a comment, but only in the leading block of comment
lines: the first line that is not a directive (a blank line, a real
comment, an instruction) ends the block, and a ``# escape=`` after that is
just a comment.  ``escape`` picks the character that continues lines and
escapes in words (``\\`` by default, or a backtick, handy for Windows paths);
``syntax`` selects a BuildKit frontend and is noted and ignored here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z]+)[ \t]*=[ \t]*(.*?)\s*$")  # the name in any case
KNOWN = ("escape", "syntax")


class DirectiveError(ValueError):
    pass


@dataclass
class Directives:
    escape: str = "\\"
    syntax: str | None = None
    done: bool = False
    seen: set[str] = field(default_factory=set)

    def offer(self, line: str) -> bool:
        """Look at the next physical line; True if it was a directive."""
        if self.done:
            return False
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() not in KNOWN:
            self.done = True
            return False
        name, value = match.group(1).lower(), match.group(2)  # the value keeps its case
        if name in self.seen:
            raise DirectiveError(f"only one {name} parser directive can be used")
        self.seen.add(name)
        if name == "escape":
            if value not in ("\\", "`"):
                raise DirectiveError(f"invalid ESCAPE '{value}'. Must be ` or \\")
            self.escape = value
        else:
            self.syntax = value
        return True
