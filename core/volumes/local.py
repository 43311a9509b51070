"""The ``local`` driver's options: ``docker volume create -o KEY=VALUE``.

Without options a local volume is a plain directory.  With them, the driver
runs ``mount -t TYPE -o O DEVICE .../NAME/_data`` while a container uses the
volume (and unmounts it after the last one stops):

* ``-o type=tmpfs -o device=tmpfs -o o=size=100m`` -- a volume in memory,
  empty again at every first use;
* ``-o type=none -o o=bind -o device=/srv/data`` -- a host directory given
  a volume's name.

Docker checks only that the keys are known and come with their partners
(``type`` needs ``device``, ``o`` needs both); a wrong device or type is
found out when a container starts and the mount fails.
"""

from __future__ import annotations

from .errors import InvalidVolume

VALID_OPTIONS = ("type", "o", "device", "size")
# An option that is given requires these (moby volume/local: mandatoryOpts).
REQUIRED_WITH = {"device": ("type",), "type": ("device",), "o": ("device", "type")}


def check_options(name: str, options: dict[str, str]) -> dict[str, str]:
    for key in options:
        if key not in VALID_OPTIONS:
            raise InvalidVolume("create", name, f'invalid option: "{key}"')
    for key in sorted(REQUIRED_WITH):  # Go ranges a map at random; one error is as good as another
        if key in options:
            for needed in REQUIRED_WITH[key]:
                if needed not in options:
                    raise InvalidVolume("create", name, f'missing required option: "{needed}"')
    if "size" in options:
        # A quota needs xfs project quotas under the volumes directory,
        # which neither backend has -- refused by name, as dockerd does
        # where it has no quota support.
        raise InvalidVolume("create", name, "quota size requested but no quota support")
    return dict(options)


def needs_mount(options: dict[str, str]) -> bool:
    return bool(options.get("type") or options.get("device"))


def mount_args(options: dict[str, str]) -> tuple[str, str, str]:
    """(source, fstype, options) of the host mount for these options."""
    return options.get("device", ""), options.get("type", ""), options.get("o", "")
