"""``--cap-add`` / ``--cap-drop`` / ``--privileged``: the capability set a container keeps.

Docker starts from 14 capabilities (moby's ``oci/caps/defaults.go``) --
enough to chown files, bind low ports, kill and setuid inside the container,
not enough to mount filesystems, load modules or change the clock -- and
tweaks that set as moby's ``TweakCapabilities`` does: names with or without
``CAP_``, in any case; ``ALL`` on either side.
"""

from __future__ import annotations

from collections.abc import Iterable

from stepbox.core.kernel.capabilities import ALL_CAPABILITIES, CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES

ALL = "ALL"


class UnknownCapability(ValueError):
    pass


def normalize(names: Iterable[str], field: str = "CapAdd") -> list[str]:
    """Upper-case, ``CAP_`` prefixed names, or ``ALL``; Docker's wording for
    a name it does not know (``invalid CapAdd: unknown capability: "CAP_FOO"``)."""
    normalized = []
    for name in names:
        name = name.upper()
        if name != ALL and not name.startswith("CAP_"):
            name = "CAP_" + name
        if name != ALL and name not in ALL_CAPABILITIES:
            raise UnknownCapability(f'invalid {field}: unknown capability: "{name}"')
        normalized.append(name)
    return normalized


def container_capabilities(
    add: Iterable[str] = (),
    drop: Iterable[str] = (),
    privileged: bool = False,
    available: frozenset[str] = ALL_CAPABILITIES,
) -> frozenset[str]:
    """The bounding set of the container's processes.

    ``available`` is what "all" means on this host: every capability the
    kernel knows that the engine itself holds.  (dockerd 20.10 means a fixed
    list up to CAP_AUDIT_READ instead, and fails to start a ``--privileged``
    container on a host whose root lacks one of them; newer Docker, like
    stepbox, gives what the host has.)"""
    adds, drops = normalize(add, "CapAdd"), normalize(drop, "CapDrop")
    everything = frozenset(c for c in CAPABILITIES if c in available)
    if privileged:
        return everything
    if not adds and not drops:
        return DOCKER_DEFAULT_CAPABILITIES
    if ALL in adds:
        return everything - set(drops)
    if ALL in drops:
        return frozenset(adds)
    return (DOCKER_DEFAULT_CAPABILITIES - set(drops)) | set(adds)
