"""Opening the engine for one CLI call: the state directory and the backend.

State directory layout (``--root`` / ``STEPBOX_ROOT``)::

    images/                   the OCI image store, shared by both backends
    <backend>/containers/     container records and logs
    <backend>/kernel/         what the backend keeps (layers, mounts, shims)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from stepbox.core.container.runtime import Runtime
from stepbox.core.container.store import ContainerStore
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import Kernel, Tracer
from stepbox.core.kernel.registry import choose_backend


def default_root() -> str:
    if os.environ.get("STEPBOX_ROOT"):
        return os.environ["STEPBOX_ROOT"]
    if sys.platform == "linux" and os.geteuid() == 0:
        return "/var/lib/stepbox"
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "stepbox")


@dataclass
class Session:
    root: str
    backend: str
    kernel: Kernel
    runtime: Runtime


def open_session(backend: str, root: str | None, say=lambda message: None) -> Session:
    root = os.path.abspath(root or default_root())
    name, module = choose_backend(backend)
    kernel = module.create_kernel(os.path.join(root, name, "kernel"), Tracer())
    images = ImageStore(os.path.join(root, "images"))
    containers = ContainerStore(os.path.join(root, name, "containers"))
    return Session(root, name, kernel, Runtime(kernel, images, containers, say=say))
