"""Helpers for the simulated-kernel tests: boot a kernel, build a small
container around a test program (a generator function), run it.

A test program is registered with the kernel's binfmt_misc
(:meth:`SimKernel.register_program`) and written into the container's root
filesystem as an executable file, so it is started by the same ``execve``
path as any real program.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from stepbox.backends.sim import SimKernel
from stepbox.backends.sim.memfs import MemFS
from stepbox.core.confinement.devices import DEFAULT_DEVICE_NODES
from stepbox.core.confinement.policy import MASKED_PATHS, READONLY_PATHS
from stepbox.core.container.plan import DEFAULT_MOUNTS
from stepbox.core.kernel import DOCKER_DEFAULT_CAPABILITIES, SpawnSpec, Stdio
from stepbox.core.kernel.cgroups import CgroupLimits
from stepbox.core.kernel.namespaces import DEFAULT_CONTAINER_NAMESPACES

_names = itertools.count(1)


def boot(**kw) -> SimKernel:
    k = SimKernel(**kw)
    k.raise_program_errors = True  # a bug in a test program fails the test
    return k


def program(k: SimKernel, fn, name: str | None = None) -> bytes:
    """The executable file contents that run ``fn``."""
    return k.register_program(name or f"{fn.__name__}-{next(_names)}", fn)


def attach_rootfs(k: SimKernel, name: str, fs: MemFS | None = None) -> tuple[str, MemFS]:
    """A MemFS mounted in the host's mount namespace, as the union FS does."""
    if fs is None:
        fs = MemFS()
        for d in ("/bin", "/proc", "/dev", "/sys", "/etc", "/tmp", "/root"):
            fs.mkdir(d)
        fs.chmod("/tmp", 0o1777)
    target = f"/var/lib/stepbox/test/{name}/merged"
    loc = k._mount_target(k.engine, target, None, True, True)
    k.vfs.attach(
        k.engine,
        loc,
        fs,
        "/",
        "overlay",
        "overlay",
        frozenset(),
        f"lowerdir=/l/{name},upperdir=/u/{name},workdir=/w/{name}",
    )
    return target, fs


def busybox_rootfs(k: SimKernel, name: str) -> str:
    """A busybox image (the one ``core.image.bootstrap`` builds) mounted
    through the kernel's union filesystem; returns the mount target."""
    from stepbox.core.image.bootstrap import busybox_entries

    if not k.unionfs.has_layer("busybox"):
        binary, applets = k.busybox()
        k.unionfs.import_layer("busybox", busybox_entries(binary, applets))
    k.unionfs.create_layer(f"{name}-rw")
    return k.unionfs.mount(["busybox"], f"{name}-rw", name).target


class Box:
    """A container made the way the lifecycle makes one (core/container/plan/),
    holding before exec so a test can look at it or run a program in it."""

    def __init__(
        self,
        k: SimKernel,
        tmp: Path,
        *,
        namespaces=DEFAULT_CONTAINER_NAMESPACES,
        limits: CgroupLimits | None = None,
        setup: bool = True,
        name: str | None = None,
        hostname: str | None = None,
        uid_map=(),
        gid_map=(),
        busybox: bool = False,
    ):
        self.k = k
        self.name = name or f"box{next(_names)}"
        self.cgroup = f"stepbox/{self.name}"
        k.cgroups.create(self.cgroup)
        if limits is not None:
            k.cgroups.set_limits(self.cgroup, limits)
        if busybox:
            self.rootfs, self.fs = busybox_rootfs(k, self.name), None
        else:
            self.rootfs, self.fs = attach_rootfs(k, self.name)
        self.out = tmp / f"{self.name}.out"
        self.err = tmp / f"{self.name}.err"
        self.handle = k.processes.spawn(
            SpawnSpec(
                namespaces=tuple(namespaces),
                cgroup=self.cgroup,
                stdio=Stdio(str(self.out), str(self.err)),
                uid_map=uid_map,
                gid_map=gid_map,
            )
        )
        self.pid = self.handle.pid
        self._proc = k.procs.get(self.pid)  # kept: still readable once reaped
        if setup:
            self.setup(hostname or self.name)

    def setup(self, hostname: str) -> None:
        h = self.handle
        h.sethostname(hostname)
        h.make_mounts_private()
        for spec in DEFAULT_MOUNTS:
            h.mount(spec, self.rootfs)
        h.make_device_nodes(list(DEFAULT_DEVICE_NODES), self.rootfs)
        h.pivot_root(self.rootfs)
        h.mask_paths(list(MASKED_PATHS), list(READONLY_PATHS))
        h.bring_up_loopback()
        h.drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)

    def enter_rootfs(self) -> None:
        """Only what it takes to run a program from the box's rootfs."""
        self.handle.make_mounts_private()
        self.handle.pivot_root(self.rootfs)

    def install(self, path: str, fn_or_bytes, mode: int = 0o755) -> str:
        assert self.fs is not None, "install() writes into a box made without busybox"
        data = fn_or_bytes if isinstance(fn_or_bytes, bytes) else program(self.k, fn_or_bytes)
        parent = path.rsplit("/", 1)[0]
        if parent and not self.fs.exists(parent):
            self.fs.mkdir(parent)
        self.fs.write(path, data, mode=mode)
        return path

    def exec(self, fn, argv: list[str] | None = None, env: dict | None = None, **kw):
        path = self.install(f"/bin/{getattr(fn, '__name__', 'prog')}", fn)
        self.handle.exec(argv or [path], env or {"PATH": "/bin"}, **kw)
        return self.handle

    def run(self, fn, argv: list[str] | None = None, timeout: float | None = None, **kw):
        self.exec(fn, argv, **kw)
        return self.handle.wait(timeout)

    def sh(self, script: str, timeout: float | None = None, env: dict | None = None):
        """Run ``sh -c SCRIPT`` as the container's command (busybox boxes)."""
        self.handle.exec(
            ["sh", "-c", script],
            env or {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        return self.handle.wait(timeout)

    def stdout(self) -> str:
        return self.out.read_text() if self.out.exists() else ""

    def stderr(self) -> str:
        return self.err.read_text() if self.err.exists() else ""

    @property
    def proc(self):
        return self._proc


def read_all(sys, path: str):
    """Generator helper: the whole contents of a file, for test programs."""
    fd = sys.open(path)
    chunks = []
    while True:
        data = yield from sys.read(fd)
        if not data:
            break
        chunks.append(data)
    sys.close(fd)
    return b"".join(chunks)


def say(sys, text: str, fd: int = 1) -> None:
    sys.write(fd, text.encode())
