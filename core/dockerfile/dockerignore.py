"""``.dockerignore``: which files of the context the build never sees.

Docker's rules (the docker CLI's ``dockerignore.ReadAll`` and moby's pattern
matcher), reproduced here:

* one pattern per line; a line *starting* with ``#`` is a comment; blank
  lines are skipped; surrounding whitespace is trimmed;
* each pattern is cleaned like a path (``./a//b/`` is ``a/b``, a leading
  ``/`` is dropped) -- patterns are always relative to the context root;
* ``*`` matches any run of characters except ``/``, ``?`` one character
  except ``/``, ``[a-c]`` a class, ``\\`` escapes the next character;
* ``**`` matches any number of directories, including none
  (``**/*.go`` matches ``a.go`` and ``x/y/a.go``);
* a pattern that matches a directory excludes everything below it (a
  pattern is also tried against each *parent* path of a file);
* ``!pattern`` re-includes what an earlier pattern excluded; the **last**
  matching pattern wins.

A directory that is excluded is not even walked -- unless some ``!``
pattern starts with that directory's path, because it might re-include
something inside.
"""

from __future__ import annotations

import posixpath
import re


class IgnoreError(ValueError):
    pass


def clean_path(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash path."""
    if not path:
        return "."
    rooted = path.startswith("/")
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = cleaned[1:]
    if not rooted and cleaned.startswith("/"):
        cleaned = cleaned.lstrip("/")
    return cleaned


def read_patterns(text: str) -> list[str]:
    """The patterns of a ``.dockerignore`` file, normalised as the CLI does."""
    patterns = []
    for raw in text.removeprefix("\ufeff").splitlines():
        if raw.startswith("#"):
            continue
        pattern = raw.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = clean_path(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


class Pattern:
    # A plain class: ``stepbox build`` reads .dockerignore through this
    # module, and dataclasses' import is a good part of its start-up (issue 18).
    __slots__ = ("text", "exclusion", "regex", "depth")

    def __init__(self, text: str, exclusion: bool, regex: re.Pattern, depth: int):
        self.text = text  # the cleaned pattern, without "!"
        self.exclusion = exclusion  # a "!" pattern: re-include
        self.regex = regex
        self.depth = depth  # number of path components

    def __repr__(self) -> str:
        return f"Pattern(text={self.text!r}, exclusion={self.exclusion!r}, depth={self.depth!r})"

    def match(self, path: str) -> bool:
        return self.regex.match(path) is not None


def compile_pattern(pattern: str) -> re.Pattern:
    """Translate a pattern to a regular expression, the way moby does: walk
    the pattern, map ``*``, ``**``, ``?``, escape ``.`` and ``$``, and pass
    every other character through unchanged."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1  # treat "**/" as "**"
                out.append(".*" if i == n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch in ".$":
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append("\\" + pattern[i])
                i += 1
            else:
                out.append("\\\\")
        else:
            # Everything else goes into the regular expression as it is --
            # "[a-c]" is a class, and (a moby quirk) so are "+" or "(" regexp
            # syntax rather than literal characters.
            out.append(ch)
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error as e:
        raise IgnoreError(f"syntax error in pattern {pattern!r}: {e}") from None


class PatternMatcher:
    """Decides, path by path, whether the context excludes it."""

    def __init__(self, patterns: list[str]):
        self.patterns: list[Pattern] = []
        for raw in patterns:
            p = raw.strip()
            if not p:
                continue
            p = clean_path(p)
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise IgnoreError('illegal exclusion pattern: "!"')
                p = p[1:]
            self.patterns.append(Pattern(p, exclusion, compile_pattern(p), len(p.split("/"))))

    @property
    def has_exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def matches(self, path: str) -> bool:
        """True if ``path`` (relative, with ``/``) is excluded."""
        path = clean_path(path)
        parent = posixpath.dirname(path) or "."
        parent_dirs = parent.split("/")
        excluded = False
        for pattern in self.patterns:
            match = pattern.match(path)
            if not match and parent != "." and pattern.depth <= len(parent_dirs):
                match = pattern.match("/".join(parent_dirs[: pattern.depth]))
            if match:
                excluded = not pattern.exclusion
        return excluded

    def may_reinclude_below(self, directory: str) -> bool:
        """Could a ``!`` pattern bring back something inside ``directory``?
        (If not, an excluded directory need not be walked at all.)"""
        prefix = directory + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)
