"""``--filter name=value`` options as the Engine API's ``filters`` JSON."""

from __future__ import annotations

import json

import click


def filters_json(items: tuple[str, ...]) -> str | None:
    """``--filter until=24h --filter id=x`` -> ``{"until": {"24h": true}, "id": {"x": true}}``
    (None without any); a filter without ``=`` is a usage error (exit 125), as with docker."""
    wanted: dict[str, dict[str, bool]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(
                f"bad format of filter (expected name=value): {item}", param_hint="'--filter'"
            )
        wanted.setdefault(key.strip().lower(), {})[value.strip()] = True
    return json.dumps(wanted) if wanted else None
