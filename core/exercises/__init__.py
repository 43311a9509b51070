"""Exercises: the learner writes a piece of the engine, stepbox checks it.

In the spirit of rubber-docker's levels, each exercise asks for one thing the
engine does (the clone flags, the cgroup files, the order of pivot_root, a
lookup through whiteouts ...).  The learner edits a skeleton file
(``stepbox exercises start NAME [DIR]`` copies it out), and ``stepbox
exercises check NAME`` compares it with what stepbox's own walk does on the
lab's kernel: the simulator anywhere, the real kernel as root.

Each exercise is a module here with ``NAME``, ``TITLE`` and ``STATEMENT``
(English and Chinese) and ``check(answer_module, lab)``, which raises
:class:`Wrong` saying what differs; its skeleton and reference solution are
``skeletons/<module>.py`` and ``solutions/<module>.py``.
"""

from __future__ import annotations

import os
from types import ModuleType

from stepbox.core.language import language

from . import (
    build_cache,
    cgroup_limits,
    clone_flags,
    docker_diff,
    exit_codes,
    init_layer,
    layer_count,
    pivot_root,
    push_layers,
    start_order,
    whiteouts,
)
from .walk import Wrong, load_answer

# What `check` says, in each language (the checkers' messages: Wrong.text(lang)).
VERDICTS = {
    "en": {"wrong": "{name}: not yet -- {why}", "solved": "{name}: solved (checked on the {backend} kernel)"},
    "zh": {"wrong": "{name}：还不对——{why}", "solved": "{name}：答对了（在 {backend} 内核上检查过）"},
}

# The registry, in the order a learner meets the ideas (the seed's chapters).
EXERCISES: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        clone_flags,
        cgroup_limits,
        whiteouts,
        init_layer,
        start_order,
        pivot_root,
        exit_codes,
        docker_diff,
        layer_count,
        build_cache,
        push_layers,
    )
}
HERE = os.path.dirname(os.path.abspath(__file__))


class UnknownExercise(LookupError):
    def __init__(self, name: str):
        super().__init__(f"no exercise {name!r}; `stepbox exercises list` shows them: {', '.join(EXERCISES)}")


def exercise(name: str) -> ModuleType:
    try:
        return EXERCISES[name]
    except KeyError:
        raise UnknownExercise(name) from None


def file_name(name: str) -> str:
    """The learner's file: the exercise's module name ("clone_flags.py")."""
    return exercise(name).__name__.rsplit(".", 1)[1] + ".py"


def skeleton_path(name: str) -> str:
    return os.path.join(HERE, "skeletons", file_name(name))


def solution_path(name: str) -> str:
    return os.path.join(HERE, "solutions", file_name(name))


def start(name: str, directory: str) -> str:
    """Copy the exercise's skeleton into ``directory``; its path.  An edited
    file is never overwritten."""
    target = os.path.join(directory, file_name(name))
    if os.path.exists(target):
        return target
    os.makedirs(directory, exist_ok=True)
    with open(skeleton_path(name), encoding="utf-8") as f:
        text = f.read()
    with open(target + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(target + ".tmp", target)
    return target


def check(name: str, path: str, lab) -> None:
    """Raise :class:`Wrong` unless the file at ``path`` solves exercise ``name``."""
    exercise(name).check(load_answer(path), lab)


def check_answers(name: str, answers: dict[str, object], lab) -> None:
    """:func:`check` for answers that are names in a notebook (its ``globals()``)."""
    module = ModuleType(f"answers_to_{file_name(name)[:-3]}")
    module.__dict__.update(answers)
    exercise(name).check(module, lab)


def your_turn(name: str, answers: dict[str, object], lab) -> bool:
    """A notebook's "your turn" cell: check, say the verdict, never raise
    (Run All goes on past an exercise not yet solved)."""
    try:
        check_answers(name, answers, lab)
    except Wrong as e:
        print("✗ " + VERDICTS[lab.lang]["wrong"].format(name=name, why=e.text(lab.lang)))
        return False
    print("✓ " + VERDICTS[lab.lang]["solved"].format(name=name, backend=lab.backend))
    return True


__all__ = [
    "EXERCISES",
    "VERDICTS",
    "UnknownExercise",
    "Wrong",
    "check",
    "check_answers",
    "exercise",
    "language",
    "start",
    "your_turn",
]
