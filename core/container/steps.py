"""A lifecycle is data: Steps, grouped in Phases, executed by the one Stepper.

Every change a container goes through -- create, start, exit, stop, kill,
pause, unpause, restart, remove -- is a :class:`Plan` (see ``plan/``): a
few :class:`Phase`, each a list of :class:`Step`.  ``stepbox run``, the
daemon, ``stepbox step`` and the notebooks all hand a plan to a
:class:`Stepper`: ``run`` executes every step, ``step`` and the notebooks
one at a time and show, after each, the kernel operations it performed and
what changed.  There is no separate demo path.  The Dockerfile builder and
the notebooks' scripts drive their own steps through the same Stepper.

The failure policy, the same for every plan:

* every step that makes something registers its undo as soon as it has
  made it (:meth:`StepContext.on_undo`);
* a phase that ran to its end is kept: what it made belongs to the
  container now, its undos are dropped (a finished ``create`` stays when
  the ``start`` after it fails -- Docker's outcome);
* when a step fails, the undos of its phase run, newest first -- so a
  half-started container leaks no mount, cgroup or process, the same
  discipline as runc's "defer cleanup" chains -- then the phase's
  ``on_failure`` steps (what a failure leaves behind: a failed start records
  its error and exit code, ``--rm`` removes the container), and the error
  goes on to the caller; the rest of the plan does not run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from stepbox.core.kernel import KernelOp, Tracer

# --------------------------------------------------------------------- undo


@dataclass
class UndoChain:
    """What to undo if the work in progress fails, newest last."""

    actions: list[tuple[str, Callable[[], object]]] = field(default_factory=list)

    def push(self, label: str, action: Callable[[], object]) -> None:
        self.actions.append((label, action))

    def unwind(self) -> list[str]:
        """Undo everything registered, newest first; what failed to undo
        (reported, never raised: the error that caused the unwinding
        matters more, and the rest must still be undone)."""
        failures = []
        while self.actions:
            label, action = self.actions.pop()
            try:
                action()
            except Exception as e:  # keep unwinding the rest
                failures.append(f"{label}: {e}")
        return failures

    def clear(self) -> None:
        self.actions.clear()

    def __len__(self) -> int:
        return len(self.actions)


class StepContext:
    """What the steps of one plan share, as far as the Stepper cares: an undo
    chain, a tracer (what the kernel was asked to do), somewhere to save
    progress.  A container's lifecycle, a build and a notebook's script each
    subclass it with what their steps need besides."""

    undo: UndoChain
    failure: BaseException | None = None  # set for the on_failure steps: what went wrong

    @property
    def tracer(self) -> Tracer:
        raise NotImplementedError

    def on_undo(self, label: str, action: Callable[[], object]) -> None:
        """Register how to undo what the running step has just made."""
        self.undo.push(label, action)

    def keep(self) -> None:
        """A phase has run to its end: what it made stays."""
        self.undo.clear()

    def save(self) -> None:
        """Called after every step: make its progress durable (if anything is to be)."""


C = TypeVar("C", bound=StepContext)


# --------------------------------------------------------------- plan as data


@dataclass(frozen=True)
class Step(Generic[C]):
    key: str  # stable id, e.g. "pivot_root"
    title: str  # one line, shown as the step's heading
    explain: str  # what and why, tied to the seed's words
    concept: str  # the seed heading it teaches
    run: Callable[[C], None]
    # Whether the step belongs in a container's plan at all, decided from
    # its config when the plan is made (``--network host``: no loopback to
    # bring up).  None: always.
    when: Callable[[Any], bool] | None = None
    # Whether the Stepper saves (ctx.save) right after the step.  False for
    # a step whose changes a crash need not find -- nothing a restarted
    # daemon's recovery reads, or nothing at all: they are saved with the
    # next step that saves, and always at the end of the phase.  Each save
    # serialises the record (and writes it if it changed): ~18 per `run`
    # were a good part of the daemon's work per container (issue 18).
    saves: bool = True

    def applies_to(self, config: object) -> bool:
        return self.when is None or self.when(config)


@dataclass(frozen=True)
class Phase(Generic[C]):
    """Steps that stand or fall together: if one fails, the phase's undos
    run, then ``on_failure``."""

    name: str
    steps: tuple[Step[C], ...]
    on_failure: tuple[Step[C], ...] = ()

    def for_config(self, config: object) -> Phase[C]:
        """The phase with only the steps that apply to ``config`` (itself
        when they all do: a phase is immutable)."""
        return self.with_answers(self.answers(config))

    # A plan is made for every lifecycle (issue 18): each condition is asked
    # once per config -- the eight bridge steps share one -- and the phase of
    # each set of answers is made once.  The answers are asked every time,
    # so the cache holds nothing that could go stale: it maps what the
    # conditions said to the steps they let through, both fixed for a phase.
    @cached_property
    def _conditions(self) -> tuple[Callable[[Any], bool], ...]:
        """The steps' distinct ``when`` conditions, in the order they come."""
        steps = (*self.steps, *self.on_failure)
        return tuple(dict.fromkeys(s.when for s in steps if s.when is not None))

    @cached_property
    def _by_answers(self) -> dict[tuple[bool, ...], Phase[C] | None]:
        """The phase of each set of answers; None: this phase itself, every
        step applying (not ``self``: a phase made per call, a stop's with
        its signal, say, would hold itself and wait for the cycle collector)."""
        return {}

    def answers(self, config: object) -> tuple[bool, ...]:
        """What each of the phase's conditions says of ``config``."""
        return tuple([bool(when(config)) for when in self._conditions])

    def with_answers(self, answers: tuple[bool, ...]) -> Phase[C]:
        """The phase with the steps whose condition gave ``answers`` (see :meth:`answers`)."""
        by_answers = self._by_answers
        if answers in by_answers:
            phase = by_answers[answers]
        else:
            said = dict(zip(self._conditions, answers, strict=True))
            steps = tuple(s for s in self.steps if s.when is None or said[s.when])
            on_failure = tuple(s for s in self.on_failure if s.when is None or said[s.when])
            if len(steps) == len(self.steps) and len(on_failure) == len(self.on_failure):
                phase = None
            else:
                phase = Phase(self.name, steps, on_failure)
            by_answers[answers] = phase
        return self if phase is None else phase

    def failing_with(self, *steps: Step[C]) -> Phase[C]:
        """The phase with more to do after a failure (e.g. ``--rm``'s removal)."""
        return Phase(self.name, self.steps, self.on_failure + steps)

    def __add__(self, other: Phase[C] | Plan[C]) -> Plan[C]:
        return Plan((self,)) + other


