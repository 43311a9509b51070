"""``-v``, ``--mount``, ``--tmpfs``: the flags, as the docker CLI reads them.

The CLI does a first pass before it sends anything (the daemon checks the
rest, see :mod:`.mount_points`):

* ``-v SRC:DST[:OPTS]`` with a source goes to ``HostConfig.Binds`` as a
  string -- a relative source starting with ``.`` made absolute first
  (``-v ./data:/data``) -- and ``-v DST`` alone to ``Config.Volumes`` (an
  anonymous volume);
* ``--mount type=bind,source=...,target=...`` becomes a Mount object of
  ``HostConfig.Mounts``; its keys are checked here;
* ``--tmpfs DST[:OPTS]`` becomes ``HostConfig.Tmpfs[DST] = OPTS``.

The wording of the errors is the docker CLI's (docker/cli ``opts/mount.go``
and the compose loader's ``ParseVolume``).
"""

from __future__ import annotations

import os

from .flags import InvalidConfig, parse_size

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

_PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared")


def parse_volume_flag(spec: str) -> tuple[str, str]:
    """``-v`` -> (source, target); source "" for an anonymous volume.
    Only the syntax is checked (the compose loader's ParseVolume).  One quirk
    is left out: the docker CLI reads a one-letter source as a Windows drive
    (``-v v:/d`` is then an anonymous volume at "v:/d"); stepbox knows no
    drives, and ``-v v:/d`` is the volume ``v``."""
    if not spec:
        raise InvalidConfig("invalid empty volume spec")
    if len(spec) <= 2:
        return "", spec
    source = target = ""
    buffer = ""
    for char in spec + "\0":
        if char in (":", "\0"):
            if not buffer:
                raise InvalidConfig(f"invalid spec: {spec}: empty section between colons")
            if not source and char == "\0":
                target = buffer
            elif not source:
                source = buffer
            elif not target:
                target = buffer
            elif char == ":":
                raise InvalidConfig(f"invalid spec: {spec}: too many colons")
            buffer = ""
        else:
            buffer += char
    return source, target


def binds_and_volumes(specs: list[str]) -> tuple[list[str], list[str]]:
    """The ``-v`` flags -> (``HostConfig.Binds``, ``Config.Volumes`` paths).
    Repeated flags count once, as in the docker CLI."""
    binds: list[str] = []
    volumes: list[str] = []
    for spec in dict.fromkeys(specs):
        source, target = parse_volume_flag(spec)
        if not source:
            volumes.append(target)
            continue
        host_part, _, rest = spec.partition(":")
        if source[0] in "./~" and host_part.startswith("."):  # a host path, relative: made absolute
            spec = f"{os.path.abspath(host_part)}:{rest}"
        binds.append(spec)
    return binds, volumes


def parse_mount_flag(value: str) -> dict[str, Any]:
    """``--mount type=bind,source=/srv,target=/srv,readonly`` -> a Mount object."""
    try:
        return _parse_mount_flag(value)
    except InvalidConfig as e:
        raise InvalidConfig(f'invalid argument "{value}" for "--mount" flag: {e}') from None


