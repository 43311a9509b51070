"""A user-mode network: a way out for a container's network namespace without root.

Without root there is no bridge, no veth and no NAT rule on the host.  A
*user-mode* network stack does the job instead, in an ordinary process:
slirp4netns (what podman runs per container, and rootlesskit once per
rootless dockerd) opens a TAP device inside the container's namespace, reads
the Ethernet frames the container sends to it, and replays each TCP
connection or UDP datagram with ordinary sockets of its own on the host.
Inside, the container sees a tiny LAN that exists only in that process:

* ``tap0`` with ``10.0.2.100/24`` and a default route through ``10.0.2.2``;
* ``10.0.2.3``: a DNS forwarder to the host's nameservers;
* ``10.0.2.2``: the host itself -- its loopback (``127.0.0.1``) when host
  loopback is allowed (podman's ``allow_host_loopback=true``), nothing when
  it is not (rootless Docker's default, ``--disable-host-loopback``).

A backend that has one sets ``Kernel.user_network``; it is started as a step
of the container's start and stopped when the container exits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UserNetworkSettings:
    """What the container sees of a user-mode network (slirp4netns's defaults)."""

    tool: str = "slirp4netns"  # the program, and the name inspect shows for the network
    interface: str = "tap0"
    address: str = "10.0.2.100"
    prefix_len: int = 24
    gateway: str = "10.0.2.2"  # the host (its loopback, if allowed)
    dns: str = "10.0.2.3"  # forwards to the host's nameservers
    mtu: int = 65520  # rootless Docker's and podman's choice: fewer, larger frames to copy
    host_loopback: bool = False  # may the container reach the host's 127.0.0.1 at the gateway?


class UserNetwork(ABC):
    """Attaches a user-mode network to a process's network namespace."""

    settings: UserNetworkSettings

    @abstractmethod
    def attach(self, pid: int) -> dict[str, Any]:
        """Start the user-mode stack for ``pid``'s network namespace and wait
        until its interface is configured; returns what :meth:`detach` needs
        (plain data, kept in the container's record: the daemon may restart
        in between).  Raises OSError saying why when it cannot."""

    @abstractmethod
    def detach(self, handle: dict[str, Any]) -> None:
        """Stop the stack ``attach`` started (and reap it, if this program
        started it); nothing if it has gone already."""

    @abstractmethod
    def describe(self) -> str:
        """One line for ``stepbox info``: what the rootless network is."""
