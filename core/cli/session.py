"""Opening the engine in this process: the state directory and the backend.

What the daemon does at start-up (``stepbox daemon``), and what the verbs
that run in-process (``stepbox step``) do for themselves.

State directory layout (``--root`` / ``STEPBOX_ROOT``)::

    images/                   the OCI image store, shared by both backends
    <backend>/containers/     container records and logs
    <backend>/kernel/         what the backend keeps (layers, mounts, shims)
    build-cache/              the builder's layer cache
    stepbox.sock, stepbox.pid the daemon's socket and locked pid file (not for the
                              default directory: see core/engine/locations.py)
    daemon.log                what a daemon started by the CLI says
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stepbox.core.container.runtime import Runtime
from stepbox.core.container.store import ContainerStore
from stepbox.core.engine.locations import state_root
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import Kernel, Tracer
from stepbox.core.kernel.backend_lookup import choose_backend


@dataclass
class Session:
    root: str
    backend: str
    kernel: Kernel
    runtime: Runtime


def open_session(backend: str, root: str | None, say=lambda message: None, trace: bool = True) -> Session:
    """``trace``: record every kernel operation (what ``stepbox step`` shows).
    A daemon does not: it would keep them all, for as long as it runs."""
    root = state_root(root)
    name, module = choose_backend(backend)
    kernel = module.create_kernel(os.path.join(root, name, "kernel"), Tracer(enabled=trace))
    images = ImageStore(os.path.join(root, "images"))
    containers = ContainerStore(os.path.join(root, name, "containers"))
    return Session(root, name, kernel, Runtime(kernel, images, containers, say=say))
