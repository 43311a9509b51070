"""Recording the kernel operations a step performs.

Backends call :meth:`Tracer.record` for every kernel-level operation they do
(``clone``, ``mount``, ``sethostname``, a write to a cgroup file ...), with the
names and arguments of the real syscalls/files, so that a learner stepping
through a lifecycle sees what the kernel was asked to do.  The simulator
records the same names as the Linux backend for the same operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KernelOp:
    call: str  # syscall or file, e.g. "mount", "clone", "write /sys/fs/cgroup/.../memory.max"
    detail: str  # arguments in the form a man page would show them

    def __str__(self) -> str:
        return f"{self.call}({self.detail})"


@dataclass
class Tracer:
    ops: list[KernelOp] = field(default_factory=list)
    enabled: bool = True  # benchmarks switch recording off

    def record(self, call: str, detail: str = "") -> None:
        if self.enabled:
            self.ops.append(KernelOp(call, detail))

    def mark(self) -> int:
        """Position to pass to :meth:`since` later."""
        return len(self.ops)

    def since(self, mark: int) -> list[KernelOp]:
        return self.ops[mark:]


def execvp_detail(argv: list[str], env: dict[str, str]) -> str:
    """How both backends show a container's first exec: the name as given
    (execvp searches $PATH inside the container), the argv, and how many
    environment variables -- not their values, which may be secrets."""
    import json

    return f"{json.dumps(argv[0])}, {json.dumps(list(argv))}, [{len(env)} vars]"
