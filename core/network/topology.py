"""The topology the engine wired, read back from the kernel: one shape for both.

``Topology`` holds a ``NetnsView`` (interfaces, addresses, routes, listening
sockets) of the engine's own namespace, ``"host"``, and one of each running
container's, by name.  Either kernel produces it through the same
``core.kernel.Network.view``, so a notebook draws the same picture from the
simulator as from the real kernel, and the differential tests compare them.
"""

from __future__ import annotations

from collections.abc import Iterable

from stepbox.core.kernel.network import Network, Topology


def read_topology(network: Network, running: Iterable[tuple[str, int]]) -> Topology:
    """The views of the engine's namespace and of each ``(name, pid)``; a
    container that ended meanwhile is left out (its namespace is gone)."""
    spaces = {"host": network.view()}
    for name, pid in running:
        try:
            spaces[name] = network.view(pid)
        except (OSError, LookupError):
            continue
    return Topology(spaces)
