"""What the steps of one OCI container's plan share: :class:`OciContext`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from stepbox.core.container.steps import StepContext, UndoChain
from stepbox.core.kernel import Kernel, ProcessHandle, Tracer

from .spec import BundleSpec
from .state import RuntimeRecord, RuntimeRoot


@dataclass
class OciContext(StepContext):
    """The kernel, the runtime's root directory, the container's record and
    (for create) its bundle's config; the process handle once there is one."""

    kernel: Kernel
    root: RuntimeRoot
    record: RuntimeRecord
    spec: BundleSpec | None = None
    handle: ProcessHandle | None = None
    signal: int = 15  # for the kill phase
    kill_all: bool = False
    no_pivot: bool = False  # create --no-pivot: move the root and chroot instead
    console_socket: str = ""  # create --console-socket: where the pty's master goes
    preserve_fds: int = 0  # create --preserve-fds: the caller's fds 3.. the process keeps
    undo: UndoChain = field(default_factory=UndoChain)

    @property
    def tracer(self) -> Tracer:
        return self.kernel.tracer

    def save(self) -> None:
        if os.path.isdir(self.root.dir(self.record.id)):
            self.root.save(self.record)

    def need_spec(self) -> BundleSpec:
        assert self.spec is not None, "create reads the bundle first"
        return self.spec

    def need_handle(self) -> ProcessHandle:
        assert self.handle is not None, "spawn runs first"
        return self.handle
