"""Run userland programs on the REAL simulated kernel, in a busybox container.

``BusyboxBox(tmp_path).sh("echo hi")`` builds what ``docker run busybox sh
-c 'echo hi'`` builds -- the busybox image layer (from ``kernel.busybox()``:
the host's static busybox or the simulator's stand-in), a read-write layer,
a union mount, a process in new namespaces and its own cgroup with /proc,
/dev and /sys mounted, ``pivot_root`` -- then execs ``/bin/sh -c``.  The
applets that run are this package's Python programs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from stepbox.backends.sim import create_kernel
from stepbox.core.confinement.devices import DEFAULT_DEVICE_NODES
from stepbox.core.confinement.policy import MASKED_PATHS, READONLY_PATHS
from stepbox.core.container.plan import DEFAULT_MOUNTS
from stepbox.core.image.bootstrap import busybox_entries
from stepbox.core.kernel import DOCKER_DEFAULT_CAPABILITIES, Rlimit, SpawnSpec, Stdio
from stepbox.core.kernel.cgroups import CgroupLimits

_ids = itertools.count(1)
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}


@dataclass
class Result:
    stdout: str
    stderr: str
    status: int
    oom_killed: bool = False


def _text(path: Path) -> str:
    """A stdio file's contents (the kernel creates it on first write only)."""
    return path.read_bytes().decode("utf-8", "replace") if path.exists() else ""


class BusyboxBox:
    """One simulated kernel with the busybox image imported; every
    :meth:`run` is a fresh container on it."""

    def __init__(self, tmp: Path, kernel=None, stand_in: bool = False) -> None:
        """``stand_in``: build the image from SIM_BUSYBOX even if the host
        has a real busybox (what a macOS or Windows host gets)."""
        self.tmp = Path(tmp)
        self.k = kernel or create_kernel()
        self.k.raise_program_errors = True  # a crash in the userland fails the test
        if stand_in:
            from stepbox.backends.sim.userland import APPLETS, SIM_BUSYBOX

            binary, applets = SIM_BUSYBOX, list(APPLETS)
        else:
            binary, applets = self.k.busybox()
        self.layer = f"busybox-{next(_ids)}"
        self.k.unionfs.import_layer(self.layer, busybox_entries(binary, applets))

    def run(
        self,
        argv: list[str],
        *,
        stdin: bytes = b"",
        cwd: str = "/work",
        env: dict[str, str] | None = None,
        limits: CgroupLimits | None = None,
        files: dict[str, bytes] | None = None,
        rlimits: tuple[Rlimit, ...] = (),
        timeout: float | None = 600.0,
    ) -> Result:
        k = self.k
        name = f"c{next(_ids)}"
        upper = f"{name}-rw"
        k.unionfs.create_layer(upper)
        mount = k.unionfs.mount([self.layer], upper, name)
        merged = k.unionfs.merged(mount)
        for d in ("/work",):
            if not merged.exists(d):
                merged.mkdir(d)
        for path, data in (files or {}).items():
            merged.write(path, data, mode=0o755 if path.startswith("/bin/") else 0o644)
        cgroup = f"stepbox/{name}"
        k.cgroups.create(cgroup)
        if limits is not None:
            k.cgroups.set_limits(cgroup, limits)
        out, err, inp = (self.tmp / f"{name}.{s}" for s in ("out", "err", "in"))
        inp.write_bytes(stdin)
        handle = k.processes.spawn(SpawnSpec(cgroup=cgroup, stdio=Stdio(str(out), str(err), str(inp))))
        handle.sethostname(name)
        handle.make_mounts_private()
        for spec in DEFAULT_MOUNTS:
            handle.mount(spec, mount.target)
        handle.make_device_nodes(list(DEFAULT_DEVICE_NODES), mount.target)
        handle.pivot_root(mount.target)
        handle.mask_paths(list(MASKED_PATHS), list(READONLY_PATHS))
        handle.bring_up_loopback()
        if rlimits:
            handle.set_rlimits(rlimits)
        handle.drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)
        handle.exec(argv, dict(ENV if env is None else env), cwd=cwd)
        status = handle.wait(timeout)
        assert status is not None, f"{argv!r} did not finish within {timeout} virtual seconds"
        oom = bool(k.cgroups.stats(cgroup).memory_events.get("oom_kill"))
        return Result(_text(out), _text(err), status.code, oom)

    def sh(self, script: str, **kw) -> Result:
        return self.run(["sh", "-c", script], **kw)
