"""Header fields as they arrived: a list of (name, value), names compared
case-insensitively.  Shared by the servers and the Engine API client, so it
imports nothing."""

from __future__ import annotations


class Headers:
    def __init__(self, items: list[tuple[str, str]] | None = None):
        self.items = items if items is not None else []

    def __repr__(self) -> str:
        return f"Headers({self.items!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Headers) and self.items == other.items

    def get(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self.items:
            if key.lower() == lname:
                return value
        return default

    def has_token(self, name: str, token: str) -> bool:
        """``Connection: keep-alive, Upgrade`` has the token ``upgrade``."""
        value = self.get(name) or ""
        return token.lower() in (t.strip().lower() for t in value.split(","))

    def add(self, name: str, value: str) -> None:
        self.items.append((name, value))
