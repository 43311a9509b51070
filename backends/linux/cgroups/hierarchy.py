"""One mounted cgroup hierarchy: a directory tree where mkdir creates a group.

Both versions share the tree operations -- create (mkdir), remove (rmdir),
move a process in (write its PID to ``cgroup.procs``), list the processes --
and differ in the controller files, which live in :mod:`.v1` and :mod:`.v2`.

``base`` is where stepbox's part of the tree starts inside the hierarchy
("" for the hierarchy's root, as Docker's ``/sys/fs/cgroup/memory/docker``).
"""

from __future__ import annotations

import os

from .fsio import CgroupIO


class Hierarchy:
    version: int = 0

    def __init__(self, mountpoint: str, base: str, io: CgroupIO, name: str = ""):
        self.mountpoint = mountpoint.rstrip("/") or "/"
        self.base = base.strip("/")
        self.io = io
        self.name = name or os.path.basename(self.mountpoint)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.mountpoint} base={self.base!r}>"

    def dir(self, path: str = "") -> str:
        parts = [self.mountpoint] + [p for p in (self.base, path.strip("/")) if p]
        return "/".join(parts).replace("//", "/")

    def exists(self, path: str) -> bool:
        return os.path.isdir(self.dir(path))

    def create(self, path: str) -> None:
        """mkdir every missing level, top-down (like ``mkdir -p``)."""
        rel = "/".join(p for p in (self.base, path.strip("/")) if p)
        current = self.mountpoint
        for part in rel.split("/"):
            parent = current
            current = f"{current}/{part}"
            if not os.path.isdir(current):
                self.before_mkdir(parent)
                self.io.mkdir(current)

    def before_mkdir(self, parent: str) -> None:
        """Hook: v2 must enable controllers in the parent first."""

    def remove(self, path: str) -> None:
        """rmdir the group and any groups below it, deepest first."""
        top = self.dir(path)
        if not os.path.isdir(top):
            return
        for sub in sorted(self._subdirs(top), key=lambda p: -p.count("/")):
            self.io.rmdir(sub)
        self.io.rmdir(top)

    def add(self, path: str, pid: int) -> None:
        self.io.write(f"{self.dir(path)}/cgroup.procs", str(pid))

    def procs_file(self, path: str) -> str:
        return f"{self.dir(path)}/cgroup.procs"

    def procs(self, path: str) -> list[int]:
        try:
            text = self.io.read(self.procs_file(path))
        except FileNotFoundError:
            return []
        return sorted(int(x) for x in text.split())

    def walk(self, prefix: str) -> list[str]:
        """Every group below ``base/prefix`` (including it), as paths
        relative to ``base``."""
        top = self.dir(prefix)
        if not os.path.isdir(top):
            return []
        root = self.dir()
        found = [top] + self._subdirs(top)
        return sorted(os.path.relpath(p, root) for p in found)

    @staticmethod
    def _subdirs(top: str) -> list[str]:
        result: list[str] = []
        for dirpath, dirnames, _ in os.walk(top):
            result.extend(f"{dirpath}/{d}" for d in dirnames)
        return result
