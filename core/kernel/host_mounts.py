"""Mounts on the host's side, for volumes and bind mounts.

The seed's ``VOLUME /data`` is data that outlives a container: it lives in a
directory of the host (``/var/lib/docker/volumes/NAME/_data``), not in the
container's layer stack, and the container sees it through a bind mount.
Most of that happens inside the container (:meth:`ProcessHandle.mount` with
a :class:`~.processes.MountSpec`); what happens *on the host* is here:

* Docker's ``local`` volume driver with options (``volume create -o
  type=tmpfs -o device=tmpfs``) mounts a filesystem over the volume's data
  directory while a container uses it -- :meth:`HostMounts.mount` /
  :meth:`HostMounts.unmount`;
* ``docker cp`` and the copy of an image's content into a new volume read
  and write host directories -- :meth:`HostMounts.files`, confined to the
  directory (a symlink in a volume must not lead out of it);
* bind propagation (``rshared``, ``rslave``) needs the host mount that holds
  the source to propagate itself -- :meth:`HostMounts.propagation`;
* ``-v /src:/dst:ro`` is read-only for the whole subtree (``rro``) only
  where the kernel has ``mount_setattr(2)`` -- :attr:`HostMounts.recursive_readonly`.

On the real kernel the host is the machine.  The simulator's host is a
machine in memory, but the directories named here are real: a simulated
container that bind-mounts ``/home/me/data`` reads and writes the real
files (and nothing outside them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from .unionfs import FileOps


class HostMounts(ABC):
    @abstractmethod
    def mount(self, source: str, target: str, fstype: str, options: str) -> None:
        """``mount -t fstype -o options source target`` on the host
        (``fstype`` "none" with ``options`` "bind" is a bind mount); the
        target must exist.  OSError with the kernel's errno on failure."""

    @abstractmethod
    def unmount(self, target: str) -> None:
        """Unmount ``target``; not an error if nothing is mounted there."""

    @abstractmethod
    def is_mounted(self, target: str) -> bool:
        """Is ``target`` a mount point made by :meth:`mount`?"""

    @abstractmethod
    def files(self, path: str) -> FileOps:
        """File operations on the host directory ``path``, with paths
        absolute inside it; a symlink never leads out of it."""

    @abstractmethod
    def propagation(self, path: str) -> tuple[str, str]:
        """(mount point, ``shared``, ``slave`` or ``private``): the host
        mount that holds ``path`` and how it propagates (Docker refuses an
        ``rshared`` bind of a path on a private mount)."""

    @property
    @abstractmethod
    def recursive_readonly(self) -> bool:
        """Can a bind mount be made read-only with all its submounts?"""
