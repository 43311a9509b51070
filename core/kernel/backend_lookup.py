"""Finding a backend by name.

``core`` may not import ``backends`` (DESIGN.md), yet the CLI must offer
``--backend sim|linux|auto``.  Backends register themselves as entry points
in the ``stepbox.backends`` group (see pyproject.toml); a backend module
provides ``create_kernel(state_dir, tracer=None)`` and may provide
``unavailable_reason() -> str | None`` and ``describe() -> str`` (how it
would run containers here: as root, rootless ...).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from types import ModuleType

from .errors import BackendUnavailable

GROUP = "stepbox.backends"


def backend_names() -> list[str]:
    from importlib.metadata import entry_points

    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_backend(name: str) -> ModuleType:
    # stepbox's own backends first, from its own entry_points.txt: reading
    # the metadata of every installed distribution takes tens of milliseconds
    # in a venv with Jupyter, and importing importlib.metadata alone (email,
    # zipfile, pathlib ...) ~15 ms -- each stepbox-runc command would pay
    # both (issue 18).  Other packages' backends are found by the full scan.
    own = own_backends()
    if own is not None and name in own:
        return importlib.import_module(own[name])
    from importlib.metadata import PackageNotFoundError, distribution, entry_points

    if own is None:  # no dist-info of stepbox's on sys.path (an egg-info, say): ask importlib
        try:
            for ep in distribution("stepbox").entry_points.select(group=GROUP, name=name):
                return importlib.import_module(ep.value)
        except PackageNotFoundError:
            pass
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            return importlib.import_module(ep.value)
    raise BackendUnavailable(f"unknown backend {name!r}; choose one of: {', '.join(backend_names())}, auto")


def own_backends() -> dict[str, str] | None:
    """The ``stepbox.backends`` entry points of the first ``stepbox-*.dist-info``
    on sys.path (the distribution importlib.metadata would find), name ->
    module; None if there is none."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for dist_info in names:
            if dist_info.startswith("stepbox-") and dist_info.endswith(".dist-info"):
                return _entry_points(os.path.join(entry or ".", dist_info, "entry_points.txt"), GROUP)
    return None


def _entry_points(path: str, group: str) -> dict[str, str]:
    """One group of an entry_points.txt (an INI file: ``[group]``, then
    ``name = value`` lines), name -> value."""
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return found
    section = None
    for line in lines:
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def unavailable_reason(module: ModuleType) -> str | None:
    check = getattr(module, "unavailable_reason", None)
    return check() if check else None


def oci_runtime_unavailable(module: ModuleType) -> str | None:
    """Why this backend cannot run the OCI runtime's own plan (a backend
    module may say so with ``oci_runtime_unavailable()``); None: it can."""
    check = getattr(module, "oci_runtime_unavailable", None)
    return check() if check else None


@dataclass(frozen=True)
class BackendChoice:
    name: str
    module: ModuleType
    why: str  # one sentence: why this backend (what `stepbox info` shows)


def explain_choice(name: str) -> BackendChoice:
    """``auto`` = the real kernel on Linux when it can run containers here --
    as root, or rootless for a user without root (user namespaces,
    subordinate IDs) -- else the simulator.  The choice says why."""
    if name == "auto":
        if sys.platform == "linux":
            linux = load_backend("linux")
            reason = unavailable_reason(linux)
            if reason is None:
                return BackendChoice("linux", linux, f"auto chose the real kernel: {_describe(linux)}")
            why = f"auto chose the simulator: the real kernel cannot run containers here: {reason}"
        else:
            why = f"auto chose the simulator: the real kernel needs Linux (this is {sys.platform})"
        return BackendChoice("sim", load_backend("sim"), why)
    module = load_backend(name)
    reason = unavailable_reason(module)
    if reason:
        raise BackendUnavailable(f"the {name} backend cannot run here: {reason}")
    return BackendChoice(name, module, f"--backend {name}: {_describe(module)}")


def _describe(module: ModuleType) -> str:
    describe = getattr(module, "describe", None)
    return describe() if describe else module.__name__.rsplit(".", 1)[-1]


def choose_backend(name: str) -> tuple[str, ModuleType]:
    choice = explain_choice(name)
    return choice.name, choice.module
