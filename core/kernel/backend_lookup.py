"""Finding a backend by name.

``core`` may not import ``backends`` (DESIGN.md), yet the CLI must offer
``--backend sim|linux|auto``.  Backends register themselves as entry points
in the ``stepbox.backends`` group (see pyproject.toml); a backend module
provides ``create_kernel(state_dir, tracer=None)`` and may provide
``unavailable_reason() -> str | None``.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import entry_points
from types import ModuleType

from .errors import BackendUnavailable

GROUP = "stepbox.backends"


def backend_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_backend(name: str) -> ModuleType:
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            return importlib.import_module(ep.value)
    raise BackendUnavailable(f"unknown backend {name!r}; choose one of: {', '.join(backend_names())}, auto")


def unavailable_reason(module: ModuleType) -> str | None:
    check = getattr(module, "unavailable_reason", None)
    return check() if check else None


def choose_backend(name: str) -> tuple[str, ModuleType]:
    """``auto`` = the real kernel when root on Linux, else the simulator."""
    if name == "auto":
        if sys.platform == "linux" and os.geteuid() == 0:
            linux = load_backend("linux")
            if unavailable_reason(linux) is None:
                return "linux", linux
        return "sim", load_backend("sim")
    module = load_backend(name)
    reason = unavailable_reason(module)
    if reason:
        raise BackendUnavailable(f"the {name} backend cannot run here: {reason}")
    return name, module


def why_chosen(name: str, chosen: str) -> str:
    """In words, why ``--backend name`` runs containers on ``chosen`` (``docker info`` shows it)."""
    if name != "auto":
        return f"--backend {name} (or STEPBOX_BACKEND) asked for it"
    if sys.platform != "linux":
        return f"auto: this is {sys.platform}, not Linux, so the simulated kernel"
    if os.geteuid() != 0:
        return f"auto: not root (uid {os.geteuid()}), so the simulated kernel"
    if chosen == "linux":
        return "auto: root on Linux, so the real kernel"
    reason = unavailable_reason(load_backend("linux"))
    return f"auto: root on Linux, but the real kernel cannot run containers here ({reason}), so the simulated kernel"
