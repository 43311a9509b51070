"""Durations and sizes the way docker prints them (its ``go-units`` package).

The daemon writes ``Up 3 seconds`` into ``docker ps``'s Status column, the
CLI writes ``5 minutes ago`` and ``1.2MB``: one set of rules for both ends.
"""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = seconds / 60
    if minutes < 2:
        return "About a minute"
    if minutes < 60:
        return f"{int(minutes)} minutes"
    hours = minutes / 60
    if hours < 2:
        return "About an hour"
    if hours < 48:
        return f"{int(hours)} hours"
    days = hours / 24
    return f"{int(days)} days" if days < 14 else f"{int(days / 7)} weeks"


def human_size(size: float) -> str:
    """docker's units.HumanSize: decimal units, 3 significant digits."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000:
            return f"{size:.3g}{unit}"
        size /= 1000
    return f"{size:.3g}PB"
