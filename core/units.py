"""Durations and sizes the way docker prints them (its ``go-units`` package).

The daemon writes ``Up 3 seconds`` into ``docker ps``'s Status column, the
CLI writes ``5 minutes ago`` and ``1.2MB``: one set of rules for both ends.
"""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration: whole units, hours rounded, then days,
    weeks, months (of 30 days) and years -- ``2 years ago``, not ``151 weeks``."""
    if int(seconds) < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float, digits: int = 3) -> str:
    """docker's units.HumanSizeWithPrecision: decimal units, ``digits``
    significant digits -- 3 in listings (``docker images``), 4 (units.HumanSize)
    in "Total reclaimed space"."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000:
            return f"{size:.{digits}g}{unit}"
        size /= 1000
    return f"{size:.{digits}g}PB"
