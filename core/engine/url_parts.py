"""A request's path segment and query string, as urllib.parse makes them.

urllib.parse costs a command's start-up about 2.5 ms of CPU (it imports
ipaddress, among others), and the CLI's ``run`` needs it only to quote
what needs no quoting: container IDs, ``stream=1``, ``condition=removed``
(issue 18).  So the common case is answered here -- every character one
that urllib leaves as it is -- and anything else goes to urllib itself: the
result is urllib's either way (tests/engine/test_url_parts.py compares them).
"""

from __future__ import annotations

# What quote() and quote_plus() never escape (urllib.parse's _ALWAYS_SAFE).
ALWAYS_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "/") -> str:
    """``urllib.parse.quote(text, safe)``."""
    if ALWAYS_SAFE.issuperset(text):
        return text
    from urllib.parse import quote as urllib_quote

    return urllib_quote(text, safe=safe)


def query_string(pairs: list[tuple[str, object]]) -> str:
    """``urllib.parse.urlencode(pairs, doseq=True)``."""
    plain = []
    for key, value in pairs:
        text = value if type(value) is str else str(value) if type(value) is int else None
        if text is None or not (ALWAYS_SAFE.issuperset(key) and ALWAYS_SAFE.issuperset(text)):
            from urllib.parse import urlencode

            return urlencode(pairs, doseq=True)
        plain.append(f"{key}={text}")
    return "&".join(plain)
