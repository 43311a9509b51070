"""``volume ls --filter`` and ``volume prune --filter``, as dockerd reads them.

Filters arrive as the JSON of Docker's ``filters.Args``: ``{"label":
{"a=b": true}}`` (or ``{"label": ["a=b"]}``).  Each key may hold several
values; a volume passes a key if it matches any of them (``label``: all of
them), and must pass every key.  A key the endpoint does not know is
refused by name, not ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidFilter

LIST_FILTERS = ("dangling", "name", "driver", "label")
PRUNE_FILTERS = ("label", "label!", "all")


def parse_filters(raw: str | None) -> dict[str, list[str]]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidFilter(f"{raw}: {e}") from None
    if not isinstance(data, dict):
        raise InvalidFilter(raw)
    parsed = {}
    for key, values in data.items():
        if isinstance(values, dict):
            values = [k for k, on in values.items() if on]
        elif isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InvalidFilter(key)
        parsed[key] = values
    return parsed


def check_keys(filters: dict[str, list[str]], accepted: tuple[str, ...]) -> None:
    for key in filters:
        if key not in accepted:
            raise InvalidFilter(key)


def boolean(filters: dict[str, list[str]], key: str) -> bool | None:
    """moby's GetBoolOrDefault: one value, 1/true or 0/false."""
    values = filters.get(key)
    if not values:
        return None
    is_true = any(v in ("1", "true") for v in values)
    is_false = any(v in ("0", "false") for v in values)
    if len(values) > 1 or is_true == is_false:
        raise InvalidFilter(f"{key}=[{' '.join(values)}]")
    return is_true


def labels_match(wanted: list[str], labels: dict[str, str]) -> bool:
    """``label=KEY`` or ``label=KEY=VALUE``, every one of them."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


@dataclass(frozen=True)
class VolumeFacts:
    """What the filters look at."""

    name: str
    driver: str
    labels: dict
    in_use: bool


def list_predicate(filters: dict[str, list[str]]) -> Callable[[VolumeFacts], bool]:
    check_keys(filters, LIST_FILTERS)
    dangling = boolean(filters, "dangling")

    def keep(v: VolumeFacts) -> bool:
        if "driver" in filters and v.driver not in filters["driver"]:
            return False
        if "name" in filters and not any(_name_matches(p, v.name) for p in filters["name"]):
            return False
        if "label" in filters and not labels_match(filters["label"], v.labels):
            return False
        if dangling is not None and v.in_use == dangling:
            return False
        return True

    return keep


def _name_matches(pattern: str, name: str) -> bool:
    """moby's filters.Match: equal, or the value as a regular expression
    found anywhere in the name."""
    if pattern == name:
        return True
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False
