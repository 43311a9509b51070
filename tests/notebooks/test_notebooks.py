"""Every notebook, executed headless from a clean kernel: on the simulator as
an unprivileged user, and on the real kernel as root.

Each run is its own process (``execute.py``) with TMPDIR pointed at a fresh
directory, so whatever a failing notebook leaves behind -- processes,
mounts, cgroups of real containers -- is found there and removed.  The
notebooks assert what they teach (exit 137 after an OOM kill, only the
changed layer pushed …), so a run without errors is a check of the
content too, not only of the code.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize

import nbformat
import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.support.lab_leftovers import clean_up, leftovers
from tests.support.nonroot import NOBODY, as_nobody, private_home

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK_DIR = os.path.join(CHECKOUT, "notebooks")
EXECUTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "execute.py")
NOTEBOOKS = sorted(name for name in os.listdir(NOTEBOOK_DIR) if name.endswith(".ipynb"))
# One notebook per chapter of the seed ("NN-topic.ipynb"); the others (exercises.ipynb)
# are run and checked like them.  Each has a Chinese twin, NAME.zh.ipynb: the same cells,
# prose and code comments in Chinese -- run and checked like the English ones.
ENGLISH = [name for name in NOTEBOOKS if not name.endswith(".zh.ipynb")]
CHAPTERS = [name for name in ENGLISH if re.match(r"\d\d-", name)]
CJK = re.compile(r"[\u4e00-\u9fff]")
RUN_TIMEOUT = 900
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _short_tmp(prefix: str) -> str:
    # /tmp rather than pytest's tmp_path: the engine notebook puts UNIX
    # sockets under TMPDIR, and a socket path must fit in 108 bytes.
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None)


def _failure(proc: subprocess.CompletedProcess, executed: str) -> str:
    return (
        f"the notebook failed (exit {proc.returncode}); executed copy: {executed}\n"
        + ANSI.sub("", proc.stderr)[-6000:]
    )


def test_there_is_a_notebook_per_chapter():
    assert len(CHAPTERS) == 14 and [name[:3] for name in CHAPTERS] == [f"{n:02d}-" for n in range(1, 15)]


@pytest.mark.parametrize("name", ["exercises.ipynb", "exercises.zh.ipynb"])
def test_the_exercises_notebook_has_a_your_turn_cell_per_exercise(name):
    from stepbox.core import exercises

    notebook = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    turns = [
        re.search(r"^your_turn\('([\w-]+)', globals\(\), lab\)$", cell.source, re.M)
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    assert [m.group(1) for m in turns if m] == list(exercises.EXERCISES)


# The one difference a twin's code may have: its lab speaks Chinese
# (``open_lab(BACKEND, lang="zh")``, or with the English cell's other arguments before it).
CHINESE_LAB = ', lang="zh")'


def _code_without_comments(source: str) -> list[tuple[int, str]]:
    """The tokens of a cell, comments and layout left out: what the cell *does*
    (whether the lab speaks Chinese aside)."""
    source = source.replace(CHINESE_LAB, ")")
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    return [
        (token.type, token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in skip
    ]


@pytest.mark.parametrize("name", ENGLISH)
def test_each_notebook_has_a_chinese_twin_with_the_same_code(name):
    twin = name.removesuffix(".ipynb") + ".zh.ipynb"
    assert twin in NOTEBOOKS, f"{name} has no Chinese twin {twin}"
    english = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4).cells
    chinese = nbformat.read(os.path.join(NOTEBOOK_DIR, twin), as_version=4).cells
    assert [cell.cell_type for cell in chinese] == [cell.cell_type for cell in english]
    assert any(CHINESE_LAB in cell.source for cell in chinese), f"{twin} does not open a Chinese lab"
    for index, (en, zh) in enumerate(zip(english, chinese, strict=True)):
        assert zh.metadata == en.metadata, f"{twin} cell {index}: metadata (tags) differ"
        if en.cell_type == "code":
            assert _code_without_comments(zh.source) == _code_without_comments(en.source), (
                f"{twin} cell {index}: the code differs from {name}'s (only comments may)"
            )
        else:
            assert CJK.search(zh.source), f"{twin} cell {index}: no Chinese prose"


@pytest.mark.parametrize("name", ENGLISH)
def test_the_chinese_twin_comments_in_chinese(name):
    """A comment left in English is a sentence a Chinese reader was not given."""
    twin = name.removesuffix(".ipynb") + ".zh.ipynb"
    chinese = nbformat.read(os.path.join(NOTEBOOK_DIR, twin), as_version=4).cells
    english_only = [
        token.string
        for cell in chinese
        if cell.cell_type == "code"
        for token in tokenize.generate_tokens(io.StringIO(cell.source).readline)
        if token.type == tokenize.COMMENT
        and re.search(r"[a-z]{3,} [a-z]{3,}", token.string)
        and not CJK.search(token.string)
    ]
    # Dockerfile lines and shell commands quoted in comments stay as they are
    english_only = [c for c in english_only if not re.match(r"#\s+(sh -c|&&|[A-Z]+ )", c)]
    assert english_only == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_carries_no_outputs(name):
    notebook = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    nbformat.validate(notebook)
    stale = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert stale == [], f"{name}: cells {stale} keep outputs (clear them before committing)"
    assert "widgets" not in notebook.metadata, f"{name}: saved widget state (clear it before committing)"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_has_the_backend_parameter_and_cleans_up(name):
    notebook = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and re.search(r'^BACKEND = "auto"$', tagged[0].source, re.M)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert any(re.search(r"open_lab\(BACKEND\b", source) for source in code)  # networking: networks=True
    # the lab closes when the kernel ends: a closing cell would break the buttons after Run All
    # (a walk's close() undoes the cells' own walk only; the buttons drive another)
    closing = [
        line
        for source in code
        for line in source.splitlines()
        if re.match(r"\s*(?!walk\b)\w+\.close\(\)", line)
    ]
    assert closing == [], f"cells close what the step controls use: {closing}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_simulator_as_an_unprivileged_user(name):
    work = _short_tmp("sbx-nb-sim-")
    os.chmod(work, 0o711)  # nobody passes through to its own directory inside
    try:
        env = private_home(os.path.join(work, "nobody"))
        executed = os.path.join(work, "nobody", "executed.ipynb")
        scratch = os.path.join(work, "stage")
        os.makedirs(scratch)
        argv = as_nobody(
            [sys.executable, EXECUTE, os.path.join(NOTEBOOK_DIR, name), executed, "sim"], CHECKOUT, scratch
        )
        proc = subprocess.run(
            argv,
            env=env,
            cwd=env["HOME"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, _failure(proc, executed)
        assert_executed_cleanly(executed, "sim")
        assert kernel_uid(executed) == (NOBODY if os.geteuid() == 0 else os.geteuid())
        assert os.listdir(env["TMPDIR"]) == [] or not any(
            entry.startswith("stepbox-lab-") for entry in os.listdir(env["TMPDIR"])
        ), "the notebook left its lab's state directory behind"
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.linux
@pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_real_kernel(name):
    work = _short_tmp("sbx-nb-linux-")
    executed = os.path.join(work, "executed.ipynb")
    env = {key: value for key, value in os.environ.items() if not key.startswith("STEPBOX_")}
    # STEPBOX_BRIDGE=none: a notebook's daemon wires no bridge in the host's namespace
    env.update(TMPDIR=work, MPLCONFIGDIR=os.path.join(work, ".mpl"), STEPBOX_BRIDGE="none")
    try:
        proc = subprocess.run(
            [sys.executable, EXECUTE, os.path.join(NOTEBOOK_DIR, name), executed, "linux"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        left = leftovers(work)
        assert proc.returncode == 0, _failure(proc, executed)
        assert left == {"mounts": [], "cgroups": [], "processes": []}, f"the notebook left {left}"
        assert_executed_cleanly(executed, "linux")
    finally:
        clean_up(work)
        shutil.rmtree(work, ignore_errors=True)


def assert_executed_cleanly(path: str, backend: str) -> None:
    """Every code cell ran, none raised, and the lab was on ``backend``."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "some cells did not run"
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert errors == []
    shown = " ".join(
        str(output.get("data", {}).get("text/plain", "")) for cell in code for output in cell.outputs
    )
    assert f"backend='{backend}'" in shown, f"the notebook's lab did not run on {backend}"
    # in the interpreter running the tests (the venv's), not whatever a registered kernel names
    python = re.search(r"kernel python (.*)", _injected_output(path))
    assert python, "the notebook did not say which interpreter its kernel runs"
    assert python.group(1) == sys.executable


def _injected_output(path: str) -> str:
    notebook = nbformat.read(path, as_version=4)
    injected = next(cell for cell in notebook.cells if "injected-parameters" in cell.metadata.get("tags", []))
    return "".join(output.get("text", "") for output in injected.outputs)


def kernel_uid(path: str) -> int:
    text = _injected_output(path)
    found = re.search(r"kernel uid (\d+)", text)
    assert found, f"the notebook did not say its kernel uid: {text!r}"
    return int(found.group(1))
