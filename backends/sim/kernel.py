"""``SimKernel``: the simulated kernel, all of its parts wired together.

At boot it builds what a small Linux host has after init started:

* the initial namespaces (with the kernel's fixed inode numbers) -- hostname
  ``sim-host``, a network namespace with ``lo`` and ``eth0`` up;
* a root filesystem (a :class:`MemFS`) with ``/proc``, ``/sys``,
  ``/sys/fs/cgroup`` (cgroup v2), ``/dev`` (devtmpfs) mounted on it, all
  *shared* mounts as systemd leaves them;
* PID 1, ``/sbin/init``.  It also stands for the engine: the container
  processes the engine starts are its children (the role containerd-shim
  plays on a Docker host), and host-side reads of ``/proc/self`` see it.

The parts: :class:`~.scheduler.Scheduler` (virtual clock, run queue),
:class:`~.process_table.ProcessTable`, :class:`~.signals.Signals`,
:class:`~.vfs.VFS`, :class:`~.cgroups.SimCgroups`,
:class:`~.namespaces.SimNamespaces`, :class:`~.processes.SimProcesses` and the
union filesystem (:class:`~.unionfs.SimUnionFS`, whose mounts are attached
to the host's mount table here).
"""

from __future__ import annotations

import errno
import functools
import os
import random
import struct
import sys as _sys
import time
from collections.abc import Iterable, Iterator

from stepbox.core.kernel.devices import DeviceNode
from stepbox.core.kernel.kernel import HostFacts, Kernel
from stepbox.core.kernel.observe import MountEntry
from stepbox.core.kernel.trace import Tracer
from stepbox.core.kernel.unionfs import FileOps, LayerEntry, UnionFS, UnionMount

from .affinity import machine_cpus
from .cgroups import SimCgroups
from .flow import oserror
from .fstypes import make_devtmpfs, make_sysfs, new_filesystem
from .host_mounts import SimHostMounts
from .kmsg import KERN_NOTICE, KernelLog
from .loader import MISC_MAGIC
from .memfs import MemFS
from .mounts import MS_NAMES, PROPAGATION, Mount, MountTable, parse_mount_options
from .namei import path_walk
from .namespaces import (
    INITIAL_INODES,
    CgroupNamespace,
    InodeAllocator,
    IpcNamespace,
    MountNamespace,
    Namespace,
    NetNamespace,
    NsProxy,
    PidNamespace,
    SimNamespaces,
    UserNamespace,
    UtsNamespace,
)
from .net.fabric import HOST_ADDRESS, HOST_NAMESERVER, OUTSIDE_ROUTER
from .net.network import SimNetwork, stack_of_ns
from .net.stack import Link, Net4
from .process_table import ProcessTable
from .processes import SimProcesses
from .procfs import KERNEL_RELEASE, KERNEL_VERSION, ProcFS
from .scheduler import Scheduler
from .signals import Signals
from .unionfs import SimUnionFS
from .userland import APPLETS, SIM_BUSYBOX, find_program
from .vfs import DIR, VFS

HOST_NAME = "sim-host"


