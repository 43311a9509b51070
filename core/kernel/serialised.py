"""A kernel whose every call is made under one lock: for a backend that is
not thread-safe (``Kernel.thread_safe`` is False -- the simulator).

The daemon serves many clients on many threads.  The real kernel takes
calls from all of them at once; the simulated one is plain Python objects
(a process table, a scheduler, in-memory filesystems) that one thread at a
time may touch.  Wrapping it here keeps that rule in one place: each call
of an interface -- ``spawn``, ``mount``, a handle's ``wait`` -- holds
:attr:`SerialisedKernel.lock` for as long as it runs, and nothing else does.
So the daemon's bookkeeping (records, names, waiting for news) never waits
for the kernel, and two threads never are inside the simulator together.

Objects a call hands out that reach back into the kernel later -- process
handles, a layer's file operations -- are wrapped the same way; a lazy
result (``changes``) is read to its end under the lock.  Everything else a
call returns is plain data.
"""

from __future__ import annotations

import builtins
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .cgroups import CgroupLimits, Cgroups, CgroupStats
from .devices import DeviceNode, DeviceRule
from .host_mounts import HostMounts
from .kernel import HostFacts, Kernel
from .namespaces import NamespaceKind, Namespaces
from .network import Firewall, NetnsView, Network
from .observe import MountEntry, ProcessInfo
from .processes import (
    ROOT,
    Credentials,
    ExitStatus,
    MountSpec,
    Privileges,
    Processes,
    ProcessHandle,
    ProcessSettings,
    Rlimit,
    SpawnSpec,
    Stdio,
)
from .seccomp import SeccompFilter
from .unionfs import FileOps, LayerEntry, NewName, StatResult, UnionFS, UnionMount

T = TypeVar("T")


class _Serialised:
    def __init__(self, lock: threading.RLock):
        self._lock = lock

    def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return function(*args, **kwargs)


class SerialisedKernel(Kernel):
    """``inner``, with every call made under :attr:`lock` (reentrant: a
    caller may hold it across several calls that must not be interleaved,
    as the daemon's exit monitors do to move the simulated clock)."""

    def __init__(self, inner: Kernel):
        self.inner = inner
        self.lock = threading.RLock()
        self.name = inner.name
        self.tracer = inner.tracer
        self.thread_safe = True  # now
        self.containers_outlive_program = inner.containers_outlive_program
        self.storage_driver = inner.storage_driver
        self.description = inner.description
        self.namespaces = _Namespaces(inner.namespaces, self.lock)
        self.cgroups = _Cgroups(inner.cgroups, self.lock)
        self.unionfs = _UnionFS(inner.unionfs, self.lock)
        self.processes = _Processes(inner.processes, self.lock)
        self.host_mounts = _HostMounts(inner.host_mounts, self.lock)
        self.no_network_why = inner.no_network_why
        self.network = None if inner.network is None else _Network(inner.network, self.lock)

    def cgroup_version(self) -> str:
        with self.lock:
            return self.inner.cgroup_version()

    def mounts(self, pid: int) -> list[MountEntry]:
        with self.lock:
            return self.inner.mounts(pid)

    def capabilities(self, pid: int) -> frozenset[str]:
        with self.lock:
            return self.inner.capabilities(pid)

    def busybox(self) -> tuple[bytes, list[str]] | None:
        with self.lock:
            return self.inner.busybox()

    def host_facts(self) -> HostFacts:
        with self.lock:
            return self.inner.host_facts()

    def host_devices(self, path: str) -> list[DeviceNode]:
        with self.lock:
            return self.inner.host_devices(path)

    def docker_init(self) -> str | None:
        with self.lock:
            return self.inner.docker_init()

    def close(self) -> None:
        with self.lock:
            self.inner.close()


