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
    """The learner's answer is not what stepbox's walk did; the message says how --
    in English and in Chinese (``stepbox exercises check --lang zh``, the Chinese notebook)."""

    def __init__(self, message: str, *, zh: str):
        super().__init__(message)
        self.zh = zh

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else str(self)


def load_answer(path: str) -> ModuleType:
    """Import the learner's file (a fresh module each time: it may have changed)."""
    if not os.path.exists(path):
        raise Wrong(
            f"no file {path}: `stepbox exercises start NAME` makes it",
            zh=f"没有文件 {path}：`stepbox exercises start NAME` 会创建它",
        )
    spec = importlib.util.spec_from_file_location(f"stepbox_exercise_{os.getpid()}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the learner's code: any error is theirs to fix
        name, error = os.path.basename(path), f"{type(e).__name__}: {e}"
        raise Wrong(f"{name} does not load: {error}", zh=f"{name} 加载不了：{error}") from e
    return module


def answer(module: ModuleType, name: str) -> Any:
    if not hasattr(module, name):
        raise Wrong(f"the file must define {name}", zh=f"文件里必须定义 {name}")
    return getattr(module, name)


def call(function: Any, *args: Any) -> Any:
    """Call the learner's function; an exception in it is a wrong answer."""
    try:
        return function(*args)
    except Exception as e:
        call, error = f"{function.__name__}{args!r}", f"{type(e).__name__}: {e}"
        raise Wrong(f"{call} raised {error}", zh=f"{call} 抛出了 {error}") from e


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
