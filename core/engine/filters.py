"""Docker's ``filters`` query parameter, read strictly.

``GET /containers/json?filters={"status":["exited"],"label":{"app=web":true}}``:
a JSON object whose keys are filter names and whose values are either a
list of strings or (the older form) an object of strings to ``true``.
Anything else is the client's mistake and gets a 400 naming it -- and so
does a filter name the endpoint does not know, rather than being ignored
(docker: ``invalid filter 'foo'``).
"""

from __future__ import annotations

import json

from .errors import BadParameter


def parse_filters(raw: str | None, known: tuple[str, ...]) -> dict[str, list[str]]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadParameter(f"invalid filters: {e}") from None
    if not isinstance(data, dict):
        raise BadParameter('invalid filters: expected a JSON object such as {"status": ["running"]}')
    wanted: dict[str, list[str]] = {}
    for key, value in data.items():
        if key not in known:
            raise BadParameter(f"invalid filter '{key}' (this endpoint knows {', '.join(known)})")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            wanted[key] = list(value)
        elif isinstance(value, dict) and all(isinstance(v, bool) for v in value.values()):
            wanted[key] = [k for k, on in value.items() if on]
        else:
            raise BadParameter(
                f"invalid filter '{key}': expected a list of strings or an object of strings to true"
            )
    return wanted


def bool_filter(values: list[str], name: str) -> bool:
    """``dangling=true`` and the like."""
    if len(set(v.lower() for v in values)) != 1 or values[0].lower() not in ("true", "false", "1", "0"):
        raise BadParameter(f"invalid filter '{name}={','.join(values)}': expected true or false")
    return values[0].lower() in ("true", "1")


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def time_filter(value: str, name: str, now: float) -> float:
    """``until=24h`` and the like, as the daemon reads it (moby's
    ``timetypes.GetTimestamp``): a Go duration before ``now``, Unix seconds,
    or an RFC 3339 date; Unix seconds back."""
    import re
    from datetime import datetime

    if re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", value):
        parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
        return now - sum(float(n) * _DURATION_UNITS[unit] for n, unit in parts)
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadParameter(
            f"invalid filter '{name}={value}': expected a duration (24h), Unix seconds or an RFC 3339 time"
        ) from None


def labels_match(labels: dict[str, str], wanted: list[str], unwanted: list[str]) -> bool:
    """``label=k`` / ``label=k=v`` all present, ``label!=k`` / ``label!=k=v`` none."""

    def has(spec: str) -> bool:
        key, sep, value = spec.partition("=")
        return key in labels and (not sep or labels[key] == value)

    return all(has(spec) for spec in wanted) and not any(has(spec) for spec in unwanted)