class _Network(_Serialised, Network):
    """Every call under the lock but :meth:`connect`.  A connection into the
    simulator is made *by the thread that runs it* (one moving the clock,
    under the lock): the caller only queues it and waits -- holding the lock
    while waiting would stop the very thread that answers."""

    def __init__(self, inner: Network, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def create_bridge(self, name: str, mac: str = "") -> None:
        self._call(self.inner.create_bridge, name, mac)

    def create_veth(self, name: str, peer: str) -> None:
        self._call(self.inner.create_veth, name, peer)

    def delete_link(self, name: str, netns: int | None = None) -> None:
        self._call(self.inner.delete_link, name, netns)

    def set_master(self, name: str, bridge: str) -> None:
        self._call(self.inner.set_master, name, bridge)

    def move_to_netns(self, name: str, pid: int, new_name: str) -> None:
        self._call(self.inner.move_to_netns, name, pid, new_name)

    def set_up(self, name: str, netns: int | None = None, mac: str = "") -> None:
        self._call(self.inner.set_up, name, netns, mac)

    def add_address(self, name: str, cidr: str, netns: int | None = None) -> None:
        self._call(self.inner.add_address, name, cidr, netns)

    def add_default_route(self, gateway: str, device: str, netns: int | None = None) -> None:
        self._call(self.inner.add_default_route, gateway, device, netns)

    def view(self, netns: int | None = None) -> NetnsView:
        return self._call(self.inner.view, netns)

    def host_resolv_conf(self) -> str:
        return self._call(self.inner.host_resolv_conf)

    def enable_forwarding(self) -> None:
        self._call(self.inner.enable_forwarding)

    def apply_firewall(self, rules: Firewall) -> None:
        self._call(self.inner.apply_firewall, rules)

    def firewall_text(self) -> str:
        return self._call(self.inner.firewall_text)

    def open_socket(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        return self._call(self.inner.open_socket, proto, address, port, netns)

    def connect(self, proto: str, address: str, port: int, netns: int | None = None) -> socket.socket:
        return self.inner.connect(proto, address, port, netns)


def serialised(kernel: Kernel) -> Kernel:
    """``kernel`` as several threads may use it: itself if it is thread-safe."""
    return kernel if kernel.thread_safe else SerialisedKernel(kernel)


class _Namespaces(_Serialised, Namespaces):
    def __init__(self, inner: Namespaces, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def of(self, pid: int) -> dict[NamespaceKind, int]:
        return self._call(self.inner.of, pid)

    def hostname(self, pid: int) -> str:
        return self._call(self.inner.hostname, pid)

    def interfaces(self, pid: int) -> dict[str, bool]:
        return self._call(self.inner.interfaces, pid)

    def host(self) -> dict[NamespaceKind, int]:
        return self._call(self.inner.host)

    def pid_in_namespace(self, pid: int) -> int:
        return self._call(self.inner.pid_in_namespace, pid)


class _Cgroups(_Serialised, Cgroups):
    def __init__(self, inner: Cgroups, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def create(self, path: str) -> None:
        self._call(self.inner.create, path)

    def set_limits(self, path: str, limits: CgroupLimits) -> None:
        self._call(self.inner.set_limits, path, limits)

    def add_process(self, path: str, pid: int) -> None:
        self._call(self.inner.add_process, path, pid)

    def procs(self, path: str) -> list[int]:
        return self._call(self.inner.procs, path)

    def stats(self, path: str) -> CgroupStats:
        return self._call(self.inner.stats, path)

    def freeze(self, path: str) -> None:
        self._call(self.inner.freeze, path)

    def thaw(self, path: str) -> None:
        self._call(self.inner.thaw, path)

    def remove(self, path: str) -> None:
        self._call(self.inner.remove, path)

    def exists(self, path: str) -> bool:
        return self._call(self.inner.exists, path)

    def list(self) -> list[str]:
        return self._call(self.inner.list)

    def set_devices(self, path: str, rules: builtins.list[DeviceRule]) -> None:
        self._call(self.inner.set_devices, path, rules)

    def device_rules(self, path: str) -> builtins.list[str]:
        return self._call(self.inner.device_rules, path)


class _FileOps(_Serialised, FileOps):
    def __init__(self, inner: FileOps, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def lstat(self, path: str) -> StatResult:
        return self._call(self.inner.lstat, path)

    def stat(self, path: str) -> StatResult:
        return self._call(self.inner.stat, path)

    def listdir(self, path: str) -> list[str]:
        return self._call(self.inner.listdir, path)

    def read(self, path: str) -> bytes:
        return self._call(self.inner.read, path)

    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        self._call(self.inner.write, path, data, append=append, mode=mode)

    def truncate(self, path: str, size: int) -> None:
        self._call(self.inner.truncate, path, size)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        self._call(self.inner.mkdir, path, mode)

    def rmdir(self, path: str) -> None:
        self._call(self.inner.rmdir, path)

    def unlink(self, path: str) -> None:
        self._call(self.inner.unlink, path)

    def rename(self, src: str, dst: str) -> None:
        self._call(self.inner.rename, src, dst)

    def symlink(self, target: str, path: str) -> None:
        self._call(self.inner.symlink, target, path)

    def link(self, src: str, dst: str) -> None:
        self._call(self.inner.link, src, dst)

    def readlink(self, path: str) -> str:
        return self._call(self.inner.readlink, path)

    def chmod(self, path: str, mode: int) -> None:
        self._call(self.inner.chmod, path, mode)

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._call(self.inner.chown, path, uid, gid)

    def set_mtime(self, path: str, mtime: float) -> None:
        self._call(self.inner.set_mtime, path, mtime)

    def exists(self, path: str) -> bool:
        return self._call(self.inner.exists, path)

    def make_names(self, names: Iterable[NewName]) -> None:
        self._call(self.inner.make_names, names)


class _UnionFS(_Serialised, UnionFS):
    def __init__(self, inner: UnionFS, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def import_layer(self, layer_id: str, entries: Iterable[LayerEntry]) -> None:
        self._call(self.inner.import_layer, layer_id, entries)

    def create_layer(self, layer_id: str) -> None:
        self._call(self.inner.create_layer, layer_id)

    def has_layer(self, layer_id: str) -> bool:
        return self._call(self.inner.has_layer, layer_id)

    def layers(self) -> list[str]:
        return self._call(self.inner.layers)

    def layer_files(self, layer_id: str) -> FileOps:
        return _FileOps(self._call(self.inner.layer_files, layer_id), self._lock)

    def changes(self, layer_id: str) -> Iterator[LayerEntry]:
        # Read to its end now: a generator would run its body later, unlocked.
        with self._lock:
            return iter(list(self.inner.changes(layer_id)))

    def mount(self, lowers: list[str], upper: str, name: str) -> UnionMount:
        return self._call(self.inner.mount, lowers, upper, name)

    def merged(self, mount: UnionMount) -> FileOps:
        return _FileOps(self._call(self.inner.merged, mount), self._lock)

    def unmount(self, mount: UnionMount) -> None:
        self._call(self.inner.unmount, mount)

    def mounted(self) -> list[UnionMount]:
        return self._call(self.inner.mounted)

    def remove_layer(self, layer_id: str) -> None:
        self._call(self.inner.remove_layer, layer_id)


class _HostMounts(_Serialised, HostMounts):
    def __init__(self, inner: HostMounts, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def mount(self, source: str, target: str, fstype: str, options: str) -> None:
        self._call(self.inner.mount, source, target, fstype, options)

    def unmount(self, target: str) -> None:
        self._call(self.inner.unmount, target)

    def is_mounted(self, target: str) -> bool:
        return self._call(self.inner.is_mounted, target)

    def files(self, path: str) -> FileOps:
        return _FileOps(self._call(self.inner.files, path), self._lock)

    def propagation(self, path: str) -> tuple[str, str]:
        return self._call(self.inner.propagation, path)

    @property
    def recursive_readonly(self) -> bool:
        return self._call(lambda: self.inner.recursive_readonly)


class _ProcessHandle(_Serialised, ProcessHandle):
    def __init__(self, inner: ProcessHandle, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner
        self.pid = inner.pid

    def __repr__(self) -> str:
        return repr(self.inner)

    def sethostname(self, name: str) -> None:
        self._call(self.inner.sethostname, name)

    def make_mounts_private(self) -> None:
        self._call(self.inner.make_mounts_private)

    def mount(self, spec: MountSpec, rootfs: str) -> None:
        self._call(self.inner.mount, spec, rootfs)

    def pivot_root(self, new_root: str) -> None:
        self._call(self.inner.pivot_root, new_root)

    def mask_paths(self, masked: list[str], readonly: list[str]) -> None:
        self._call(self.inner.mask_paths, masked, readonly)

    def bring_up_loopback(self) -> None:
        self._call(self.inner.bring_up_loopback)

    def make_device_nodes(self, nodes: list[DeviceNode], rootfs: str) -> None:
        self._call(self.inner.make_device_nodes, nodes, rootfs)

    def make_symlinks(self, links: list[tuple[str, str]], rootfs: str) -> None:
        self._call(self.inner.make_symlinks, links, rootfs)

    def load_seccomp(self, spec: SeccompFilter) -> None:
        self._call(self.inner.load_seccomp, spec)

    def drop_capabilities(
        self, keep: frozenset[str], user: Credentials = ROOT, effective: frozenset[str] | None = None
    ) -> None:
        self._call(self.inner.drop_capabilities, keep, user, effective)

    def set_no_new_privs(self) -> None:
        self._call(self.inner.set_no_new_privs)

    def set_rlimits(self, limits: tuple[Rlimit, ...]) -> None:
        self._call(self.inner.set_rlimits, limits)

    def open_terminal(self, window: tuple[int, int] | None = None) -> None:
        self._call(self.inner.open_terminal, window)

    def write_stdin(self, data: bytes) -> None:
        self._call(self.inner.write_stdin, data)

    def close_stdin(self) -> None:
        self._call(self.inner.close_stdin)

    def resize_terminal(self, rows: int, columns: int) -> None:
        self._call(self.inner.resize_terminal, rows, columns)

    def exec(
        self, argv: list[str], env: dict[str, str], cwd: str = "/", user: tuple[int, int] | None = None
    ) -> None:
        self._call(self.inner.exec, argv, env, cwd, user)

    def signal(self, sig: int) -> None:
        self._call(self.inner.signal, sig)

    def wait(self, timeout: float | None = None) -> ExitStatus | None:
        # On the simulator a wait *runs* the simulation (for at most
        # ``timeout`` of virtual time): it must hold the lock throughout.
        return self._call(self.inner.wait, timeout)

    def record(self) -> dict[str, Any]:
        return self._call(self.inner.record)


class _Processes(_Serialised, Processes):
    def __init__(self, inner: Processes, lock: threading.RLock):
        super().__init__(lock)
        self.inner = inner

    def _handle(self, handle: ProcessHandle) -> ProcessHandle:
        return _ProcessHandle(handle, self._lock)

    def spawn(self, spec: SpawnSpec) -> ProcessHandle:
        return self._handle(self._call(self.inner.spawn, spec))

    def exec_in(
        self,
        target_pid: int,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        stdio: Stdio | None,
        *,
        user: Credentials = ROOT,
        privileges: Privileges | None = None,
        rlimits: tuple[Rlimit, ...] = (),
        settings: ProcessSettings | None = None,
        detach: bool = False,
    ) -> ProcessHandle:
        return self._handle(
            self._call(
                self.inner.exec_in,
                target_pid,
                argv,
                env,
                cwd,
                stdio,
                user=user,
                privileges=privileges,
                rlimits=rlimits,
                settings=settings,
                detach=detach,
            )
        )

    def reattach(self, record: dict[str, Any]) -> ProcessHandle | None:
        handle = self._call(self.inner.reattach, record)
        return None if handle is None else self._handle(handle)

    def list(self) -> list[ProcessInfo]:
        return self._call(self.inner.list)

    def exists(self, pid: int) -> bool:
        return self._call(self.inner.exists, pid)

    def live_inits(self) -> builtins.list[ProcessHandle]:
        return [self._handle(handle) for handle in self._call(self.inner.live_inits)]


__all__ = ["SerialisedKernel", "serialised"]
