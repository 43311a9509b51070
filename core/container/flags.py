"""Docker's flag syntax -- ``-m 8m``, ``--cpus 0.5``, ``-e NAME=value`` --
parsed with docker's wording for what it refuses.

Kept apart from :mod:`.config` because the ``stepbox`` CLI parses these
before it sends a request to the daemon (the API takes bytes and
nano-CPUs, as docker's does), and the CLI must not import the kernel
interfaces to do so.
"""

from __future__ import annotations

import re


class InvalidConfig(ValueError):
    """A flag value docker would refuse, with docker's wording."""


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
MIN_MEMORY = 6 * 1024 * 1024  # docker: "Minimum memory limit allowed is 6MB"


def parse_size(text: str, flag: str = "-m, --memory") -> int:
    """docker's RAMInBytes: ``8m`` = 8 MiB, ``1g``, ``512k``, ``100`` (bytes)."""
    match = _SIZE.match(text.strip())
    if not match:
        raise InvalidConfig(f'invalid argument "{text}" for "{flag}" flag: invalid size: \'{text}\'')
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * _UNITS[unit])


def parse_cpus(text: str) -> float:
    try:
        cpus = float(text)
    except ValueError:
        raise InvalidConfig(
            f'invalid argument "{text}" for "--cpus" flag: failed to parse {text} as a rational number'
        ) from None
    if cpus <= 0:
        raise InvalidConfig(f'invalid argument "{text}" for "--cpus" flag: --cpus must be a positive number')
    return cpus


def parse_env(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name:
            raise InvalidConfig(f"invalid environment variable: {item}")
        env[name] = value if sep else ""
    return env
