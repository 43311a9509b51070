"""podman runs containers through stepbox-runc (``podman --runtime``).

Debian's podman (with conmon) and stepbox's busybox loaded from a saved tar
(no registry is reachable here); podman's storage, run root, temp dir and
configuration all live under the test's own directory (vfs storage, cgroupfs,
events to a file, no network), so nothing of the host's podman is touched."""

from __future__ import annotations

import glob
import os
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from bundles import linux_root, stepbox_runc
from stepbox.core.image.archive import save
from stepbox.core.image.bootstrap import ensure_busybox

from tests.core.engines import runtime_on

pytestmark = linux_root


def test_podman_run_rm_through_stepbox_runc():
    for tool in ("podman", "conmon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install podman)")
    if len(stepbox_runc()) != 1:
        pytest.skip("stepbox-runc is not installed as a console script (pip install -e .)")
    d = Path(tempfile.mkdtemp(prefix="sbpm-", dir="/tmp"))  # podman: a run root under 50 characters
    (d / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{d}/root"\nrunroot = "{d}/runroot"\n'
    )
    (d / "containers.conf").write_text(
        f'[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\ntmp_dir = "{d}/tmp"\n'
        '[containers]\nnetns = "none"\n'
    )
    env = {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": f"{d}/storage.conf",
        "CONTAINERS_CONF": f"{d}/containers.conf",
    }
    podman = [
        "podman", "--root", f"{d}/root", "--runroot", f"{d}/runroot", "--tmpdir", f"{d}/tmp",
        "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
    ]  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*podman, *args], env=env, capture_output=True, text=True, timeout=120)

    parents_before = set(glob.glob("/sys/fs/cgroup/*/libpod_parent"))
    runtime, cleanup = runtime_on("sim")
    try:
        image = ensure_busybox(runtime.images, runtime.kernel)
        with open(d / "busybox.tar", "wb") as f:
            save(runtime.images, [(image, ["busybox:latest"])], f)
    finally:
        cleanup()
    try:
        loaded = run("load", "-i", str(d / "busybox.tar"))
        assert loaded.returncode == 0, loaded.stderr
        # podman asks for RLIMIT_NOFILE 1048576: raising a hard limit needs
        # CAP_SYS_RESOURCE, which root may lack (runc fails alike); ask for
        # what this process has.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        done = run(
            "--runtime", stepbox_runc()[0], "run", "--rm", "--network", "none",
            "--ulimit", f"nofile={min(hard, 1024)}:{min(hard, 1024)}", "--ulimit", "nproc=1024:1024",
            "busybox", "sh", "-c", "echo hi; cat /proc/self/cgroup | grep -c libpod; exit 3",
        )  # fmt: skip
        assert (done.returncode, done.stdout.split()[0]) == (3, "hi"), done.stderr
        assert int(done.stdout.split()[1]) >= 1  # in podman's cgroup (libpod_parent/libpod-ID)
        assert run("ps", "-a", "-q").stdout.strip() == ""  # --rm: removed (stepbox-runc delete)
    finally:
        run("rm", "-a", "-f")
        run("rmi", "-a", "-f")
        subprocess.run(["umount", "-R", f"{d}/root"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
        # podman's parent cgroup (cgroupfs manager) is its to keep; ours to remove
        for parent in set(glob.glob("/sys/fs/cgroup/*/libpod_parent")) - parents_before:
            for dirpath, _dirs, _files in sorted(os.walk(parent), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)  # conmon's sub-group first, then the parent
                except OSError:
                    pass
