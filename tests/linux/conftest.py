"""Fixtures for the Linux backend's tests.

Two kinds of test live here:

* ``*_fake.py`` -- file-level logic (cgroupfs drivers, /proc parsers) run
  against fake trees built with pyfakefs: they run on any OS, as any user;
* the others -- the real kernel, as root.  They are skipped, with a reason
  saying why, when this is not Linux or not root, and each of them gets its
  own state dir and its own cgroup base, and checks after itself that nothing
  leaked: no mount under the state dir, no cgroup, no process.
"""

from __future__ import annotations

import os
import secrets

import pytest
from linux_support import IS_LINUX_ROOT, NOT_LINUX_ROOT_REASON, base_dirs, state_mounts  # noqa: E402


@pytest.fixture
def linux_kernel(tmp_path):
    """A LinuxKernel on its own state dir and cgroup base; torn down and
    checked for leaks afterwards, whether the test passed or not."""
    if not IS_LINUX_ROOT:
        pytest.skip(NOT_LINUX_ROOT_REASON)
    from stepbox.backends.linux import create_kernel
    from stepbox.backends.linux.kernel import cleanup

    state = tmp_path / "state"
    base = f"stepbox-test-{os.getpid()}-{secrets.token_hex(4)}"
    kernel = create_kernel(str(state), cgroup_base=base)
    try:
        yield kernel
    finally:
        # The safety net: undo whatever the test did not (it should have).
        cleanup(str(state), kernel=kernel)
        leaked = {
            "mounts": state_mounts(str(state)),
            "cgroups": kernel.cgroups.list() + base_dirs(base),
            "processes": kernel.processes.alive_runs(),
        }
        assert leaked == {"mounts": [], "cgroups": [], "processes": []}, leaked


@pytest.fixture(scope="session")
def busybox_entries():
    """A busybox image layer as a changeset: the static binary, a hard link
    per applet in /bin, and the usual empty directories."""
    if not IS_LINUX_ROOT:
        pytest.skip(NOT_LINUX_ROOT_REASON)
    import subprocess

    from stepbox.backends.linux.kernel import BUSYBOX_PATHS, is_static_elf
    from stepbox.core.kernel import EntryKind, LayerEntry

    for path in BUSYBOX_PATHS:
        if os.path.exists(path):
            data = open(path, "rb").read()
            if is_static_elf(data):
                break
    else:
        pytest.skip("no static busybox on this host (apt-get install busybox-static)")
    applets = subprocess.run([path, "--list"], capture_output=True, text=True).stdout.split()
    entries = [
        LayerEntry("bin", EntryKind.DIR, 0o755),
        LayerEntry("bin/busybox", EntryKind.FILE, 0o755, data=data),
    ]
    entries += [
        LayerEntry(f"bin/{a}", EntryKind.HARDLINK, 0o755, link="bin/busybox")
        for a in sorted(set(applets))
        if a != "busybox" and "/" not in a
    ]
    for d in ("etc", "proc", "sys", "dev", "tmp", "root"):
        entries.append(LayerEntry(d, EntryKind.DIR, 0o1777 if d == "tmp" else 0o755))
    entries.append(LayerEntry("etc/passwd", EntryKind.FILE, 0o644, data=b"root:x:0:0:root:/root:/bin/sh\n"))
    return entries