class SimKernel(Kernel):
    name = "sim"
    thread_safe = False  # plain Python objects: one caller at a time
    containers_outlive_program = False  # its processes live in this program
    storage_driver = "stepbox-sim"
    description = "the simulated kernel (pure Python, no root needed)"
    # The interfaces, as this backend implements them (the simulator's own
    # parts use what they offer besides).
    cgroups: SimCgroups
    processes: SimProcesses
    namespaces: SimNamespaces
    unionfs: HostMountedUnionFS
    host_mounts: SimHostMounts
    network: SimNetwork
    # Set by SimProcesses: which boot a process record belongs to, and the
    # empty read-only tmpfs that masks paths (/proc/kcore ...).
    boot_id: int
    empty_ro_fs: MemFS

    def __init__(
        self,
        state_dir: str | None = None,
        tracer: Tracer | None = None,
        unionfs: UnionFS | None = None,
        seed: int = 0,
    ):
        self.tracer = tracer if tracer is not None else Tracer()
        self.random = random.Random(seed)
        self.raise_program_errors = False  # True: a crashing program raises in wait()
        self.boot_wall = time.time()
        self.sched = Scheduler(self)
        self.signals = Signals(self)
        self.vfs = VFS(self)
        self.cgroups = SimCgroups(self)
        self.new_inode = InodeAllocator()
        # The CPUs sched_getaffinity reports (.affinity): the host's online
        # ones, and the first task's mask, as the host process's.
        self.cpus_online, self.cpus_at_boot = machine_cpus()
        self.time_ns_inode = INITIAL_INODES["time"]
        self._misc: dict[str, object] = {}  # binfmt_misc: registered programs by name
        self._binfmt_cache: dict = {}
        self._boot()
        self.namespaces = SimNamespaces(self)
        self.processes = SimProcesses(self)
        self.network = SimNetwork(self)
        if unionfs is None:
            unionfs = SimUnionFS(self.tracer, state_dir, clock=self.wall_clock)
        self.unionfs = HostMountedUnionFS(self, unionfs)
        self.host_mounts = SimHostMounts(self)

    def wall_clock(self) -> float:
        """File times: the real time at boot plus the virtual time since."""
        return self.boot_wall + self.sched.now / 1_000_000

    # -- boot -------------------------------------------------------------------------
    def _boot(self) -> None:
        ino = INITIAL_INODES
        user = UserNamespace("user", ino["user"])
        self.init_pidns = PidNamespace("pid", ino["pid"])
        self.procs = ProcessTable(self, self.init_pidns)
        self.devfs = make_devtmpfs(self)
        self.devfs_options = "size=4096k,nr_inodes=1024,mode=755"
        self.sysfs = make_sysfs(self)
        self.cgroupfs = MemFS(clock=self.wall_clock)
        self.rootfs = root = MemFS(clock=self.wall_clock)
        for d in (
            "/bin",
            "/sbin",
            "/etc",
            "/dev",
            "/proc",
            "/sys",
            "/tmp",
            "/root",
            "/home",
            "/run",
            "/usr",
            "/usr/bin",
            "/usr/sbin",
            "/var",
            "/var/lib",
            "/var/lib/stepbox",
        ):
            root.mkdir(d)
        root.chmod("/tmp", 0o1777)
        root.write("/etc/hostname", f"{HOST_NAME}\n".encode())
        root.write("/etc/hosts", b"127.0.0.1\tlocalhost\n")
        root.write("/etc/resolv.conf", f"nameserver {HOST_NAMESERVER}\n".encode())
        root.write("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")

        table = MountTable()
        new_id = self.vfs.new_mount_id
        rootm = Mount(new_id(), 0, "/", root, "/", "/dev/sda1", "ext4", frozenset(), "", shared=True)
        table.add(rootm)
        table.root_id = rootm.id
        procm = Mount(
            new_id(),
            rootm.id,
            "/proc",
            ProcFS(self, self.init_pidns),
            "/",
            "proc",
            "proc",
            frozenset({"nosuid", "nodev", "noexec"}),
            "",
            shared=True,
        )
        sysm = Mount(
            new_id(),
            rootm.id,
            "/sys",
            self.sysfs,
            "/",
            "sysfs",
            "sysfs",
            frozenset({"nosuid", "nodev", "noexec"}),
            "",
            shared=True,
        )
        devm = Mount(
            new_id(),
            rootm.id,
            "/dev",
            self.devfs,
            "/",
            "udev",
            "devtmpfs",
            frozenset({"nosuid"}),
            self.devfs_options,
            shared=True,
        )
        cgm = Mount(
            new_id(),
            sysm.id,
            "/fs/cgroup",
            self.cgroupfs,
            "/",
            "cgroup2",
            "cgroup2",
            frozenset({"nosuid", "nodev", "noexec"}),
            "",
            shared=True,
        )
        for m in (procm, sysm, devm, cgm):
            table.add(m)
        mnt = MountNamespace("mnt", ino["mnt"], table=table)
        net = NetNamespace("net", ino["net"])
        _boot_host_network(net)
        self.host_ns = NsProxy(
            uts=UtsNamespace("uts", ino["uts"], hostname=HOST_NAME),
            ipc=IpcNamespace("ipc", ino["ipc"]),
            mnt=mnt,
            pid_for_children=self.init_pidns,
            net=net,
            cgroup=CgroupNamespace("cgroup", ino["cgroup"], root=self.cgroups.root),
            user=user,
        )
        init = self.procs.create(None, self.init_pidns, self.cgroups.root)
        init.ns = self.host_ns
        init.root = init.cwd = (rootm.id, "/")
        init.argv, init.comm, init.exe = ["/sbin/init"], "init", "/sbin/init"
        self.init = init
        self.engine = init  # the parent of what Processes.spawn starts
        self.klog = KernelLog(self)
        self.klog.printk(KERN_NOTICE, f"Linux version {KERNEL_RELEASE} (stepbox simulator) {KERNEL_VERSION}")

    # -- namespaces for a new process ---------------------------------------------------
    def clone_namespaces(self, parent, kinds: Iterable[str], uid_map=(), gid_map=()):
        """The NsProxy (and the PID namespace) of a child cloned with the
        CLONE_NEW* flags for ``kinds``; everything else is shared."""
        ns = parent.ns
        kinds = {getattr(k, "value", k) for k in kinds}
        if not kinds:
            return ns, ns.pid_for_children
        new = self.new_inode
        changes: dict[str, Namespace] = {}
        if "uts" in kinds:
            changes["uts"] = UtsNamespace(
                "uts", new(), hostname=ns.uts.hostname, domainname=ns.uts.domainname
            )
        if "ipc" in kinds:
            changes["ipc"] = IpcNamespace("ipc", new())
        if "mnt" in kinds:
            changes["mnt"] = MountNamespace("mnt", new(), table=self.vfs.share(ns.mnt.table))
        if "net" in kinds:
            changes["net"] = NetNamespace("net", new())
        if "user" in kinds:
            changes["user"] = UserNamespace(
                "user",
                new(),
                parent=ns.user,
                uid_map=tuple(uid_map) or ((0, parent.uid, 1),),
                gid_map=tuple(gid_map) or ((0, parent.gid, 1),),
            )
        if "cgroup" in kinds:
            changes["cgroup"] = CgroupNamespace("cgroup", new(), root=None)  # set on join
        pidns = ns.pid_for_children
        if "pid" in kinds:
            pidns = PidNamespace("pid", new(), parent=pidns)
            changes["pid_for_children"] = pidns
        get = changes.get
        return NsProxy(
            get("uts", ns.uts),
            get("ipc", ns.ipc),
            get("mnt", ns.mnt),
            get("pid_for_children", ns.pid_for_children),
            get("net", ns.net),
            get("cgroup", ns.cgroup),
            get("user", ns.user),
        ), pidns

    # -- mounting (shared by Sys.mount and the handle) ---------------------------------
    def mount_as(
        self,
        proc,
        source: str,
        target: str,
        fstype: str,
        options,
        *,
        create: bool = False,
        start=None,
        shown_target: str | None = None,
    ) -> Mount | None:
        """mount(2) performed by ``proc``.  ``start`` (a Loc) resolves
        ``target`` inside that directory (a rootfs before pivot_root);
        ``create`` makes a missing target like runc does (mkdir -p, or an
        empty file for a bind mount of a file)."""
        vfs = self.vfs
        options, recursive_readonly, flags, data, bind, propagation = _prepared_options(options)
        if fstype == "bind":
            bind = True
        if "remount" in options:
            return self._remount(proc, target, flags, start, shown_target)
        if propagation and not bind and fstype in ("", "none"):
            if propagation == "private":
                vfs.make_private(proc)
            return None
        src = None
        is_dir = True
        if bind:
            src = vfs.walk(proc, source, True)
            is_dir = vfs.fs_of(proc, src)[0].lstat(src[1]).kind is DIR
        tloc = self._mount_target(proc, target, start, create, is_dir)
        if self.tracer.enabled:
            # The data as passed (devpts's "newinstance" too, which the
            # kernel accepts and then ignores).  A bind takes its flags in
            # a second call, a remount (as the Linux backend makes it).
            passed = tuple(o for o in options if o in data or o == "newinstance")
            shown = shown_target or target
            self.tracer.record(
                "mount",
                _mount_detail(
                    source, shown, fstype, frozenset() if bind else flags, passed, bind, "rbind" in options
                ),
            )
            self._trace_after_mount(shown, flags if bind else frozenset(), recursive_readonly, options)
        if bind:
            assert src is not None
            top = vfs.bind(proc, src, tloc, flags, recursive="rbind" in options)
            if recursive_readonly:
                self._make_readonly(proc, top)
            return top
        fs, shown = new_filesystem(self, proc, fstype, data)
        return vfs.attach(proc, tloc, fs, "/", source, fstype, flags, shown)

    def bind_from_disk(self, proc, source: str, target: str, options, *, start, shown_target: str) -> Mount:
        """A bind mount of a path of the real machine's disk (a bind source
        or a volume's data) at ``target``: the real files, confined to it.
        With ``rbind``, what the host side mounted below the path (a tmpfs
        volume, say) comes along; ``ro`` makes the top read-only, ``rro``
        all of it."""
        options, recursive_readonly, flags, _data, _bind, _propagation = _prepared_options(options)
        held, inside, is_dir = self.host_mounts.bind_source(source)
        tloc = self._mount_target(proc, target, start, True, is_dir)
        if self.tracer.enabled:
            self.tracer.record(
                "mount", _mount_detail(source, shown_target, "", frozenset(), (), True, "rbind" in options)
            )
            self._trace_after_mount(shown_target, flags, recursive_readonly, options)
        top = self.vfs.attach(
            proc,
            tloc,
            held.fs,
            inside,
            held.source,
            held.fstype,
            held.flags | flags if flags else held.flags,
            held.data,
        )
        if "rbind" in options and is_dir:
            for below, sub in self.host_mounts.mounted_below(source):
                loc = self.vfs.walk(proc, below, True, root=(top.id, top.fs_root))
                self.vfs.attach(proc, loc, sub.fs, "/", sub.source, sub.fstype, sub.flags, sub.data)
            if recursive_readonly:
                self._make_readonly(proc, top)
        return top

    def _trace_after_mount(
        self, shown: str, bind_flags: frozenset, recursive_readonly: bool, options
    ) -> None:
        """What the Linux backend does after a mount, in its order: a
        bind's flags by remount, a recursive read-only by mount_setattr, a
        propagation change."""
        if bind_flags:
            self.tracer.record(
                "mount", f'NULL, "{shown}", NULL, {_ms_names(bind_flags | {"remount", "bind"})}, NULL'
            )
        if recursive_readonly:
            self.tracer.record("mount_setattr", f'"{shown}", AT_RECURSIVE, {{attr_set=MOUNT_ATTR_RDONLY}}')
        for word in options:
            if word in PROPAGATION:
                words = {word.lstrip("r")} | ({"rec"} if word.startswith("r") else set())
                self.tracer.record("mount", f'NULL, "{shown}", NULL, {_ms_names(words)}, NULL')

    def _make_readonly(self, proc, top: Mount) -> None:
        """mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY): every mount of the subtree."""
        table = self.vfs.writable(proc.ns.mnt)
        for mid in table.subtree(top.id):
            m = table.mounts[mid]
            table.mounts[mid] = m.replace(flags=m.flags | {"ro"})

    def _remount(self, proc, target: str, flags: frozenset, start, shown_target) -> Mount:
        """mount(NULL, target, NULL, MS_REMOUNT|MS_BIND|flags): new per-mount
        flags for the mount at ``target`` (it keeps nosuid, nodev, noexec)."""
        loc = self.vfs.walk(proc, target, True, root=start)
        table = self.vfs.writable(proc.ns.mnt)
        m = table.mounts[loc[0]]
        if loc[1] != m.fs_root:
            raise oserror(errno.EINVAL, target)  # not a mount point
        kept = m.flags & {"nosuid", "nodev", "noexec"}
        table.mounts[m.id] = m.replace(flags=(m.flags - {"ro"}) | kept | flags)
        if self.tracer.enabled:
            words = flags | kept | {"remount", "bind"}
            self.tracer.record("mount", f'NULL, "{shown_target or target}", NULL, {_ms_names(words)}, NULL')
        return table.mounts[m.id]

    def make_directories(self, proc, path: str, start):
        """mkdir -p ``path`` (each directory made 0755) resolved inside the
        directory ``start`` (a rootfs before pivot_root), as runc's MkdirAll
        makes a mount target's or a device node's missing directories;
        returns the directory's Loc."""
        return self._mount_target(proc, path, start, True, True)

    def _mount_target(self, proc, target: str, start, create: bool, is_dir: bool):
        if not create:
            return self.vfs.walk(proc, target, True, root=start)
        # One walk: to the target, or to the first missing name (the rest
        # is then made without walking the path again for each of them).
        root = start or proc.root
        try:
            loc, missing = path_walk(
                proc.ns.mnt.table,
                root,
                start or proc.cwd,
                target,
                True,
                False,
                missing_ok=True,
                missing_dirs=True,
            )
        except FileNotFoundError:
            return self._create_path(proc, target, start, is_dir)
        if loc is not None:
            return loc
        dloc, name, rest, directory = missing
        if rest:
            rest = [n for n in rest if n]  # "a//b", "a/b/": no names
            if "." in rest or ".." in rest:
                return self._create_path(proc, target, start, is_dir)  # as the names say
        if directory is None:
            for after in rest:
                # mkdir -p: each directory made holds the next name.
                dloc = self._create_in(proc, dloc, name, True)
                name = after
            return self._create_in(proc, dloc, name, is_dir)
        # In a MemFS, whose directory the walk held: each name goes straight
        # in its directory's inode (all in dloc's filesystem: a directory
        # just made is no mount point), no walk of the path per name.
        fs = self.vfs.fs_of(proc, dloc)[0]
        mid, dpath = dloc
        for after in rest:
            full = f"/{name}" if dpath == "/" else f"{dpath}/{name}"
            directory = fs.mkdir_in(directory, name, full)  # mkdir -p: it holds the next name
            dpath, name = full, after
        full = f"/{name}" if dpath == "/" else f"{dpath}/{name}"
        if is_dir:
            fs.mkdir_in(directory, name, full)
        else:
            fs.write(full, b"", mode=0o644)
        return (mid, full)

    def _create_path(self, proc, path: str, start, is_dir: bool):
        """mkdir -p, with the last name a directory or an empty file (what
        runc does for a missing mount target); returns its Loc."""
        vfs = self.vfs
        try:
            (mid, dpath), last = vfs.walk_parent(proc, path, root=start)
        except FileNotFoundError:
            parent, _, name = path.rstrip("/").rpartition("/")
            made = self._create_path(proc, parent or "/", start, True)
            if name in ("", ".", ".."):
                (mid, dpath), last = vfs.walk_parent(proc, path, root=start)
            else:
                # The directory just made is where the last name goes: no
                # second walk of the whole path to find it again.
                (mid, dpath), last = made, name
        return self._create_in(proc, (mid, dpath), last, is_dir)

    def _create_in(self, proc, dloc, name: str, is_dir: bool):
        mid, dpath = dloc
        fs = self.vfs.fs_of(proc, dloc)[0]
        full = f"/{name}" if dpath == "/" else f"{dpath}/{name}"
        if is_dir:
            fs.mkdir(full, 0o755)
        else:
            fs.write(full, b"", mode=0o644)
        return (mid, full)

    # -- programs -------------------------------------------------------------------------
    def register_program(self, name: str, program) -> bytes:
        """binfmt_misc for tests: returns the file contents that, written to
        an executable file, make ``execve`` run ``program``."""
        self._misc[name] = program
        return MISC_MAGIC + name.encode() + b"\n"

    def recognise(self, data, argv0: str):
        """The binfmt handlers after ``#!``: registered programs, then the
        userland's busybox (cached per file and applet name, since looking
        at a 2 MB binary is not free)."""
        if data[: len(MISC_MAGIC)] == MISC_MAGIC:
            name = bytes(data[len(MISC_MAGIC) : len(MISC_MAGIC) + 200]).split(b"\n")[0].decode()
            return self._misc.get(name)
        key = (id(data), len(data), argv0)
        hit = self._binfmt_cache.get(key)
        if hit is not None and hit[0] is data:
            return hit[1]
        program = find_program(data, argv0)
        if len(self._binfmt_cache) > 512:
            self._binfmt_cache.clear()
        self._binfmt_cache[key] = (data, program)
        return program

    # -- the Kernel interface ----------------------------------------------------------------
    def cgroup_version(self) -> str:
        return "2"  # the simulator has the unified hierarchy only (SIMPLIFICATIONS.md)

    def mounts(self, pid: int) -> list[MountEntry]:
        return self.vfs.mount_entries(self.procs.get(pid))

    def capabilities(self, pid: int) -> frozenset[str]:
        return frozenset(self.procs.get(pid).caps)

    def docker_init(self) -> str | None:
        """The simulated host's /usr/bin/docker-init: the simulator's tini
        (:mod:`.docker_init`), a registered binary format."""
        from .docker_init import NAME, tini_main

        path = "/usr/bin/docker-init"
        if NAME not in self._misc:
            self.rootfs.write(path, self.register_program(NAME, tini_main), mode=0o755)
        return path

    def busybox(self) -> tuple[bytes, list[str]]:
        real = _host_static_busybox()
        if real is not None and find_program(real, "busybox") is not None:
            return real, list(_real_applets(tuple(APPLETS)))
        return SIM_BUSYBOX, list(APPLETS)

    def host_facts(self) -> HostFacts:
        return _host_facts(self.engine.cap_bnd & self.engine.caps)

    def host_devices(self, path: str) -> list[DeviceNode]:
        """The simulated host's device files: its /dev is a devtmpfs of
        character devices (one level; pts, shm, mqueue hold none)."""
        path = path.rstrip("/") or "/"
        if path != "/dev" and not path.startswith("/dev/"):
            return []
        rel = path[len("/dev") :] or "/"
        try:
            st = self.devfs.lstat(rel)
        except OSError:
            return []
        names = (
            [f"{rel.rstrip('/')}/{n}" for n in sorted(self.devfs.listdir(rel))] if st.kind is DIR else [rel]
        )
        nodes = []
        for name in names:
            st = self.devfs.lstat(name)
            if st.is_device:
                rdev = self.devfs.rdev(name)
                mode = st.mode & 0o7777
                nodes.append(
                    DeviceNode("/dev" + name, "c", os.major(rdev), os.minor(rdev), mode, st.uid, st.gid)
                )
        return nodes

    def close(self) -> None:
        """Nothing outlives the program: processes live in this object.
        The real sockets that carry the outside world in are closed, and the
        real mount table the host side keeps open is let go."""
        self.network.close()
        self.host_mounts.real_mounts.close()


