"""Opening an engine in this process: the backend's kernel, the stores, the Runtime.

Every program that runs containers assembles them here, the same way: the
daemon (``stepbox daemon``), ``stepbox step``, a notebook's lab, the tests
and the benchmarks.

State directory layout (``--root`` / ``STEPBOX_ROOT``)::

    images/                   the OCI image store, shared by both backends
    <backend>/containers/     container records and logs
    <backend>/networks/       network records (the daemon's; see core/network)
    <backend>/kernel/         what the backend keeps (layers, mounts, shims)
    <backend>/volumes/        volumes: NAME/_data (the data) and NAME/volume.json
    build-cache/              the builder's layer cache
    stepbox.sock, stepbox.pid the daemon's socket and locked pid file (not for the
                              default directory: see core/engine/locations.py)
    daemon.log                what a daemon started by the CLI says
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from stepbox.core.container.runtime import Runtime
from stepbox.core.container.store import ContainerStore
from stepbox.core.engine.locations import state_root
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import Kernel, Tracer
from stepbox.core.kernel.backend_lookup import explain_choice
from stepbox.core.network.manager import BridgeSettings, NetworkManager
from stepbox.core.network.store import NetworkStore
from stepbox.core.volumes.store import VolumeStore


@dataclass
class Session:
    root: str
    backend: str
    kernel: Kernel
    runtime: Runtime
    why: str = ""  # why this backend: what --backend asked for and what this host allows

    def close(self) -> None:
        """Let go of what the backend holds in this program (not the containers)."""
        self.kernel.close()


def open_session(
    backend: str = "auto",
    root: str | None = None,
    say: Callable[[str], None] = lambda message: None,
    *,
    trace: bool = True,
    records_in_memory: bool = False,
    kernel_in_memory: bool = False,
    network: BridgeSettings | None = None,
) -> Session:
    """An engine on ``backend`` ("auto", "sim" or "linux") over the state
    directory ``root`` (None: the default one).

    ``trace``: record every kernel operation (what ``stepbox step`` shows); a
    daemon does not: it would keep them all, for as long as it runs.
    ``records_in_memory``: container records live only in this program (a
    benchmark, a property test); ``kernel_in_memory``: so does the kernel's
    own state, for a backend that can keep it there (the simulator).
    ``network``: manage networks with these settings (the daemon and
    ``stepbox step`` do); without, containers get loopback only."""
    root = state_root(root)
    choice = explain_choice(backend)
    name, module = choice.name, choice.module
    kernel_dir = None if kernel_in_memory else os.path.join(root, name, "kernel")
    kernel = module.create_kernel(kernel_dir, Tracer(enabled=trace))
    images = ImageStore(os.path.join(root, "images"))
    containers = ContainerStore(None if records_in_memory else os.path.join(root, name, "containers"))
    networks = None
    if network is not None:
        store = NetworkStore(None if records_in_memory else os.path.join(root, name, "networks"))
        networks = NetworkManager(
            kernel.network,
            store,
            network,
            unwired_why=kernel.no_network_why,
            relay=kernel.port_relay,
            user_network=kernel.user_network,
        )
    # Volumes live beside the records that use them (in memory: a scratch directory).
    volumes = VolumeStore(
        None if records_in_memory else os.path.join(root, name, "volumes"), kernel.host_mounts
    )
    runtime = Runtime(
        kernel, images, containers, say=say, networks=networks, volumes=volumes, state_root=root
    )
    return Session(root, name, kernel, runtime, why=choice.why)


__all__ = ["Session", "open_session"]
