"""Observable state, in one shape for every backend.

These plain records are what tests compare between the simulator and the real
kernel, what notebooks draw and what the CLI prints.  Keep them free of
anything only one backend can know.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProcessInfo:
    pid: int  # host PID
    ppid: int  # host PID of the parent
    ns_pid: int  # PID inside its own PID namespace
    argv: tuple[str, ...]
    state: str  # "R" running, "S" sleeping, "Z" zombie, "T" stopped/frozen
    namespaces: dict[str, int] = field(default_factory=dict, hash=False)  # kind -> inode
    cgroup: str = ""  # path as /proc/PID/cgroup's v2 line shows it
    # what ps -ef shows of it (docker top): the host's name for its user,
    # CPU seconds used (user + system), when it started (Unix time) and its
    # terminal ("pts/0", "" for none)
    user: str = "root"
    cpu_seconds: float = 0.0
    started: float = 0.0
    tty: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/PID/mounts."""

    source: str
    target: str
    fstype: str
    options: str

    def __str__(self) -> str:
        return f"{self.source} {self.target} {self.fstype} {self.options} 0 0"


@dataclass
class CgroupNode:
    path: str
    procs: list[int] = field(default_factory=list)
    children: list[CgroupNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
