"""The tutorial runner can fail: a wrong shown output, a failing command or a
raising Python block is reported at its line -- and whatever happens, the
daemon the tutorial started and its background jobs are gone afterwards.
On the simulator, with tutorials written here."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from .runner import kill_processes_naming, processes_naming, run_tutorial


@pytest.fixture
def work():
    # /tmp, not tmp_path: the daemon's UNIX socket path must fit in 108 bytes
    directory = tempfile.mkdtemp(prefix="sbx-tut-runner-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        yield directory
    finally:
        kill_processes_naming(directory)
        shutil.rmtree(directory, ignore_errors=True)


def run(work: str, markdown: str) -> list[str]:
    path = os.path.join(work, "en", "99-test.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(markdown)
    failures = run_tutorial(path, "sim", os.path.join(work, "run"))
    assert processes_naming(work) == [], "the daemon or a background job outlived the tutorial"
    return [str(failure) for failure in failures]


RIGHT = """# A tutorial

```console
$ stepbox run --rm busybox echo hello
...
hello
$ sleep 300 &
$ stepbox ps -aq
$ echo "exit $?"
exit 0
```
"""


def test_a_right_tutorial_passes_and_leaves_nothing_running(work):
    assert run(work, RIGHT) == []


def test_a_wrong_output_fails_at_its_line(work):
    failures = run(work, RIGHT.replace("\nhello\n", "\nhullo\n"))
    # (the rest of its block still runs, as in a terminal; the next block would not)
    assert failures and failures[0].startswith("en/99-test.md:4: $ stepbox run --rm busybox echo hello")
    assert "expected:" in failures[0] and "hullo" in failures[0]


def test_a_failing_command_fails(work):
    failures = run(work, "```console\n$ stepbox run --rm busybox sh -c 'exit 3'\n$ echo never\nnever\n```\n")
    assert len(failures) == 1 and "exited with status 3" in failures[0]


def test_a_raising_python_block_fails_and_stops_the_tutorial(work):
    failures = run(work, "```python\nassert 1 == 2, 'no'\n```\n```console\n$ echo never\nnever\n```\n")
    assert len(failures) == 1 and "AssertionError: no" in failures[0]
