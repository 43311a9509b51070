"""What the benchmarks share: interleaved timing, medians with their spread,
the machine's load, and one ``main`` that parses the options and prints JSON.

Every figure is reported with the load average before and after it was
taken: on a shared machine another program's work slows both sides, but not
equally (a daemon in Go with many threads suffers differently from one
Python process), so a ratio taken on a busy machine is marked as such --
judged on the load *before*, as the load after counts the benchmark's own
work too (ten runs at once on 2 cores make a load of 3 by themselves).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

# The repository root, so that a benchmark can import tests.support.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def interleaved(subjects: dict[str, Callable[[], object]], rounds: int, warm_up: int = 1) -> dict:
    """Time each subject ``rounds`` times, one of each per round in turn
    (the order rotating each round), after ``warm_up`` untimed rounds: a
    change of load during the run falls on all of them alike.  Returns each
    subject's :func:`spread` and the load average before (the warm-up
    too) and after.  Only "before" says how busy the machine was: "after"
    counts the subjects' own work as well."""
    names = list(subjects)
    before = load_average()  # before any of it, the warm-up too: what else the machine did
    for _ in range(warm_up):
        for name in names:
            subjects[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            subjects[name]()
            samples[name].append(time.perf_counter() - start)
    return {
        "seconds": {name: spread(s) for name, s in samples.items()},
        "load_average": {"before": before, "after": load_average()},
    }


def spread(samples: list[float]) -> dict:
    """Median, min and max of ``samples`` (seconds, to the microsecond)."""
    return {
        "median": round(statistics.median(samples), 6),
        "min": round(min(samples), 6),
        "max": round(max(samples), 6),
        "n": len(samples),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 2)


def quiet(cmd: list[str], **kw) -> None:
    """Run a command to its end; its output is not the benchmark's."""
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def stepbox_command() -> list[str]:
    """The ``stepbox`` command as a user runs it: the venv's console script
    (what ``pip install`` made), else ``python -m stepbox``."""
    script = os.path.join(os.path.dirname(sys.executable), "stepbox")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "stepbox"]


def bytecode_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with Python's bytecode kept, as in a normal
    installation (some shells set PYTHONDONTWRITEBYTECODE, which makes every
    command compile itself again)."""
    return {k: v for k, v in (base or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}


def main(
    doc: str,
    measure: Callable[[argparse.Namespace], dict],
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    needs_docker: bool = False,
) -> None:
    """A benchmark's command line: its options, then one JSON document.
    ``needs_docker``: it compares with a private dockerd, so it says why it
    cannot (no root, no dockerd) instead of failing half-way."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    if needs_docker:
        from tests.support.dockerd import unavailable_reason

        reason = unavailable_reason()
        if reason:
            sys.exit(f"cannot compare with Docker here: {reason}")
    print(json.dumps(measure(args), indent=2))
