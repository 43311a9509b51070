"""A lifecycle is data: a list of :class:`Step`, executed by a :class:`Stepper`.

``stepbox run`` executes every step; ``stepbox step`` and the notebooks
execute them one at a time and show, after each, the kernel operations it
performed and what changed.  Both go through :meth:`Stepper.step` -- there is
no separate demo path.

Every step that creates something registers its undo as soon as it succeeds
(:meth:`LifecycleContext.on_undo`).  If a later step fails, the Stepper runs
those undos in reverse, so a half-started container leaks no mount, cgroup or
process -- the same discipline as runc's "defer cleanup" chains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stepbox.core.kernel import Kernel, KernelOp, ProcessHandle, UnionMount

if TYPE_CHECKING:
    from stepbox.core.image.store import ImageStore

    from .record import ContainerRecord
    from .store import ContainerStore


@dataclass(frozen=True)
class Step:
    key: str  # stable id, e.g. "pivot_root"
    title: str  # one line, shown as the step's heading
    explain: str  # what and why, tied to the seed's words
    concept: str  # the seed heading it teaches
    run: Callable[[LifecycleContext], None]


@dataclass
class StepResult:
    step: Step
    ops: list[KernelOp]
    state: dict | None  # observable state after the step
    changes: list[tuple[str, Any, Any]]  # (key, before, after) vs the previous state


@dataclass
class LifecycleContext:
    """What the steps of one container's lifecycle share."""

    kernel: Kernel
    images: ImageStore
    containers: ContainerStore
    record: ContainerRecord
    handle: ProcessHandle | None = None
    mount: UnionMount | None = None
    stop_timeout: float = 10.0
    stop_signal: int = 15
    exit_status: Any = None
    say: Callable[[str], None] = lambda message: None
    _undo: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def on_undo(self, label: str, action: Callable[[], None]) -> None:
        self._undo.append((label, action))

    def unwind(self) -> list[str]:
        """Undo everything registered, newest first; returns what failed to
        undo (reported, never raised: the original error matters more)."""
        failures = []
        while self._undo:
            label, action = self._undo.pop()
            try:
                action()
            except Exception as e:  # keep unwinding the rest
                failures.append(f"{label}: {e}")
        return failures

    def keep(self) -> None:
        """The plan succeeded: what it built now belongs to the container."""
        self._undo.clear()

    def save(self) -> None:
        self.containers.save(self.record)


class Stepper:
    """Executes a plan one step at a time (``step``) or all at once (``run``)."""

    def __init__(
        self,
        ctx: LifecycleContext,
        steps: list[Step],
        observe: Callable[[LifecycleContext], dict] | None = None,
    ):
        self.ctx = ctx
        self.steps = steps
        self.position = 0
        self._observe = observe
        self._last_state = observe(ctx) if observe else None

    @property
    def done(self) -> bool:
        return self.position >= len(self.steps)

    @property
    def next_step(self) -> Step | None:
        return None if self.done else self.steps[self.position]

    def step(self) -> StepResult:
        step = self.steps[self.position]
        tracer = self.ctx.kernel.tracer
        mark = tracer.mark()
        try:
            step.run(self.ctx)
        except BaseException as error:
            failures = self.ctx.unwind()
            self.position = len(self.steps)
            if failures:
                error.add_note("clean-up after the failure also failed: " + "; ".join(failures))
            raise
        self.position += 1
        self.ctx.save()
        if self.done:
            self.ctx.keep()
        state = self._observe(self.ctx) if self._observe else None
        changes = diff_states(self._last_state, state) if state is not None else []
        self._last_state = state
        return StepResult(step, tracer.since(mark), state, changes)

    def run(self) -> list[StepResult]:
        results = []
        while not self.done:
            results.append(self.step())
        return results

    def abort(self) -> None:
        """Stop half-way (e.g. the learner quits): undo what was done."""
        self.ctx.unwind()
        self.position = len(self.steps)


def flatten(state: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(state, dict):
        flat: dict[str, Any] = {}
        for key, value in state.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: state}


def diff_states(before: dict | None, after: dict) -> list[tuple[str, Any, Any]]:
    old, new = flatten(before or {}), flatten(after)
    return [
        (key, old.get(key), new.get(key))
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]
