"""`stepbox exercises`: list, show, start, check (exit 1 saying what is wrong, 0 when solved)."""

from __future__ import annotations

import os
import subprocess

from stepbox.core import exercises


def stepbox(*args: str, cwd=None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "STEPBOX_BACKEND": "sim", "LANG": "C.UTF-8", **env}
    environment.pop("LC_ALL", None)
    return subprocess.run(
        ["stepbox", *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=300
    )


def test_list_names_every_exercise_in_english_or_chinese():
    out = stepbox("exercises", "list").stdout
    assert [line.split()[0] for line in out.splitlines()] == list(exercises.EXERCISES)
    assert "Choose the clone flags" in out
    assert "选择 clone 的标志位" in stepbox("exercises", "list", "--lang", "zh").stdout
    assert "选择 clone 的标志位" in stepbox("exercises", "list", LANG="zh_CN.UTF-8").stdout


def test_start_then_check_fails_on_the_skeleton_and_passes_when_solved(tmp_path):
    started = stepbox("exercises", "start", "pivot-root", str(tmp_path))
    assert started.returncode == 0, started.stderr
    mine = tmp_path / "pivot_root.py"
    assert mine.read_text() == open(exercises.skeleton_path("pivot-root")).read()

    wrong = stepbox("exercises", "check", "pivot-root", "--dir", str(tmp_path))
    assert wrong.returncode == 1
    assert "pivot-root: not yet -- call 1:" in wrong.stderr

    mine.write_text('ORDER = ["bind", "enter", "pivot", "detach", "home"]\n')
    solved = stepbox("exercises", "check", "pivot-root", "--dir", str(tmp_path))
    assert solved.returncode == 0, solved.stderr
    assert "solved (checked on the sim kernel)" in solved.stdout

    # `start` again never overwrites what the learner wrote
    stepbox("exercises", "start", "pivot-root", str(tmp_path))
    assert "bind" in mine.read_text().splitlines()[0]


def test_with_solution_checks_the_reference_solution():
    result = stepbox("exercises", "check", "exit-codes", "--with-solution")
    assert result.returncode == 0, result.stderr


def test_check_in_a_directory_without_the_file_says_how_to_start(tmp_path):
    result = stepbox("exercises", "check", "whiteouts", cwd=tmp_path)
    assert result.returncode == 1
    assert "stepbox exercises start" in result.stderr


def test_an_unknown_exercise_is_refused_by_name():
    result = stepbox("exercises", "check", "nope")
    assert result.returncode == 125
    assert "no exercise 'nope'" in result.stderr and "clone-flags" in result.stderr


def test_show_prints_the_statement_in_chinese_under_a_chinese_locale():
    result = stepbox("exercises", "show", "whiteouts", LANG="zh_CN.UTF-8")
    assert "联合文件系统" in result.stdout


def test_check_answers_in_chinese_when_asked_or_under_a_chinese_locale(tmp_path):
    stepbox("exercises", "start", "pivot-root", str(tmp_path))
    for result in (
        stepbox("exercises", "check", "pivot-root", "--dir", str(tmp_path), "--lang", "zh"),
        stepbox("exercises", "check", "pivot-root", "--dir", str(tmp_path), LANG="zh_CN.UTF-8"),
    ):
        assert result.returncode == 1
        assert "pivot-root：还不对——第 1 个调用：内核在这里收到的是 'bind'" in result.stderr + result.stdout
    solved = stepbox("exercises", "check", "pivot-root", "--with-solution", "--lang", "zh")
    assert solved.returncode == 0 and "pivot-root：答对了" in solved.stdout