@dataclass(frozen=True)
class Plan(Generic[C]):
    """Phases in the order they run.  ``phase + phase`` makes one."""

    phases: tuple[Phase[C], ...] = ()

    @classmethod
    def of(cls, steps: Plan[C] | Phase[C] | Sequence[Step[C]], name: str = "steps") -> Plan[C]:
        """``steps`` as a plan: a phase, or a list of steps as one phase (a
        build, a notebook's script)."""
        if isinstance(steps, Plan):
            return steps
        if isinstance(steps, Phase):
            return cls((steps,))
        return cls((Phase(name, tuple(steps)),))

    @property
    def steps(self) -> list[Step[C]]:
        return [step for phase in self.phases for step in phase.steps]

    @property
    def names(self) -> list[str]:
        return [phase.name for phase in self.phases]

    def for_config(self, config: object) -> Plan[C]:
        """The plan with only the steps that apply to ``config``: made once
        per set of answers its phases' conditions give (see Phase.answers)."""
        answers = tuple([phase.answers(config) for phase in self.phases])
        plan = self._by_answers.get(answers)
        if plan is None:
            phases = tuple(phase.with_answers(a) for phase, a in zip(self.phases, answers, strict=True))
            plan = self._by_answers[answers] = Plan(phases)
        return plan

    @cached_property
    def _by_answers(self) -> dict[tuple[tuple[bool, ...], ...], Plan[C]]:
        return {}

    @cached_property
    def layout(self) -> tuple[tuple[Step[C], ...], tuple[int, ...], tuple[bool, ...]]:
        """Its steps in order; for each, the index of its phase (a plan may
        hold one phase twice) and whether it is its phase's last (then what
        the phase made is kept) -- what a Stepper walks, worked out once per plan."""
        steps = tuple(step for phase in self.phases for step in phase.steps)
        phase_at = tuple(i for i, p in enumerate(self.phases) for _ in p.steps)
        ends_phase = tuple(i + 1 == len(p.steps) for p in self.phases for i in range(len(p.steps)))
        return steps, phase_at, ends_phase

    def __add__(self, other: Phase[C] | Plan[C]) -> Plan[C]:
        return Plan(self.phases + (other.phases if isinstance(other, Plan) else (other,)))

    def __len__(self) -> int:
        return sum(len(phase.steps) for phase in self.phases)


# -------------------------------------------------------------------- Stepper


@dataclass
class StepResult(Generic[C]):
    step: Step[C]
    ops: list[KernelOp]
    state: dict[str, Any] | None  # observable state after the step
    changes: list[tuple[str, Any, Any]]  # (key, before, after) vs the previous state


# Who wants to know which steps run (a test, a log): called with the context
# and the step before it runs, and with None once it has run (or failed).
StepListener = Callable[[StepContext, "Step[Any] | None"], None]
_listeners: list[StepListener] = []


