"""``--env-file`` and ``--label-file``: lines of ``KEY=value``, read as docker reads them.

Leading white space is dropped, trailing white space is part of the value;
empty lines and lines starting with ``#`` are skipped; a key may not
contain white space.  In an env file a bare ``KEY`` takes its value from
our own environment (and is left out if we have none); in a label file it
is left out.  Values given on the command line (``-e``, ``-l``) come after
the files' and win.  (docker/cli ``pkg/kvfile``, ``opts/parse.go``.)
"""

from __future__ import annotations

import os
from collections.abc import Callable

WHITESPACE = " \t"


class KVFileError(ValueError):
    pass


def parse_kv_file(path: str, lookup: Callable[[str], str | None] | None) -> list[str]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise KVFileError(f"open {path}: no such file or directory") from None
    except OSError as e:
        raise KVFileError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None
    lines = []
    for number, data in enumerate(raw.splitlines(), start=1):
        if number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise KVFileError(f"invalid utf8 bytes at line {number}: {list(data)}") from None
        line = text.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, _value = line.partition("=")
        if not key:
            raise KVFileError(f"no variable name on line '{line}'")
        if any(c in WHITESPACE for c in key):
            raise KVFileError(f"variable '{key}' contains whitespaces")
        if sep:
            lines.append(line)
        elif lookup is not None:
            value = lookup(line)
            if value is not None:
                lines.append(f"{key}={value}")
    return lines


def env_from(files: tuple[str, ...], given: tuple[str, ...]) -> list[str]:
    """The files' variables, then ``-e``'s (a bare ``-e KEY`` from our environment)."""
    result: list[str] = []
    for path in files:
        result += parse_kv_file(path, os.environ.get)
    for item in given:
        if "=" in item:
            result.append(item)
        elif item in os.environ:
            result.append(f"{item}={os.environ[item]}")
    return result


def labels_from(files: tuple[str, ...], given: tuple[str, ...]) -> dict[str, str]:
    lines: list[str] = []
    for path in files:
        lines += parse_kv_file(path, None)
    lines += list(given)
    labels: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition("=")
        labels[key] = value
    return labels
