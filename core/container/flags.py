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
    return cpus  # 0: no limit; out of range (negative, more than the host has): the daemon says


def parse_env(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name:
            raise InvalidConfig(f"invalid environment variable: {item}")
        env[name] = value if sep else ""
    return env


def parse_ulimit(text: str) -> tuple[str, int, int]:
    """docker's ``--ulimit NAME=SOFT[:HARD]`` (go-units ParseUlimit): the hard
    limit defaults to the soft one, -1 is unlimited, soft above hard is refused."""
    name, sep, values = text.partition("=")
    if not sep:
        raise InvalidConfig(f"invalid ulimit argument: {text}")
    check_ulimit_name(name)
    parts = values.split(":")
    if len(parts) > 2:
        raise InvalidConfig(
            f"too many limit value arguments - {values}, can only have up to two, `soft[:hard]`"
        )
    numbers = []
    for part in parts:
        try:
            numbers.append(int(part, 10))
        except ValueError:
            raise InvalidConfig(f'strconv.ParseInt: parsing "{part}": invalid syntax') from None
    soft, hard = numbers[0], numbers[-1]
    check_ulimit(name, soft, hard)
    return name, soft, hard


def check_ulimit_name(name: str) -> None:
    from stepbox.core.kernel.processes import RLIMIT_NAMES

    if name not in RLIMIT_NAMES:
        raise InvalidConfig(f"invalid ulimit type: {name}")


def check_ulimit(name: str, soft: int, hard: int) -> None:
    if hard != -1 and soft > hard:
        raise InvalidConfig(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    if soft < -1 or hard < -1:
        raise InvalidConfig(f"invalid ulimit {name}: {soft}:{hard} (-1 is unlimited, below that is nothing)")
