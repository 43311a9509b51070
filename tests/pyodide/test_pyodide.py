"""Anywhere, proven: the simulator's in-process API under Pyodide (CPython compiled to
WebAssembly) in Node -- no fork, no threads, no sockets, no Linux underneath.

scripts/install.sh fetches the npm package `pyodide` and the wheels the run needs into
.pyodide/; the run itself is offline.  Node runs tests/pyodide/run.mjs, which writes
this checkout's stepbox into Pyodide's file system, installs hypothesis with micropip
from local files, and runs scenario.py: a container lifecycle (run, a stepped-through
walk, exec, diff, stop, remove), a Dockerfile build (and its cache, and a run of the
image), a Hypothesis property of the simulator.  Each part prints an ``ok`` line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
INSTALLED = os.path.join(REPO, ".pyodide")
PYODIDE = os.path.join(INSTALLED, "node_modules", "pyodide")
WHEELS = os.path.join(INSTALLED, "wheels")

PARTS = ("platform", "auto", "lifecycle", "build", "hypothesis", "imports")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "no node on this host (scripts/install.sh installs Debian's nodejs as root)"
    if not os.path.exists(os.path.join(PYODIDE, "pyodide.mjs")) or not os.path.isdir(WHEELS):
        return "Pyodide is not installed in .pyodide/ (scripts/install.sh installs it where npm exists)"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_missing() is not None, reason=_missing() or "")
def test_the_simulator_runs_under_pyodide_in_node():
    started = time.monotonic()
    done = subprocess.run(
        ["node", os.path.join(HERE, "run.mjs"), PYODIDE, WHEELS, REPO, os.path.join(HERE, "scenario.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE,
    )
    took = time.monotonic() - started
    report = f"exit {done.returncode} after {took:.0f}s\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr[-6000:]}"
    assert done.returncode == 0, report
    lines = done.stdout.splitlines()
    seen = [line.split(":", 1)[0].removeprefix("ok ") for line in lines if line.startswith("ok ")]
    assert seen == list(PARTS), report
    assert "ok platform: emscripten, Python 3." in done.stdout, report
    assert any(line.startswith("done in ") for line in lines), report
    print(done.stdout)  # the run's own lines and times, for -s / the CI log