@functools.lru_cache(maxsize=16)
def _host_facts(capabilities: frozenset[str]) -> HostFacts:
    """One HostFacts per set of capabilities the engine holds (a value: the
    same set, the same facts), so each start does not make -- and the
    confinement's cache hash -- a new one (issue 18)."""
    return HostFacts("x86_64", KERNEL_RELEASE, capabilities)


def _boot_host_network(net: NetNamespace) -> None:
    """The host's network after boot: ``lo`` and ``eth0`` up, an address
    from the outside's DHCP and a default route through its router."""
    stack = stack_of_ns(net)
    stack.link("lo").up = True
    eth0 = Link("eth0", "ether", 2, "52:54:00:12:34:56", stack)
    eth0.mac_set = True
    stack.add_link(eth0)
    eth0.addrs.append(HOST_ADDRESS)
    eth0.up = True
    stack.add_route(Net4("0.0.0.0/0"), eth0, OUTSIDE_ROUTER)


_busybox_cache: dict = {}


def _host_static_busybox() -> bytes | None:
    """/bin/busybox if this is Linux and it is a static ELF (no PT_INTERP):
    only a static binary runs inside an image that has no libc.  Read once
    per (size, mtime) of the file."""
    if not _sys.platform.startswith("linux"):
        return None
    path = "/bin/busybox"
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_size, st.st_mtime_ns)
    if key not in _busybox_cache:
        _busybox_cache.clear()
        _busybox_cache[key] = _read_static_elf(path)
    return _busybox_cache[key]


