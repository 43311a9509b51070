"""After a notebook or tutorial ran on the real kernel: what it left, and removing it.

A notebook that fails half-way never reaches ``lab.close()``: its containers'
processes, overlay mounts and cgroups would outlive the test.  Every lab
keeps its state under ``$TMPDIR/stepbox-lab-*``, and the tests point TMPDIR
at a directory of their own, so everything a run made can be found there:
the container IDs (``<root>/linux/containers/<id>``), the mounts under the
root, the processes in those containers' cgroups.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import time

CGROUP_ROOT = "/sys/fs/cgroup"


def _container_ids(directory: str) -> set[str]:
    ids = set()
    for containers in glob.glob(os.path.join(directory, "**", "linux", "containers"), recursive=True):
        ids |= {name for name in os.listdir(containers) if len(name) == 64}
    return ids


def _cgroup_dirs(container_id: str) -> list[str]:
    # stepbox/<id> in the v2 tree, or in each v1 controller's (the hybrid layout has both)
    return [
        path
        for pattern in ("stepbox", "*/stepbox")
        for path in glob.glob(os.path.join(CGROUP_ROOT, pattern, container_id))
        if os.path.isdir(path)
    ]


def _mounts_under(directory: str) -> list[str]:
    try:
        with open("/proc/self/mounts") as f:
            return [line.split()[1] for line in f if line.split()[1].startswith(directory.rstrip("/") + "/")]
    except OSError:
        return []


def leftovers(directory: str) -> dict[str, list[str]]:
    """Mounts, cgroups and container processes still there for runs under ``directory``."""
    cgroups, processes = [], []
    for cid in _container_ids(directory):
        for path in _cgroup_dirs(cid):
            cgroups.append(path)
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    processes += [pid for pid in f.read().split() if pid not in processes]
            except OSError:
                pass
    return {"mounts": _mounts_under(directory), "cgroups": cgroups, "processes": processes}


def clean_up(directory: str) -> None:
    """Kill, unmount and rmdir whatever :func:`leftovers` finds (best effort, repeated)."""
    for _round in range(3):
        found = leftovers(directory)
        if not any(found.values()):
            return
        for path in found["cgroups"]:
            if "/freezer/" in path:  # frozen tasks cannot act on SIGKILL: thaw them
                try:
                    with open(os.path.join(path, "freezer.state"), "w") as f:
                        f.write("THAWED")
                except OSError:
                    pass
        for pid in found["processes"]:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        time.sleep(0.2)
        for target in sorted(found["mounts"], key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)
        for path in sorted(found["cgroups"], key=len, reverse=True):
            try:
                os.rmdir(path)
            except OSError:
                pass


__all__ = ["clean_up", "leftovers"]
