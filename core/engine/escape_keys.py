"""Detach keys: the key sequence that lets go of an attached container.

On a TTY, ctrl-p ctrl-q (or ``--detach-keys``) ends an ``attach`` and leaves
the container running.  Both ends watch for it -- the docker CLI, so that
the sequence never reaches the container, and the daemon, for clients that
do not.  A partial match is held back until it is decided; if it turns out
not to be the sequence, the held bytes are passed on (moby/term's
``escapeProxy``).  No imports beyond the standard library: the CLI uses it.
"""

from __future__ import annotations


class InvalidDetachKeys(ValueError):
    pass


DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q
_CTRL = "@abcdefghijklmnopqrstuvwxyz[\\]^_"


def parse_detach_keys(text: str | None) -> bytes:
    """Docker's ``--detach-keys`` syntax: comma-separated keys, each one
    character, ``ctrl-X`` (X in a-z @ [ \\ ] ^ _) or ``DEL``."""
    if not text:
        return DEFAULT_DETACH_KEYS
    codes = bytearray()
    for key in text.split(","):
        if len(key) == 1:
            codes += key.encode("latin-1", "replace")[:1]
        elif key.startswith("ctrl-") and len(key) == 6 and key[5] in _CTRL:
            codes.append(_CTRL.index(key[5]))
        elif key == "DEL":
            codes.append(127)
        else:
            raise InvalidDetachKeys(f"Invalid detach keys ({text}) provided")
    return bytes(codes)


class EscapeDetector:
    """Watches input for the detach sequence, holding back a partial match
    until it is decided (moby/term's escapeProxy, as a filter)."""

    def __init__(self, keys: bytes):
        self.keys = keys
        self.matched = 0  # how many bytes of the sequence the input ends with

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to pass on, whether the whole sequence was seen)."""
        out = bytearray()
        for byte in data:
            if byte == self.keys[self.matched]:
                self.matched += 1
                if self.matched == len(self.keys):
                    return bytes(out), True
                continue
            if self.matched:  # not the sequence after all: what was held goes on
                out += self.keys[: self.matched]
                self.matched = 0
                if byte == self.keys[0]:
                    self.matched = 1
                    continue
            out.append(byte)
        return bytes(out), False