def listen(listener: StepListener) -> Callable[[], None]:
    """Tell ``listener`` about every step any Stepper runs; returns how to
    stop listening.  The tests use it to show that every verb runs through
    the Stepper, and that no kernel operation happens outside a step."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def _tell(ctx: StepContext, step: Step[Any] | None) -> None:
    if _listeners:  # nearly always none: no copy of the empty list twice a step
        for listener in list(_listeners):
            listener(ctx, step)


class Stepper(Generic[C]):
    """Executes a plan one step at a time (``step``) or all at once (``run``)."""

    def __init__(
        self,
        ctx: C,
        plan: Plan[C] | Phase[C] | Sequence[Step[C]],
        observe: Callable[[C], dict[str, Any]] | None = None,
    ):
        self.ctx = ctx
        self.plan: Plan[C] = Plan.of(plan)
        steps, self._phase_at, self._ends_phase = self.plan.layout
        self.steps: list[Step[C]] = list(steps)
        self.position = 0
        self._observe = observe
        self._last_state = observe(ctx) if observe else None

    @property
    def done(self) -> bool:
        return self.position >= len(self.steps)

    @property
    def next_step(self) -> Step[C] | None:
        return None if self.done else self.steps[self.position]

    @property
    def phase(self) -> Phase[C] | None:
        """The phase the next step belongs to."""
        return None if self.done else self.plan.phases[self._phase_at[self.position]]

    def step(self) -> StepResult[C]:
        tracer = self.ctx.tracer
        mark = tracer.mark()
        step = self._advance()
        state = self._observe(self.ctx) if self._observe is not None else None
        changes = diff_states(self._last_state, state) if state is not None else []
        self._last_state = state
        return StepResult(step, tracer.since(mark), state, changes)

    def _advance(self) -> Step[C]:
        """Run the next step under the failure policy; the step that ran."""
        # (Run ~18 times a lifecycle: what is not the step's own work is kept
        # to plain attribute reads -- issue 18.)
        ctx, position = self.ctx, self.position
        step = self.steps[position]
        if _listeners:
            _tell(ctx, step)
        try:
            step.run(ctx)
        except BaseException as error:
            self.position = len(self.steps)
            self._unwind(error)  # the failed step's own clean-up: within it
            _tell(ctx, None)
            self._after_failure(self.plan.phases[self._phase_at[position]], error)
            raise
        if _listeners:
            _tell(ctx, None)
        self.position = position + 1
        phase_ends = self._ends_phase[position]
        if phase_ends or step.saves:
            ctx.save()
        if phase_ends:
            ctx.keep()
        return step

    def run(self) -> list[StepResult[C]]:
        results: list[StepResult[C]] = []
        step, count = self.step, len(self.steps)
        while self.position < count:  # (not done: abort() may end it early)
            results.append(step())
        return results

    def finish(self) -> None:
        """``run`` for a caller that does not look at the results (the
        runtime's verbs): the same steps under the same failure policy,
        without a StepResult each -- the kernel operations it performed,
        the state after it -- that nobody reads (issue 18)."""
        if self._observe is not None:
            self.run()  # the states are the point of observing
            return
        advance, count = self._advance, len(self.steps)
        while self.position < count:  # (not done: abort() may end it early)
            advance()

    # The one failure policy (see the module docstring): the phase's undos,
    # then its on_failure steps.
    def _unwind(self, error: BaseException) -> None:
        failures = self.ctx.undo.unwind()
        if failures:
            error.add_note("clean-up after the failure also failed: " + "; ".join(failures))

    def _after_failure(self, phase: Phase[C], error: BaseException) -> None:
        self.ctx.failure = error
        for step in phase.on_failure:
            _tell(self.ctx, step)
            try:
                step.run(self.ctx)
                self.ctx.save()
            except Exception as e:
                error.add_note(f"after the failure, {step.title.lower()} also failed: {e}")
            finally:
                _tell(self.ctx, None)

    def abort(self) -> None:
        """Stop half-way (the learner quits): undo what the unfinished phase
        did.  Phases that finished stand -- what they made is a container in
        a state Docker knows (created, running, exited), for its own plans
        to remove."""
        self.ctx.undo.unwind()
        self.position = len(self.steps)


def flatten(state: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(state, dict):
        flat: dict[str, Any] = {}
        for key, value in state.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: state}


def diff_states(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    old, new = flatten(before or {}), flatten(after)
    return [
        (key, old.get(key), new.get(key))
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


__all__ = [
    "Phase",
    "Plan",
    "Step",
    "StepContext",
    "StepListener",
    "StepResult",
    "Stepper",
    "UndoChain",
    "diff_states",
    "listen",
]
