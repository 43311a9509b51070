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
    assert HAN.search(wrong.value.text("zh")) and not HAN.search(wrong.value.text("en"))  # in both languages
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


def test_every_message_of_a_checker_is_in_english_and_chinese():
    """Every ``Wrong(...)`` in core/exercises is given a Chinese text (zh=...) beside
    the English one: no checker answers a Chinese reader in English."""
    import ast
    import glob
    import os

    calls = []
    for path in glob.glob(os.path.join(os.path.dirname(exercises.__file__), "*.py")):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Wrong":
                zh = next((k.value for k in node.keywords if k.arg == "zh"), None)
                text = ast.unparse(zh) if zh is not None else ""
                calls.append((os.path.basename(path), node.lineno, bool(HAN.search(text))))
    assert len(calls) >= 30
    assert [call for call in calls if not call[2]] == []


def test_a_chinese_lab_gives_the_verdict_in_chinese(capsys):
    from stepbox.core.exercises.walk import load_answer

    with open_lab("sim", lang="zh") as lab:
        skeleton = vars(load_answer(exercises.skeleton_path("start-order")))
        assert exercises.your_turn("start-order", skeleton, lab) is False
        said = capsys.readouterr().out
        assert "✗ start-order：还不对——第 1 步是 'mount_rootfs'" in said
        assert HAN.search(said.split("：", 3)[-1])  # the step's explanation, in Chinese too
        solution = vars(load_answer(exercises.solution_path("start-order")))
        assert exercises.your_turn("start-order", solution, lab) is True
        assert "✓ start-order：答对了（在 sim 内核上检查过）" in capsys.readouterr().out
