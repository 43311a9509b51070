"""What stepbox-runc remembers of a container between two of its commands.

Each command is a new process, so everything lives on disk under the
runtime's ``--root`` (default ``/run/stepbox-runc``), one directory per
container, as runc keeps ``/run/runc/ID``::

    ROOT/ID/state.json   this record (written atomically)
    ROOT/ID/exec.fifo    the start gate: exists while the container is created
    ROOT/.kernel/ID/     the linux backend's own state for it (the process's run dir)
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from stepbox.core.kernel.atomic import atomic_write_json

from .spec import OCI_VERSION

DEFAULT_ROOT = "/run/stepbox-runc"
# runc's rule for IDs (libcontainer/factory_linux.go validateID).
_ID = re.compile(r"^[\w+\-.]+$")

CREATING, CREATED, RUNNING, PAUSED, STOPPED = "creating", "created", "running", "paused", "stopped"


class ContainerNotFound(LookupError):
    pass


def check_id(container_id: str) -> str:
    if not _ID.match(container_id) or container_id in (".", ".."):
        raise ValueError(f"invalid container id format: {container_id}")
    return container_id


def rfc3339_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class RuntimeRecord:
    id: str
    bundle: str
    rootfs: str
    created: str
    annotations: dict[str, str] = field(default_factory=dict)
    pid: int = 0
    process: dict[str, Any] | None = None  # ProcessHandle.record(): finds the init again
    cgroup: str = ""  # the cgroupsPath, relative to each hierarchy's root
    owns_cgroup: bool = False  # we created it, so delete removes it
    hooks: dict[str, Any] = field(default_factory=dict)  # poststart/poststop, for later commands
    started: bool = False
    owner: str = ""


class RuntimeRoot:
    """The ``--root`` directory: one sub-directory per container."""

    def __init__(self, root: str = DEFAULT_ROOT):
        self.root = os.path.abspath(root)

    def dir(self, container_id: str) -> str:
        return os.path.join(self.root, check_id(container_id))

    def gate(self, container_id: str) -> str:
        return os.path.join(self.dir(container_id), "exec.fifo")

    def kernel_dir(self, container_id: str) -> str:
        return os.path.join(self.root, ".kernel", check_id(container_id))

    def make(self, container_id: str) -> str:
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        path = self.dir(container_id)
        try:
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise FileExistsError(f"container with id exists: {container_id}") from None
        return path

    def save(self, record: RuntimeRecord) -> None:
        # Atomic, not fsynced (runc's state.json is the same): the state lives
        # as long as the machine's processes, which a crash takes too; and a
        # create saves it at each step, an fsync each would cost milliseconds.
        atomic_write_json(os.path.join(self.dir(record.id), "state.json"), asdict(record), durable=False)

    def load(self, container_id: str) -> RuntimeRecord:
        try:
            with open(os.path.join(self.dir(container_id), "state.json")) as f:
                return RuntimeRecord(**json.load(f))
        except FileNotFoundError:
            raise ContainerNotFound("container does not exist") from None

    def ids(self) -> list[str]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if os.path.exists(os.path.join(self.root, n, "state.json")))

    def forget(self, container_id: str) -> None:
        shutil.rmtree(self.dir(container_id), ignore_errors=True)
        shutil.rmtree(self.kernel_dir(container_id), ignore_errors=True)


def state_json(record: RuntimeRecord, status: str) -> dict[str, Any]:
    """The runtime-spec's state, with the fields runc adds (rootfs, created, owner)."""
    return {
        "ociVersion": OCI_VERSION,
        "id": record.id,
        "pid": record.pid if status != STOPPED else 0,
        "status": status,
        "bundle": record.bundle,
        "rootfs": record.rootfs,
        "created": record.created,
        "owner": record.owner,
        **({"annotations": record.annotations} if record.annotations else {}),
    }
