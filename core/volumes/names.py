"""What a local volume may be called.

The name becomes a directory (``volumes/NAME/_data``), so a name must not be
able to climb out of the volumes directory: no ``/``, no ``..``.  Docker's
rule (moby ``daemon/names``): a letter or digit, then letters, digits,
``_``, ``.`` or ``-``.  A name with ``/`` is usually meant as a host path,
hence the hint in the message.

Docker also refuses one-character names ("volume name is too short").
stepbox accepts them, as it accepts one-character container names: the
project's own examples use ``volume create v``, and nothing depends on the
length.
"""

from __future__ import annotations

import re
import secrets

from .errors import InvalidVolume

RESTRICTED_NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_NAME = re.compile(f"^{RESTRICTED_NAME_CHARS}*$")


def check_volume_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidVolume(
            "create",
            name,
            f'"{name}" includes invalid characters for a local volume name, only '
            f'"{RESTRICTED_NAME_CHARS}" are allowed. If you intended to pass a host directory, use absolute path',
        )
    return name


def anonymous_name() -> str:
    """An anonymous volume's name: 64 hex digits, like a container ID."""
    return secrets.token_hex(32)
