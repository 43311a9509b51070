"""``stepbox-runc features``: what this runtime honours (runtime-spec features.md).

The lists say only what stepbox-runc does; everything else in a config is
refused by name (``spec.py``)."""

from __future__ import annotations

from typing import Any

from .spec import (
    DEFAULT_MOUNT_OPTIONS,
    MOUNT_FLAGS,
    NAMESPACE_KINDS,
    OCI_VERSION,
    PROPAGATION,
    SUPPORTED_HOOKS,
)


def features() -> dict[str, Any]:
    from stepbox.core.kernel.capabilities import CAPABILITIES

    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": list(SUPPORTED_HOOKS),
        "mountOptions": sorted(DEFAULT_MOUNT_OPTIONS | MOUNT_FLAGS | PROPAGATION),
        "linux": {
            "namespaces": sorted(NAMESPACE_KINDS),
            "capabilities": list(CAPABILITIES),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False},
            "seccomp": {"enabled": True},
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
        },
        "annotations": {"org.opencontainers.runtime.implementation": "stepbox-runc"},
    }
