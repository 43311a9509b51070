"""The devices of a container: Docker's allowlist, its /dev nodes, ``--device``.

Every container gets a fresh ``/dev`` (a tmpfs) with six device files made by
mknod -- null, zero, full, random, urandom, tty -- never the host's own
nodes bind-mounted (a ``chmod`` of a bind-mounted ``/dev/full`` would change
the host's).  The device cgroup then allows just those, plus the terminal
devices, and ``mknod`` of anything (but not opening what was made).

The rules are the concatenation Docker 20.10 + runc 1.1 produce (moby's
``oci/defaults.go``, then runc's ``specconv.AllowedDevices``), in that order,
so the list the kernel shows is the one ``docker run`` gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stepbox.core.kernel.devices import WILDCARD, DeviceNode, DeviceRule


def _char(major: int, minor: int, access: str = "rwm", allow: bool = True) -> DeviceRule:
    return DeviceRule(allow, "c", major, minor, access)


# moby oci/defaults.go: deny all, then these.
DOCKER_DEVICE_RULES: tuple[DeviceRule, ...] = (
    DeviceRule(False),  # "a *:* rwm" denied: start from nothing
    _char(1, 5),  # /dev/zero
    _char(1, 3),  # /dev/null
    _char(1, 9),  # /dev/urandom
    _char(1, 8),  # /dev/random
    _char(5, 0),  # /dev/tty
    _char(5, 1),  # /dev/console
    _char(10, 229, allow=False),  # /dev/fuse
)
# runc specconv.AllowedDevices, appended after the spec's rules.
RUNC_DEVICE_RULES: tuple[DeviceRule, ...] = (
    DeviceRule(True, "c", WILDCARD, WILDCARD, "m"),  # mknod of any char device ...
    DeviceRule(True, "b", WILDCARD, WILDCARD, "m"),  # ... and block device (opening it is another matter)
    _char(1, 3),  # /dev/null
    _char(1, 8),  # /dev/random
    _char(1, 7),  # /dev/full
    _char(5, 0),  # /dev/tty
    _char(1, 5),  # /dev/zero
    _char(1, 9),  # /dev/urandom
    _char(136, WILDCARD),  # /dev/pts/*
    _char(5, 2),  # /dev/ptmx
    _char(10, 200),  # /dev/net/tun
)
DEFAULT_DEVICE_RULES = DOCKER_DEVICE_RULES + RUNC_DEVICE_RULES
ALLOW_ALL = (DeviceRule(True),)  # --privileged

# The nodes runc makes in every container's /dev (its AllowedDevices with a path).
DEFAULT_DEVICE_NODES: tuple[DeviceNode, ...] = (
    DeviceNode("/dev/null", "c", 1, 3),
    DeviceNode("/dev/random", "c", 1, 8),
    DeviceNode("/dev/full", "c", 1, 7),
    DeviceNode("/dev/tty", "c", 5, 0),
    DeviceNode("/dev/zero", "c", 1, 5),
    DeviceNode("/dev/urandom", "c", 1, 9),
)
# And the symlinks of runc's setupDevSymlinks (/dev/core only where /proc/kcore exists).
DEV_SYMLINKS: tuple[tuple[str, str], ...] = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),
)


class InvalidDevice(ValueError):
    pass


@dataclass(frozen=True)
class DeviceMapping:
    """``--device HOST[:CONTAINER][:PERMISSIONS]`` (the API's ``HostConfig.Devices`` entry)."""

    path_on_host: str
    path_in_container: str
    cgroup_permissions: str = "rwm"

    def to_api(self) -> dict:
        return {
            "PathOnHost": self.path_on_host,
            "PathInContainer": self.path_in_container,
            "CgroupPermissions": self.cgroup_permissions,
        }


def _valid_permissions(text: str) -> bool:
    return bool(text) and len(text) <= 3 and not set(text) - set("rwm") and len(set(text)) == len(text)


def parse_device(spec: str) -> DeviceMapping:
    """The docker CLI's ``--device`` syntax (``opts.ParseDevice``)."""
    parts = spec.split(":")
    src, dst, perms = "", "", "rwm"
    if len(parts) == 3:
        if not _valid_permissions(parts[2]):
            raise InvalidDevice(f"bad mode specified: {parts[2]}")
        src, dst, perms = parts
    elif len(parts) == 2:
        if _valid_permissions(parts[1]):
            src, perms = parts
        else:
            src, dst = parts
    elif len(parts) == 1:
        src = parts[0]
    else:
        raise InvalidDevice(f"invalid device specification: {spec}")
    if not src:
        raise InvalidDevice(f"invalid device specification: {spec}")
    if not dst:
        dst = src
    if not dst.startswith("/"):
        raise InvalidDevice(
            f"invalid device specification: {spec}: the path in the container must be absolute"
        )
    return DeviceMapping(src, dst, perms)


def device_mapping_from_api(entry) -> DeviceMapping:
    if not isinstance(entry, dict):
        raise InvalidDevice("invalid value for HostConfig.Devices: each entry must be an object")
    host = entry.get("PathOnHost")
    if not isinstance(host, str) or not host:
        raise InvalidDevice("invalid value for HostConfig.Devices: PathOnHost is required")
    inside = entry.get("PathInContainer") or host
    perms = entry.get("CgroupPermissions") or "rwm"
    if not isinstance(inside, str) or not inside.startswith("/"):
        raise InvalidDevice(
            f"invalid value for HostConfig.Devices: PathInContainer {inside!r} must be absolute"
        )
    if not isinstance(perms, str) or not _valid_permissions(perms):
        raise InvalidDevice(
            f"invalid value for HostConfig.Devices: CgroupPermissions {perms!r} (some of r, w, m)"
        )
    return DeviceMapping(host, inside, perms)


_CGROUP_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")


def parse_cgroup_rule(text: str) -> DeviceRule:
    """``--device-cgroup-rule 'c 42:* rmw'`` (moby's AppendDevicePermissionsFromCgroupRules)."""
    match = _CGROUP_RULE.match(text)
    if not match:
        raise InvalidDevice(f"invalid device cgroup rule format: '{text}'")
    kind, major, minor, access = match.groups()

    def number(part: str) -> int:
        return WILDCARD if part == "*" else int(part)

    try:
        return DeviceRule(True, kind, number(major), number(minor), access)
    except ValueError:
        raise InvalidDevice(f"invalid device cgroup rule format: '{text}'") from None
