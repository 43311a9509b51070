"""From ``-v``, ``--mount``, ``--tmpfs`` and ``--volumes-from`` to mount points.

A container's filesystem is its layer stack -- plus whatever is mounted on
top of it.  Docker has three kinds of such mounts:

* a **bind mount** shows a directory (or file) of the host: ``-v
  /srv/data:/data``, ``--mount type=bind,source=/srv/data,target=/data``;
* a **volume** is a directory Docker manages for you (``volumes/NAME/_data``),
  bind-mounted the same way: ``-v name:/data``; ``-v /data`` and an image's
  ``VOLUME /data`` make an *anonymous* volume with a random name;
* a **tmpfs** lives in memory and is gone when the container stops:
  ``--tmpfs /run``.

None of them is a layer, so nothing written there shows in ``docker diff``
or lands in ``docker commit``.

This module reads the requests the way dockerd does (moby
``volume/mounts/linux_parser.go``, ``daemon/volumes.go``), with its error
messages, and turns them into :class:`MountPoint` records -- before any
volume is created, so bad input leaves nothing behind.  ``Binds`` strings
are ``[SOURCE:]DESTINATION[:MODE]``; a SOURCE starting with ``/`` is a host
path, anything else a volume name.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any

from .flags import InvalidConfig

BIND, VOLUME, TMPFS = "bind", "volume", "tmpfs"
PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared")
DEFAULT_PROPAGATION = "rprivate"
_RW_MODES = ("rw", "ro")
_LABEL_MODES = ("z", "Z")
_COPY_MODES = ("nocopy",)
_CONSISTENCY = ("consistent", "cached", "delegated")
# --tmpfs options that are mount flags (moby's mount.flags); the rest must be key=value data.
TMPFS_FLAGS = {
    "ro": "ro",
    "rw": "ro",
    "suid": "nosuid",
    "nosuid": "nosuid",
    "dev": "nodev",
    "nodev": "nodev",
    "exec": "noexec",
    "noexec": "noexec",
    "sync": "sync",
    "async": "sync",
    "dirsync": "dirsync",
    "mand": "mand",
    "nomand": "mand",
    "atime": "noatime",
    "noatime": "noatime",
    "diratime": "nodiratime",
    "nodiratime": "nodiratime",
    "relatime": "relatime",
    "norelatime": "relatime",
    "strictatime": "strictatime",
    "nostrictatime": "strictatime",
    **{p: "propagation" for p in (*PROPAGATIONS, "bind", "rbind", "unbindable", "runbindable")},
}
TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")


@dataclass
class MountPoint:
    """One mount of a container, as its record keeps it (moby's MountPoint)."""

    type: str  # "bind", "volume" or "tmpfs"
    destination: str  # inside the container, cleaned
    source: str = ""  # bind: the host path; volume: its data directory once known
    name: str = ""  # volume: its name ("" until an anonymous one is made)
    driver: str = ""
    rw: bool = True
    mode: str = ""  # as the user wrote it: "ro", "z", "rw,rshared" ...
    propagation: str = ""  # binds: "rprivate" unless asked
    copy_data: bool = False  # fill a new, empty volume from the image
    anonymous: bool = False
    create_source: bool = False  # -v: a missing host path is made; --mount: refused
    # An anonymous volume asked for with a relative path (``-v x``): Docker
    # mounts it at /x, resolved inside the root, and shows "x" in inspect.
    destination_as_asked: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # the Mount object asked for (HostConfig.Mounts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MountPoint:
        return cls(**data)

    @property
    def non_recursive(self) -> bool:
        return bool((self.spec.get("BindOptions") or {}).get("NonRecursive"))

    @property
    def read_only_non_recursive(self) -> bool:
        return bool((self.spec.get("BindOptions") or {}).get("ReadOnlyNonRecursive"))

    @property
    def read_only_force_recursive(self) -> bool:
        return bool((self.spec.get("BindOptions") or {}).get("ReadOnlyForceRecursive"))

    def holds(self, path: str) -> bool:
        """Is the container path ``path`` at or below this mount point?"""
        return path == self.destination or path.startswith(self.destination.rstrip("/") + "/")


def clean(path: str) -> str:
    """Go's path.Clean: no trailing "/", no "." or ".." left, one leading "/"
    (POSIX lets normpath keep two)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


# -- checks of one path -------------------------------------------------------------------


def _check_not_root(path: str) -> None:
    if clean(path.replace("\\", "/")) == "/":
        raise InvalidConfig("invalid specification: destination can't be '/'")


def _check_absolute(path: str) -> None:
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        raise InvalidConfig(f"invalid mount path: '{path}' mount path must be absolute")


def check_tmpfs_destination(path: str) -> None:
    _check_not_root(path)
    _check_absolute(path)


# -- Binds: "[source:]destination[:mode]" -------------------------------------------------


def _valid_mode(mode: str) -> bool:
    if not mode:
        return True
    counts = {"rw": 0, "label": 0, "propagation": 0, "copy": 0, "consistency": 0}
    for option in mode.split(","):
        if option in _RW_MODES:
            counts["rw"] += 1
        elif option in _LABEL_MODES:
            counts["label"] += 1
        elif option in PROPAGATIONS:
            counts["propagation"] += 1
        elif option in _COPY_MODES:
            counts["copy"] += 1
        elif option in _CONSISTENCY:
            counts["consistency"] += 1
        else:
            return False
    return all(n <= 1 for n in counts.values())


def _read_write(mode: str) -> bool:
    return _valid_mode(mode) and "ro" not in mode.split(",")


def _propagation_in(mode: str) -> str:
    return next((o for o in mode.split(",") if o in PROPAGATIONS), "")


def parse_bind(raw: str, volume_driver: str = "") -> MountPoint:
    """One ``Binds`` entry (``-v``), as moby's ParseMountRaw."""
    invalid = f"invalid volume specification: '{raw}'"
    if raw.count(":") > 2:
        raise InvalidConfig(invalid)
    parts = raw.split(":", 2)
    if not parts[0]:
        raise InvalidConfig(invalid)
    source, mode = "", ""
    if len(parts) == 1:
        target = parts[0]
    elif len(parts) == 2:
        if _valid_mode(parts[1]):
            raise InvalidConfig(invalid)  # "/foo:rw": a destination cannot have a mode
        source, target = parts
    else:
        source, target, mode = parts
    if not _valid_mode(mode):
        raise InvalidConfig(f"invalid mode: {mode}")
    kind = BIND if source.startswith("/") else VOLUME
    spec: dict[str, Any] = {
        "Type": kind,
        "Source": source,
        "Target": target,
        "ReadOnly": not _read_write(mode),
    }
    if not spec["ReadOnly"]:
        del spec["ReadOnly"]
    nocopy = "nocopy" in mode.split(",")
    if kind == VOLUME and volume_driver:
        spec["VolumeOptions"] = {"DriverConfig": {"Name": volume_driver}}
    if nocopy:
        spec.setdefault("VolumeOptions", {})["NoCopy"] = True
    propagation = _propagation_in(mode)
    if propagation:
        spec["BindOptions"] = {"Propagation": propagation}
    try:
        point = _from_spec(spec, check_source_exists=False)
    except InvalidConfig as e:
        raise InvalidConfig(f"{invalid}: {e}") from None
    point.mode = mode
    point.create_source = kind == BIND
    return point


# -- Mounts: the API's Mount objects (--mount) ----------------------------------------------


def parse_mount(spec: dict[str, Any]) -> MountPoint:
    """One ``HostConfig.Mounts`` entry, as moby's ParseMountSpec (a bind's
    source must exist: ``--mount`` never makes it)."""
    return _from_spec(dict(spec), check_source_exists=True)


def _mount_error(kind: str, message: str) -> InvalidConfig:
    return InvalidConfig(f'invalid mount config for type "{kind}": {message}')


def _from_spec(spec: dict[str, Any], check_source_exists: bool) -> MountPoint:
    kind = spec.get("Type") or ""
    target = spec.get("Target") or ""
    source = spec.get("Source") or ""
    read_only = bool(spec.get("ReadOnly"))
    if not target:
        raise _mount_error(kind, "field Target must not be empty")
    for check in (_check_not_root, _check_absolute):
        try:
            check(target)
        except InvalidConfig as e:
            raise _mount_error(kind, str(e)) from None
    bind_options = spec.get("BindOptions")
    volume_options = spec.get("VolumeOptions")
    tmpfs_options = spec.get("TmpfsOptions")
    point = MountPoint(type=kind, destination=clean(target), rw=not read_only, spec=spec)
    if kind == BIND:
        if not source:
            raise _mount_error(kind, "field Source must not be empty")
        propagation = (bind_options or {}).get("Propagation") or ""
        if propagation and propagation not in PROPAGATIONS:
            raise _mount_error(kind, f"invalid propagation mode: {propagation}")
        if volume_options is not None:
            raise _mount_error(kind, "field VolumeOptions must not be specified")
        try:
            _check_absolute(source)
        except InvalidConfig as e:
            raise _mount_error(kind, str(e)) from None
        if check_source_exists and not os.path.lexists(source):
            raise _mount_error(kind, f"bind source path does not exist: {source}")
        point.source = clean(source)
        point.propagation = propagation or DEFAULT_PROPAGATION
    elif kind == VOLUME:
        if bind_options is not None:
            raise _mount_error(kind, "field BindOptions must not be specified")
        if not source and read_only:
            raise _mount_error(kind, "must not set ReadOnly mode when using anonymous volumes")
        point.name = source
        point.anonymous = not source
        point.copy_data = not (volume_options or {}).get("NoCopy")
        point.driver = ((volume_options or {}).get("DriverConfig") or {}).get("Name") or ""
    elif kind == TMPFS:
        if bind_options is not None:
            raise _mount_error(kind, "field BindOptions must not be specified")
        if source:
            raise _mount_error(kind, "field Source must not be specified")
        tmpfs_data(tmpfs_options, read_only)  # checks the values
    else:
        raise _mount_error(kind, "mount type unknown")
    return point


def tmpfs_data(options: dict[str, Any] | None, read_only: bool) -> str:
    """A tmpfs Mount's options as mount data (moby's ConvertTmpfsOptions):
    ``TmpfsOptions{SizeBytes: 1048576, Mode: 0o700}`` -> "size=1m,mode=700"."""
    options = options or {}
    words = ["ro"] if read_only else []
    mode = options.get("Mode") or 0
    if not isinstance(mode, int) or mode < 0:
        raise _mount_error(TMPFS, f"invalid tmpfs mode: {mode!r}")
    if mode:
        words.append(f"mode={mode:o}")
    size = options.get("SizeBytes") or 0
    if not isinstance(size, int) or size < 0:
        raise _mount_error(TMPFS, f"invalid tmpfs size: {size!r}")
    if size:
        for suffix, divisor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
            if size % divisor == 0:
                words.append(f"size={size // divisor}{suffix}")
                break
        else:
            words.append(f"size={size}")
    return ",".join(words)


def merge_tmpfs_options(options: list[str]) -> list[str]:
    """moby's MergeTmpfsOptions: the last of each flag (one propagation) and
    of each key=value wins; an unknown word is refused."""
    flags_seen: set[str] = set()
    data_seen: set[str] = set()
    merged: list[str] = []
    for option in reversed(options):
        if option == "defaults":
            continue
        if option in TMPFS_FLAGS:
            key = TMPFS_FLAGS[option]
            if key not in flags_seen:
                merged.insert(0, option)
                flags_seen.add(key)
            continue
        key, sep, _value = option.partition("=")
        if not sep or key not in TMPFS_DATA:
            parts = [key, _value] if sep else [option]
            raise InvalidConfig("invalid tmpfs option [" + " ".join(f'"{p}"' for p in parts) + "]")
        if key not in data_seen:
            merged.insert(0, option)
            data_seen.add(key)
    return merged


# -- VolumesFrom: "container[:ro|rw]" ------------------------------------------------------


def parse_volumes_from(spec: str) -> tuple[str, str]:
    if not spec:
        raise InvalidConfig("volumes-from specification cannot be an empty string")
    container, sep, mode = spec.partition(":")
    if not sep:
        return container, "rw"
    if not _valid_mode(mode) or _propagation_in(mode) or "nocopy" in mode.split(","):
        raise InvalidConfig(f"invalid mode: {mode}")
    return container, mode


def read_write(mode: str) -> bool:
    return _read_write(mode)


def duplicate(destination: str) -> InvalidConfig:
    return InvalidConfig(f"Duplicate mount point: {destination}")
