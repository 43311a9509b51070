"""What the checkers share: load a learner's file, run stepbox's own walk.

A checker never computes the right answer itself: it runs the real plan (or
calls the kernel interfaces) on the lab's kernel -- the simulator, or the real
one as root -- and compares what happened with what the learner wrote.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.record import ContainerRecord
from stepbox.core.container.steps import StepResult


class Wrong(Exception):
    """The learner's answer is not what stepbox's walk did; the message says how."""


def load_answer(path: str) -> ModuleType:
    """Import the learner's file (a fresh module each time: it may have changed)."""
    if not os.path.exists(path):
        raise Wrong(f"no file {path}: `stepbox exercises start NAME` makes it")
    spec = importlib.util.spec_from_file_location(f"stepbox_exercise_{os.getpid()}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the learner's code: any error is theirs to fix
        raise Wrong(f"{os.path.basename(path)} does not load: {type(e).__name__}: {e}") from e
    return module


def answer(module: ModuleType, name: str) -> Any:
    if not hasattr(module, name):
        raise Wrong(f"the file must define {name}")
    return getattr(module, name)


def call(function: Any, *args: Any) -> Any:
    """Call the learner's function; an exception in it is a wrong answer."""
    try:
        return function(*args)
    except Exception as e:
        raise Wrong(f"{function.__name__}{args!r} raised {type(e).__name__}: {e}") from e


@dataclass
class Walk:
    """The steps one plan ran on one container, by key, in order."""

    record: ContainerRecord
    results: dict[str, StepResult[Any]] = field(default_factory=dict)
    error: BaseException | None = None

    def ops(self, key: str) -> list[tuple[str, str]]:
        return [(op.call, op.detail) for op in self.results[key].ops]


def walk(lab: Any, config: ContainerConfig, verb: str = "run") -> Walk:
    """Run ``docker run`` (or ``create``) of ``config`` step by step, as
    ``stepbox step`` does, and remove the container afterwards."""
    record = lab.new_container(config)
    steps = plan.run_plan(config, remove=False) if verb == "run" else plan.create_plan()
    stepper = lab.runtime.stepper(record, steps)
    done = Walk(record)
    try:
        while not stepper.done:
            result = stepper.step()
            done.results[result.step.key] = result
    except Exception as e:  # a failed start: the plan's failure policy has run
        done.error = e
    return done


def discard(lab: Any, done: Walk) -> None:
    lab.runtime.discard(done.record)