def _parse_mount_flag(value: str) -> dict[str, Any]:
    import csv  # here: only --mount needs it, and every run imports this module

    fields = next(csv.reader([value]), [])
    mount: dict[str, Any] = {"Type": "volume"}
    bind: dict[str, Any] = {}
    volume: dict[str, Any] = {}
    tmpfs: dict[str, Any] = {}
    given = set()

    def volume_options() -> dict[str, Any]:
        given.add("volume")
        volume.setdefault("Labels", {})
        volume.setdefault("DriverConfig", {})
        return volume

    for field in fields:
        key, sep, val = field.partition("=")
        key = key.lower()
        if not sep:
            if key in ("readonly", "ro"):
                mount["ReadOnly"] = True
            elif key == "volume-nocopy":
                volume_options()["NoCopy"] = True
            elif key == "bind-nonrecursive":
                given.add("bind")
                bind["NonRecursive"] = True
            else:
                raise InvalidConfig(f"invalid field '{field}' must be a key=value pair")
            continue
        if key == "type":
            mount["Type"] = val.lower()
        elif key in ("source", "src"):
            mount["Source"] = os.path.abspath(val) if not val.startswith("/") and val.startswith(".") else val
        elif key in ("target", "dst", "destination"):
            mount["Target"] = val
        elif key in ("readonly", "ro"):
            mount["ReadOnly"] = _parse_bool(key, val)
        elif key == "consistency":
            mount["Consistency"] = val.lower()
        elif key == "bind-propagation":
            given.add("bind")
            bind["Propagation"] = val.lower()
        elif key == "bind-nonrecursive":
            given.add("bind")
            bind["NonRecursive"] = _parse_bool(key, val)
        elif key == "bind-recursive":
            given.add("bind")
            if val == "disabled":
                bind["NonRecursive"] = True
            elif val == "writable":
                bind["ReadOnlyNonRecursive"] = True
            elif val == "readonly":
                bind["ReadOnlyForceRecursive"] = True
            elif val != "enabled":
                raise InvalidConfig(
                    f'invalid value for {key}: {val} (must be "enabled", "disabled", "writable", or "readonly")'
                )
        elif key == "volume-nocopy":
            try:
                volume_options()["NoCopy"] = _parse_bool(key, val)
            except InvalidConfig:
                raise InvalidConfig(f"invalid value for volume-nocopy: {val}") from None
        elif key == "volume-label":
            k, _, v = val.partition("=")
            if k:
                volume_options()["Labels"][k] = v
        elif key == "volume-driver":
            volume_options()["DriverConfig"]["Name"] = val
        elif key == "volume-opt":
            k, _, v = val.partition("=")
            options = volume_options()["DriverConfig"].setdefault("Options", {})
            if k:
                options[k] = v
        elif key == "tmpfs-size":
            given.add("tmpfs")
            try:
                size = parse_size(val, "--mount")
            except InvalidConfig:
                raise InvalidConfig(f"invalid value for {key}: {val}") from None
            tmpfs["SizeBytes"] = size
        elif key == "tmpfs-mode":
            given.add("tmpfs")
            try:
                tmpfs["Mode"] = int(val, 8)
            except ValueError:
                raise InvalidConfig(f"invalid value for {key}: {val}") from None
        else:
            raise InvalidConfig(f"unexpected key '{key}' in '{field}'")
    kind = mount["Type"]
    if not kind:
        raise InvalidConfig("type is required")
    if not mount.get("Target"):
        raise InvalidConfig("target is required")
    for what in ("volume", "bind", "tmpfs"):
        if what in given and kind != what:
            raise InvalidConfig(f"cannot mix '{what}-*' options with mount type '{kind}'")
    if bind.get("ReadOnlyNonRecursive") and not mount.get("ReadOnly"):
        raise InvalidConfig(
            "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"
        )
    if bind.get("ReadOnlyForceRecursive"):
        if not mount.get("ReadOnly"):
            raise InvalidConfig(
                "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction"
            )
        if bind.get("Propagation") != "rprivate":
            raise InvalidConfig(
                "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"
            )
    if "bind" in given:
        mount["BindOptions"] = bind
    if "volume" in given:
        if not volume.get("Labels"):
            volume.pop("Labels", None)
        if not volume.get("DriverConfig"):
            volume.pop("DriverConfig", None)
        mount["VolumeOptions"] = volume
    if "tmpfs" in given:
        mount["TmpfsOptions"] = tmpfs
    return mount


def _parse_bool(key: str, text: str) -> bool:
    """Go's strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise InvalidConfig(f"invalid value for {key}: {text}")


def tmpfs_map(specs: list[str]) -> dict[str, str]:
    """``--tmpfs /run:size=64m`` -> ``{"/run": "size=64m"}``."""
    tmpfs: dict[str, str] = {}
    for spec in specs:
        destination, _, options = spec.partition(":")
        tmpfs[destination] = options
    return tmpfs
