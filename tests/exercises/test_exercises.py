"""Every exercise fails on its untouched skeleton and passes with its solution,
checked against stepbox's own walk: on the simulator, and on the real kernel as root."""

from __future__ import annotations

import re

import pytest
from stepbox.core import exercises
from stepbox.core.exercises.walk import Wrong
from stepbox.core.notebook.lab import open_lab

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

NAMES = list(exercises.EXERCISES)
# On the real kernel: the ones that ask the kernel itself (namespaces, cgroupfs,
# overlayfs, pivot_root, signals) and the push (a registry on loopback); the build
# ones run there through the same builder.
ON_LINUX = [
    "clone-flags",
    "cgroup-limits",
    "whiteouts",
    "pivot-root",
    "exit-codes",
    "docker-diff",
    "push-layers",
]
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def sim_lab():
    with open_lab("sim") as lab:
        yield lab


@pytest.fixture(scope="module")
def linux_lab():
    if not IS_LINUX_ROOT:
        pytest.skip(LINUX_ONLY_REASON)
    with open_lab("linux") as lab:
        yield lab


def test_there_are_at_least_ten():
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_the_skeleton_fails_and_the_solution_passes_on_the_simulator(sim_lab, name):
    with pytest.raises(Wrong) as wrong:
        exercises.check(name, exercises.skeleton_path(name), sim_lab)
    assert str(wrong.value)  # it says what is wrong
    exercises.check(name, exercises.solution_path(name), sim_lab)
    assert sim_lab.runtime.containers.all() == []  # the checks leave no container


@pytest.mark.parametrize("name", ON_LINUX)
def test_the_skeleton_fails_and_the_solution_passes_on_the_real_kernel(linux_lab, name):
    with pytest.raises(Wrong):
        exercises.check(name, exercises.skeleton_path(name), linux_lab)
    exercises.check(name, exercises.solution_path(name), linux_lab)
    assert linux_lab.runtime.containers.all() == []


@pytest.mark.parametrize("name", NAMES)
def test_every_statement_is_in_english_and_chinese(name):
    module = exercises.exercise(name)
    for text in (module.TITLE, module.STATEMENT):
        assert set(text) == {"en", "zh"}
        assert HAN.search(text["zh"]) and not HAN.search(text["en"])


def test_a_wrong_answer_says_what_differs(sim_lab, tmp_path):
    answer = tmp_path / "clone_flags.py"
    answer.write_text("FLAGS = 0x20000000 | 0x00020000  # PID and mount, no UTS\n")
    with pytest.raises(Wrong, match="uts namespace: add CLONE_NEWUTS"):
        exercises.check("clone-flags", str(answer), sim_lab)
    answer.write_text("FLAGS = 0x20000000 | 0x00020000 | 0x04000000 | 0x40000000\n")
    with pytest.raises(Wrong, match="own net namespace, which was not asked for"):
        exercises.check("clone-flags", str(answer), sim_lab)


def test_an_answer_that_raises_or_does_not_load_is_wrong_not_a_crash(sim_lab, tmp_path):
    answer = tmp_path / "whiteouts.py"
    answer.write_text("def lookup(layers, path):\n    return layers[9]\n")
    with pytest.raises(Wrong, match="raised IndexError"):
        exercises.check("whiteouts", str(answer), sim_lab)
    answer.write_text("def lookup(:\n")
    with pytest.raises(Wrong, match="does not load: SyntaxError"):
        exercises.check("whiteouts", str(answer), sim_lab)


def test_a_notebooks_your_turn_gives_a_verdict_and_never_raises(sim_lab, capsys):
    from stepbox.core.exercises.walk import load_answer

    skeleton = vars(load_answer(exercises.skeleton_path("start-order")))
    assert exercises.your_turn("start-order", skeleton, sim_lab) is False
    assert "✗ start-order: not yet -- step 1 is 'mount_rootfs'" in capsys.readouterr().out
    solution = vars(load_answer(exercises.solution_path("start-order")))
    assert exercises.your_turn("start-order", solution, sim_lab) is True
    assert "✓ start-order: solved (checked on the sim kernel)" in capsys.readouterr().out
