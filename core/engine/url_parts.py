"""A request's path segment and query string, as urllib.parse makes them.

urllib.parse costs a command's start-up about 2.5 ms of CPU (it imports
ipaddress, among others), and the CLI needs it only for quoting (issue 18).
So a path segment is answered here in the common case -- every character
one that urllib leaves as it is -- and anything else goes to urllib itself;
a query string is always encoded here, by urlencode's own rules (``build``
sends ``t=app%3A1&buildargs=%7B%7D``, which is not the plain case).  The
result is urllib's either way: tests/engine/test_url_parts.py and
tests/engine/test_query_string.py compare them.
"""

from __future__ import annotations

# What quote() and quote_plus() never escape (urllib.parse's _ALWAYS_SAFE).
ALWAYS_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
# byte -> what stands for it in a query (quote_plus: a space is "+")
_QUOTED = tuple(chr(b) if chr(b) in ALWAYS_SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in range(256))


def quote(text: str, safe: str = "/") -> str:
    """``urllib.parse.quote(text, safe)``."""
    if ALWAYS_SAFE.issuperset(text):
        return text
    from urllib.parse import quote as urllib_quote

    return urllib_quote(text, safe=safe)


def quote_plus(value: str | bytes) -> str:
    """``urllib.parse.quote_plus(value)`` (``safe=""``, UTF-8, strict): letters,
    digits and ``_.-~`` as they are, a space as ``+``, every other byte ``%XX``."""
    data = value.encode() if isinstance(value, str) else value
    return "".join([_QUOTED[b] for b in data])


def _text(value: object) -> str | bytes:
    return value if isinstance(value, (str, bytes)) else str(value)


def query_string(pairs) -> str:
    """``urllib.parse.urlencode(pairs, doseq=True)`` for a list of (key, value)
    pairs or a dict: a str or bytes value is one item, another sequence one
    item per element, anything else its ``str()``."""
    items = pairs.items() if hasattr(pairs, "items") else pairs
    out = []
    for key, value in items:
        name = quote_plus(_text(key))
        if isinstance(value, (str, bytes)):
            out.append(f"{name}={quote_plus(value)}")
            continue
        try:
            len(value)
        except TypeError:
            out.append(f"{name}={quote_plus(str(value))}")
        else:
            out.extend(f"{name}={quote_plus(_text(item))}" for item in value)
    return "&".join(out)
