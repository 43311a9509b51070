"""Contexts: named daemons to talk to, kept as docker keeps them.

``stepbox context create lab --docker host=tcp://lab:2376,ca=ca.pem,cert=cert.pem,key=key.pem``
then ``stepbox context use lab``, and every later command goes to that
daemon, with those certificates.  The layout is docker's, under stepbox's
config directory (``$STEPBOX_CONFIG``, default ``~/.stepbox``)::

    config.json                                  {"currentContext": "lab", "auths": …}
    contexts/meta/<sha256 of the name>/meta.json {"Name": "lab", "Metadata": {"Description": …},
                                                  "Endpoints": {"docker": {"Host": "tcp://lab:2376",
                                                                           "SkipTLSVerify": false}}}
    contexts/tls/<sha256 of the name>/docker/    ca.pem, cert.pem, key.pem (copies, key mode 0600)

The context called ``default`` always exists and is not stored: the local
daemon of the state directory (started when none listens).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass

DEFAULT = "default"
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.+-]*")
TLS_FILES = ("ca", "cert", "key")


class ContextError(ValueError):
    pass


@dataclass
class Context:
    name: str
    host: str  # "" for the default context: the local daemon
    description: str = ""
    skip_tls_verify: bool = False
    tls_dir: str = ""  # holds ca.pem/cert.pem/key.pem when the context has TLS material

    def tls_file(self, which: str) -> str | None:
        path = os.path.join(self.tls_dir, f"{which}.pem") if self.tls_dir else ""
        return path if path and os.path.isfile(path) else None

    @property
    def has_tls(self) -> bool:
        return any(self.tls_file(which) for which in TLS_FILES)


def config_dir() -> str:
    return os.environ.get("STEPBOX_CONFIG") or os.path.join(os.path.expanduser("~"), ".stepbox")


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _meta_dir(name: str) -> str:
    return os.path.join(config_dir(), "contexts", "meta", _digest(name))


def _tls_dir(name: str) -> str:
    return os.path.join(config_dir(), "contexts", "tls", _digest(name), "docker")


def _config_path() -> str:
    return os.path.join(config_dir(), "config.json")


def _read_config() -> dict:
    try:
        with open(_config_path()) as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _write_json(path: str, value: dict, mode: int = 0o644) -> None:
    from stepbox.core.kernel.atomic import atomic_write

    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write(path, json.dumps(value, indent=2).encode() + b"\n")
    os.chmod(path, mode)


def current_name() -> str:
    return str(_read_config().get("currentContext") or DEFAULT)


def set_current(name: str) -> None:
    if name != DEFAULT:
        load(name)  # must exist
    config = _read_config()
    if name == DEFAULT:
        config.pop("currentContext", None)
    else:
        config["currentContext"] = name
    _write_json(_config_path(), config, 0o600)


def load(name: str) -> Context:
    if name == DEFAULT:
        return Context(DEFAULT, "", "The local stepbox daemon (of --root's state directory)")
    try:
        with open(os.path.join(_meta_dir(name), "meta.json")) as f:
            meta = json.load(f)
        endpoint = meta["Endpoints"]["docker"]
        return Context(
            name,
            str(endpoint["Host"]),
            str((meta.get("Metadata") or {}).get("Description", "")),
            bool(endpoint.get("SkipTLSVerify", False)),
            _tls_dir(name) if os.path.isdir(_tls_dir(name)) else "",
        )
    except FileNotFoundError:
        raise ContextError(f"context {name!r} does not exist (stepbox context ls lists them)") from None
    except (ValueError, KeyError, TypeError) as e:
        raise ContextError(f"context {name!r} is damaged ({_meta_dir(name)}/meta.json): {e}") from None


def all_contexts() -> list[Context]:
    found = [load(DEFAULT)]
    base = os.path.join(config_dir(), "contexts", "meta")
    names = []
    for entry in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, entry, "meta.json")) as f:
                names.append(str(json.load(f)["Name"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours to judge here; `load` names the damage
    return found + [load(n) for n in sorted(names)]


def create(
    name: str, host: str, description: str, tls_files: dict[str, str], skip_tls_verify: bool
) -> Context:
    if not _NAME.fullmatch(name) or name == DEFAULT:
        raise ContextError(
            f"invalid context name {name!r}: letters, digits and ._+- (not starting with one of those)"
            + (", and not 'default'" if name == DEFAULT else "")
        )
    if os.path.exists(os.path.join(_meta_dir(name), "meta.json")):
        raise ContextError(f"context {name!r} already exists")
    for which, path in tls_files.items():
        if not os.path.isfile(path):
            raise ContextError(f"cannot read the {which} file {path}")
    meta = {
        "Name": name,
        "Metadata": {"Description": description},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_tls_verify}},
    }
    if tls_files:
        directory = _tls_dir(name)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        for which, path in tls_files.items():
            target = os.path.join(directory, f"{which}.pem")
            shutil.copyfile(path, target)
            os.chmod(target, 0o600 if which == "key" else 0o644)
    _write_json(os.path.join(_meta_dir(name), "meta.json"), meta)
    return load(name)


def remove(name: str) -> None:
    if name == DEFAULT:
        raise ContextError("the default context cannot be removed")
    load(name)
    if current_name() == name:
        raise ContextError(f"context {name!r} is in use: switch away first (stepbox context use default)")
    shutil.rmtree(_meta_dir(name), ignore_errors=True)
    shutil.rmtree(os.path.dirname(_tls_dir(name)), ignore_errors=True)
