"""Which new container cgroups the leftover check counts as its run's, on a cgroup tree
built in a temp dir (the real one is shared with whatever else runs on the machine).

A cgroup with a process of the run's is the run's; one with only someone else's
processes is not; an empty one is the run's when its container ID names something
in the run's directories, and otherwise only reported.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import leftovers
from tests.support.leftovers import TOKEN_VARIABLE, Run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc (Linux only)")


def container_id(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    for hierarchy in ("memory", "unified"):
        (root / hierarchy / "stepbox").mkdir(parents=True)
    monkeypatch.setattr(leftovers, "CGROUP_ROOT", str(root))
    return root


def make_cgroup(tree, n: int, pids=()) -> None:
    for hierarchy in ("memory", "unified"):
        group = tree / hierarchy / "stepbox" / container_id(n)
        group.mkdir()
        (group / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in pids))


def sleeper(env: dict) -> subprocess.Popen:
    return subprocess.Popen(["sleep", "60"], env=env)


def test_new_cgroups_are_counted_by_whose_processes_they_hold(tree, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    make_cgroup(tree, 1)  # there before the run: never counted
    run = Run.begin("t0k3n", [str(own)])
    run.settle_seconds = 0.2
    ours = sleeper({**os.environ, TOKEN_VARIABLE: "t0k3n"})
    theirs = sleeper({k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE})
    try:
        make_cgroup(tree, 2, [ours.pid])  # the run's process
        make_cgroup(tree, 3, [theirs.pid])  # someone else's
        make_cgroup(tree, 4)  # empty, and the run's state names it
        (own / "containers" / container_id(4)).mkdir(parents=True)
        make_cgroup(tree, 5)  # empty, nothing of the run's names it
        left = run.leftovers()
    finally:
        for p in (ours, theirs):
            p.kill()
            p.wait()
    counted = sorted(os.path.basename(p.split()[0]) for p in left["cgroups"])
    assert counted == [container_id(2)] * 2 + [container_id(4)] * 2
    assert sorted(os.path.basename(p) for p in run.unknown_cgroups) == [container_id(5)] * 2
    assert all(p.endswith("(empty)") for p in left["cgroups"] if container_id(4) in p)
