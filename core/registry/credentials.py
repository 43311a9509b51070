"""Where ``stepbox login`` keeps credentials: docker's ``config.json`` format.

::

    {"auths": {"localhost:5000": {"auth": "<base64 of user:password>"}}}

stepbox writes ``~/.stepbox/config.json`` (or ``$STEPBOX_CONFIG/config.json``)
and, when it has no entry of its own, reads docker's
(``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``), so a
``docker login`` works for stepbox too.  Docker Hub's key is, for historical
reasons, ``https://index.docker.io/v1/``.  The password is only base64-encoded,
not encrypted: the file is created mode 0600.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from stepbox.core.kernel.atomic import atomic_write

DOCKER_HUB_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def stepbox_config_path() -> str:
    base = os.environ.get("STEPBOX_CONFIG") or os.path.join(os.path.expanduser("~"), ".stepbox")
    return os.path.join(base, "config.json")


def docker_config_path() -> str:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def config_key(registry: str) -> str:
    return (
        DOCKER_HUB_KEY if registry in ("docker.io", "index.docker.io", "registry-1.docker.io") else registry
    )


def _read(path: str) -> dict:
    try:
        with open(path) as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def load_credentials(registry: str) -> Credentials | None:
    key = config_key(registry)
    for path in (stepbox_config_path(), docker_config_path()):
        auths = _read(path).get("auths", {})
        for candidate in (key, f"https://{key}", f"http://{key}"):
            entry = auths.get(candidate)
            if isinstance(entry, dict) and entry.get("auth"):
                try:
                    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
                return Credentials(user, password)
    return None


def store_credentials(registry: str, credentials: Credentials) -> str:
    path = stepbox_config_path()
    config = _read(path)
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    config.setdefault("auths", {})[config_key(registry)] = {"auth": token}
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write(path, json.dumps(config, indent=2).encode() + b"\n")
    os.chmod(path, 0o600)
    return path


def erase_credentials(registry: str) -> bool:
    path = stepbox_config_path()
    config = _read(path)
    if config.get("auths", {}).pop(config_key(registry), None) is None:
        return False
    atomic_write(path, json.dumps(config, indent=2).encode() + b"\n")
    return True