def _read_static_elf(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return None
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        (p_type,) = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP: dynamically linked
            return None
    return data


@functools.lru_cache(maxsize=1)
def _real_applets(fallback: tuple) -> tuple[str, ...]:
    """``busybox --list`` of the host binary (asked once)."""
    import subprocess

    try:
        out = subprocess.run(
            ["/bin/busybox", "--list"], capture_output=True, timeout=10, check=True
        ).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return fallback
    names = tuple(n for n in out.split() if n)
    return names or fallback


# What mount options mean, by the options as given: every container start
# mounts the same few option tuples (Docker's defaults, its /etc binds).
# Derived from the words alone, so nothing can make an entry stale; only
# tuples are kept (a list cannot be a key), and at most 256 of them.
_PREPARED: dict[tuple, tuple] = {}


def _prepared_options(options) -> tuple:
    """(the options without empty words and with ``rro`` as ``ro``, whether
    ``rro`` was given, then parse_mount_options's flags, data, bind and
    propagation of them)."""
    key = options if options.__class__ is tuple else None
    if key is not None:
        hit = _PREPARED.get(key)
        if hit is not None:
            return hit
    given = tuple(o for o in options if o)
    recursive_readonly = "rro" in given
    words = tuple("ro" if o == "rro" else o for o in given) if recursive_readonly else given
    prepared = (words, recursive_readonly, *parse_mount_options(words))
    if key is not None:
        if len(_PREPARED) >= 256:
            _PREPARED.clear()
        _PREPARED[key] = prepared
    return prepared


# mount(2) flag names in the order strace (and the Linux backend's trace) prints them.
_MS_ORDER = (
    ("ro", "MS_RDONLY"),
    ("nosuid", "MS_NOSUID"),
    ("nodev", "MS_NODEV"),
    ("noexec", "MS_NOEXEC"),
    ("remount", "MS_REMOUNT"),
    ("noatime", "MS_NOATIME"),
    ("bind", "MS_BIND"),
    ("rec", "MS_REC"),
    ("unbindable", "MS_UNBINDABLE"),
    ("private", "MS_PRIVATE"),
    ("slave", "MS_SLAVE"),
    ("shared", "MS_SHARED"),
    ("strictatime", "MS_STRICTATIME"),
)


def _ms_names(words) -> str:
    return "|".join(name for word, name in _MS_ORDER if word in words) or "0"


def _mount_detail(source, target, fstype, flags, data, bind, recursive) -> str:
    ms = [MS_NAMES[f] for f in ("ro", "nosuid", "nodev", "noexec", "strictatime", "noatime") if f in flags]
    if bind:
        ms.append("MS_BIND")
        if recursive:
            ms.append("MS_REC")
    fs = "NULL" if bind else f'"{fstype}"'
    data_s = f'"{",".join(data)}"' if data else "NULL"
    return f'"{source}", "{target}", {fs}, {"|".join(ms) or "0"}, {data_s}'


class HostMountedUnionFS(UnionFS):
    """The union filesystem, with its mounts attached to the simulated
    host's mount table: ``mount()`` returns a target such as
    ``/var/lib/stepbox/overlay/mounts/ID/merged`` and that path then *is* the
    merged view for every process of the host's mount namespace (and for
    the container, whose namespace is cloned from the host's)."""

    def __init__(self, kernel: SimKernel, inner: UnionFS):
        self.k = kernel
        self.inner = inner

    def import_layer(self, layer_id: str, entries: Iterable[LayerEntry]) -> None:
        self.inner.import_layer(layer_id, entries)

    def create_layer(self, layer_id: str) -> None:
        self.inner.create_layer(layer_id)

    def has_layer(self, layer_id: str) -> bool:
        return self.inner.has_layer(layer_id)

    def layers(self) -> list[str]:
        return self.inner.layers()

    def layer_files(self, layer_id: str) -> FileOps:
        return self.inner.layer_files(layer_id)

    def changes(self, layer_id: str) -> Iterator[LayerEntry]:
        return self.inner.changes(layer_id)

    def merged(self, mount: UnionMount) -> FileOps:
        return self.inner.merged(mount)

    def mounted(self) -> list[UnionMount]:
        return self.inner.mounted()

    def remove_layer(self, layer_id: str) -> None:
        self.inner.remove_layer(layer_id)

    def mount(self, lowers: list[str], upper: str, name: str) -> UnionMount:
        um = self.inner.mount(lowers, upper, name)
        k = self.k
        engine = k.engine
        try:
            target = k._mount_target(engine, um.target, None, True, True)
            flags, data, _, _ = parse_mount_options(um.options.split(","))
            k.vfs.attach(
                engine, target, self.inner.merged(um), "/", "overlay", "overlay", flags, ",".join(data)
            )
        except BaseException:
            self.inner.unmount(um)
            raise
        return um

    def unmount(self, mount: UnionMount) -> None:
        k = self.k
        try:
            k.vfs.umount(k.engine, mount.target)
        except OSError:
            pass  # not mounted (any more): the undo is idempotent
        # As the Linux backend does (rmtree of mounts/ID): the mount point
        # and its directory go too -- left behind, every container ever run
        # kept two directories on the simulated host (a leak, and a slower
        # kernel as they piled up).
        mdir = mount.target.rsplit("/", 1)[0]
        for path in (mount.target, mdir):
            try:
                k.vfs.rmdir(k.engine, path)
            except OSError:
                break  # still mounted, not empty, or gone: leave it
        self.inner.unmount(mount)
