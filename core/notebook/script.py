"""Walkthroughs of things that are not one container's lifecycle: a push
then a pull, a series of file operations, ``build`` then ``run`` then ``commit``.

Each action is a :class:`~stepbox.core.container.steps.Step` like those of
``core/container/plan/`` -- a title, what it teaches, the seed heading --
and runs through the same Stepper, so the kernel operations it causes in
this process are recorded and shown.  An action returns the HTML to show
after it (a table, a diagram); an action that makes something to undo
registers the undo (``ctx.on_undo``), so **Reset** unwinds a half-done
script exactly as a failed ``docker run`` unwinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stepbox.core.container.steps import Step, StepContext, Stepper, UndoChain
from stepbox.core.kernel import Tracer

from .controls import Walkthrough
from .in_chinese import in_language

if TYPE_CHECKING:
    from .lab import Lab


@dataclass
class ScriptContext(StepContext):
    """What the actions of a script share: the lab, their results, the undo chain."""

    lab: Lab
    values: dict = field(default_factory=dict)  # what actions leave for later ones
    shown: dict = field(default_factory=dict)  # step key -> HTML to show after it
    undo: UndoChain = field(default_factory=UndoChain)

    @property
    def kernel(self):
        return self.lab.kernel

    @property
    def tracer(self) -> Tracer:
        return self.lab.kernel.tracer

    def keep(self) -> None:
        """A finished script keeps its undos: Reset undoes it (see script_walk)."""


def action(
    key: str, title: str, explain: str, concept: str, run: Callable[[ScriptContext], str | None]
) -> Step:
    """A step of a script: ``run(ctx)`` does it and returns what to show."""

    def execute(ctx: ScriptContext) -> None:
        ctx.shown[key] = run(ctx) or ""

    return Step(key, title, explain, concept, execute)


def script_walk(lab, steps: list[Step]) -> Walkthrough:
    """Step / Run to end / Reset over ``steps``; Reset undoes every action
    that registered an undo, finished or not, and starts again.  In a
    Chinese lab the steps say what they do in Chinese (:mod:`.in_chinese`)."""
    steps = [in_language(step, lab.lang) for step in steps]

    def start() -> Stepper:
        return Stepper(ScriptContext(lab), steps)

    def discard(stepper: Stepper) -> None:
        stepper.abort()  # the whole script is one phase: every undo it registered

    def shown(ctx: ScriptContext, result) -> str:
        return ctx.shown.get(result.step.key, "")

    walk = Walkthrough(start, discard, [shown], lab.shorten)
    walk.lang = lab.lang  # the headings of what each step did, in the lab's language
    return walk


__all__ = ["ScriptContext", "action", "script_walk"]
