"""top -b on the simulator against REAL busybox top: the header lines, the
process table read from /proc, the screens of -n/-d, option spellings
without dashes, errors.  What differs between two runs of the real thing
is normalised (as the df/du tests do): the figures of the Mem/CPU/Load
lines (the host's memory and CPUs vs the simulated kernel's), each row's
VSZ, %VSZ and %CPU, and the order of rows (top sorts by %CPU, then VSZ)."""

from __future__ import annotations

import re

import pytest

ROW = re.compile(r"^(\s*\d+\s+\d+ \S+\s+\S+\s+)\S+\s+\d+%\s+\d+% (.*)$")


def normalise(text: str) -> str:
    lines = []
    rows: list[str] = []
    for line in text.split("\n"):
        m = ROW.match(line)
        if m:
            rows.append(f"{m.group(1)}VSZ %VSZ %CPU {m.group(2)}")
            continue
        lines += sorted(rows)
        rows = []
        line = re.sub(r"^Mem: .*", "Mem: ...", line)
        line = re.sub(r"^(CPU:)?\s*\d+% usr.*", "CPU: ...", line)
        line = re.sub(r"^Load average: .*", "Load average: ...", line)
        lines.append(line)
    return "\n".join(lines + sorted(rows))


CASES = [
    "top -b -n 1; echo rc $?",
    "sleep 2 & top b n 1 d 0.1; echo rc $?; top -n 2 -d 0 -b | wc -l; top -bH -n1 | tail -3; kill $!",
    "top -bn1 | tail -c 3 | od -c; top -bn 1 -d 0.1s | head -4",
    "top -x; echo rc $?; top -b -n x; echo rc $?; top -b -n1 -d x; echo rc $?; top -b -n -1 | head -1; echo rc $?",
    "su nobody -s /bin/sh -c 'sleep 2' & sleep 0.2; top -b -n 1 | grep -c nobody; kill $!",
    # a command line longer than top's line buffer is cut where busybox cuts it
    "sh -c \"sleep 2; : $(printf '%0500d' 7)\" & sleep 0.2; top -b -n 1 | grep sleep | wc -c; kill $!",
]


@pytest.mark.parametrize("script", CASES)
def test_top_batch(same, script):
    same(script, normalise=normalise)
