"""Variable substitution in Dockerfile words, the way Docker's builder does it.

Docker does *not* hand ``ENV``, ``COPY`` or ``WORKDIR`` arguments to a shell.
It runs its own small word processor (moby/buildkit ``shell.Lex``) over them
with the build's environment (``ENV`` values, and the ``ARG`` values declared
in the stage).  What it understands:

* ``$NAME`` and ``${NAME}`` -- the value, or the empty string when unset;
* ``${NAME:-word}`` -- ``word`` when NAME is unset *or empty*;
* ``${NAME:+word}`` -- ``word`` when NAME is set and not empty, else empty;
  (``word`` may itself contain ``$OTHER``);
* single quotes keep everything literally (no ``$``, no escapes), and are
  removed;
* double quotes are removed; inside them ``$`` still substitutes and the
  escape character escapes only ``"``, ``$`` and itself;
* outside quotes the escape character (``\\`` or the ``# escape=`` one)
  makes the next character literal: ``\\$HOME`` stays ``$HOME``.

``RUN``, ``CMD``, ``ENTRYPOINT``, ``SHELL`` and ``HEALTHCHECK`` are *not*
processed here: their text goes to the container's shell unchanged, which
substitutes with the container's environment at run time.
"""

from __future__ import annotations

from collections.abc import Mapping


class SubstitutionError(ValueError):
    """A word Docker's builder refuses (``${}``, ``${X:?}``, an open quote …)."""


_SPECIAL_PARAMS = "@*#?-$!"


class _Words:
    """Splits the processed text into words (only ``EXPOSE`` uses this):
    whitespace that came from the Dockerfile or from a ``$VAR`` separates
    words, whitespace inside quotes or after an escape does not."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.word = ""
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word, self.in_word = "", False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def result(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


class _Scanner:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch


class Lexer:
    """``Lexer(escape).process_word(word, env)``: one word, quotes removed,
    variables substituted.  ``process_words`` also splits into words."""

    def __init__(self, escape: str = "\\"):
        self.escape = escape

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        return _Run(self.escape, env, word).stop_on("")[0]

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        return _Run(self.escape, env, word).stop_on("")[1]


class _Run:
    def __init__(self, escape: str, env: Mapping[str, str], text: str):
        self.escape, self.env, self.scan = escape, env, _Scanner(text)

    def stop_on(self, stop: str) -> tuple[str, list[str]]:
        """Process until ``stop`` (consumed) or the end of the text."""
        result: list[str] = []
        words = _Words()
        while self.scan.peek():
            ch = self.scan.peek()
            if stop and ch == stop:
                self.scan.next()
                return "".join(result), words.result()
            if ch == "$":
                value = self.dollar()
                result.append(value)
                words.add_string(value)  # a variable's spaces split words
            elif ch == "'":
                value = self.single_quote()
                result.append(value)
                words.add_raw(value)
            elif ch == '"':
                value = self.double_quote()
                result.append(value)
                words.add_raw(value)
            else:
                ch = self.scan.next()
                if ch == self.escape:
                    ch = self.scan.next()
                    if not ch:  # a lone escape at the end vanishes
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop:
            raise SubstitutionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def single_quote(self) -> str:
        self.scan.next()
        out: list[str] = []
        while True:
            ch = self.scan.next()
            if not ch:
                raise SubstitutionError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        self.scan.next()
        out: list[str] = []
        while True:
            ch = self.scan.peek()
            if not ch:
                raise SubstitutionError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.scan.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.scan.next()
            if ch == self.escape:
                following = self.scan.peek()
                if not following:
                    continue
                if following in ('"', "$", self.escape):
                    ch = self.scan.next()  # an escaped quote, dollar or escape
                else:
                    out.append(ch)  # any other escape stays as it is
                    ch = self.scan.next()
            out.append(ch)

    def name(self) -> str:
        """A variable name: letters, digits, ``_``; or digits; or one special."""
        out: list[str] = []
        while self.scan.peek():
            ch = self.scan.peek()
            if not out and ch.isdecimal():
                while self.scan.peek().isdecimal():
                    out.append(self.scan.next())
                return "".join(out)
            if not out and ch in _SPECIAL_PARAMS:
                return self.scan.next()
            if not (ch.isalnum() or ch == "_"):
                break
            out.append(self.scan.next())
        return "".join(out)

    def dollar(self) -> str:
        self.scan.next()
        if self.scan.peek() != "{":
            name = self.name()
            return self.env.get(name, "") if name else "$"
        self.scan.next()
        if not self.scan.peek():
            raise SubstitutionError("syntax error: missing '}'")
        if self.scan.peek() in "{}:":
            raise SubstitutionError("syntax error: bad substitution")
        name = self.name()
        ch = self.scan.next()
        if ch == "}":
            return self.env.get(name, "")
        if ch == ":":
            modifier = self.scan.next()
            try:
                word, _ = self.stop_on("}")
            except SubstitutionError:
                raise SubstitutionError("syntax error: missing '}'") from None
            value = self.env.get(name, "")
            if modifier == "+":
                return word if value else ""
            if modifier == "-":
                return value if value else word
            raise SubstitutionError(f"unsupported modifier ({modifier}) in substitution")
        raise SubstitutionError("missing ':' in substitution")
