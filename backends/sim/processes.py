"""Starting container processes and talking to them from the host.

:class:`SimProcesses` is ``clone(2)`` for the engine: the new process is
created in fresh namespaces and in its cgroup, and then *holds* -- it runs
no program yet, like runc's ``runc init`` waiting on its exec FIFO.
:class:`SimProcessHandle` performs the in-container steps *as that process*
(with its namespaces, root and capabilities), one call at a time, until
``exec`` gives it its program.

A simulated process exists only inside the :class:`SimKernel` object that
made it; it cannot outlive the Python program.  So :meth:`SimProcesses.reattach`
finds a process again only in the same kernel object (``None`` otherwise) --
the engine keeps one kernel for its lifetime.
"""

from __future__ import annotations

import errno
import os
import signal as _signal
from typing import TYPE_CHECKING

from stepbox.core.kernel.capabilities import CAPABILITIES, capability_mask
from stepbox.core.kernel.devices import DeviceNode
from stepbox.core.kernel.errors import ExecFailed, KernelError, NotSupported
from stepbox.core.kernel.namespaces import NamespaceKind
from stepbox.core.kernel.observe import ProcessInfo
from stepbox.core.kernel.processes import (
    ROOT,
    Credentials,
    ExitStatus,
    MountSpec,
    NoInput,
    Privileges,
    Processes,
    ProcessHandle,
    ProcessSettings,
    Rlimit,
    SpawnSpec,
    Stdio,
)
from stepbox.core.kernel.seccomp import SeccompFilter
from stepbox.core.kernel.trace import execvp_detail

from .files import HostFile, NullDevice, OpenFile, Pipe, PipeEnd
from .loader import inode, search_and_load
from .memfs import Inode, InodeKind, MemFS
from .namei import path_walk
from .namespaces import namespace_of
from .rlimits import check_setrlimit
from .syscalls import start_program
from .tty import Pty, SlaveFile, StdinPipe
from .vfs import DIR

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

_boot_ids = iter(range(1, 1 << 62))
_RO = frozenset({"ro"})
_NO_FLAGS: frozenset[str] = frozenset()


def exit_status(raw: int) -> ExitStatus:
    """A raw wait status as Docker reports it."""
    sig = raw & 0x7F
    if sig:
        return ExitStatus.killed(sig)
    return ExitStatus.exited(raw >> 8)


def _flag_names(kinds) -> str:
    # By bit value, as strace (and the Linux backend's trace) prints them.
    order = ("mnt", "cgroup", "uts", "ipc", "user", "pid", "net")
    flags = [NamespaceKind(k).clone_flag for k in order if k in kinds]
    return "|".join(flags + ["SIGCHLD"])


def _memfs_directory(fs, path: str) -> Inode | None:
    """The inode of the directory ``path`` if ``fs`` is a MemFS, for its
    ``*_in`` calls; None otherwise (and for a non-directory, whose names
    the calls by path refuse)."""
    if fs.__class__ is not MemFS:
        return None
    node = fs.root if path == "/" else fs.lookup(path)
    return node if node.kind is InodeKind.DIR else None


def _is_dir(fs, path: str) -> bool:
    """lstat(path).kind is DIR -- read off the inode in a MemFS (whose lstat
    is the inode's stat()), without making the StatResult."""
    if fs.__class__ is MemFS:
        return fs.lookup(path, follow=False).kind is InodeKind.DIR
    return fs.lstat(path).kind is DIR


def _is_device(fs, path: str) -> bool:
    """lstat(path).is_device, the same way."""
    if fs.__class__ is MemFS:
        return fs.lookup(path, follow=False).kind is InodeKind.CHARDEV
    return fs.lstat(path).is_device


class SimProcessHandle(ProcessHandle):
    def __init__(self, kernel: SimKernel, proc: Process):
        self.k = kernel
        self.proc = proc
        self.pid = proc.pid
        self._status: ExitStatus | None = None
        self._rootfs: tuple[str, tuple] | None = None  # (rootfs path, its Loc): a cache

    def __repr__(self) -> str:
        return f"<SimProcessHandle pid={self.pid} {self.proc.state}>"

    # -- in-child operations ------------------------------------------------------------
    def _held(self) -> Process:
        p = self.proc
        if not p.held:
            state = "has exited" if p.state in "ZX" else "has already exec'd its program"
            raise KernelError(f"process {p.pid} {state}; in-container steps happen before exec")
        return p

    def _as_current(self):
        return _Current(self.k.sched, self.proc)

    def sethostname(self, name: str) -> None:
        p = self._held()
        if "CAP_SYS_ADMIN" not in p.caps:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        if len(name.encode()) > 64:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        if self.k.tracer.enabled:
            self.k.tracer.record("sethostname", f'"{name}", {len(name)}')
        p.ns.uts.hostname = name

    def make_mounts_private(self) -> None:
        p = self._held()
        self.k.tracer.record("mount", 'NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL')
        self.k.vfs.make_private(p)

    def mount(self, spec: MountSpec, rootfs: str) -> None:
        p = self._held()
        k = self.k
        if "CAP_SYS_ADMIN" not in p.caps:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        rootfs = rootfs.rstrip("/") or "/"
        cached = self._rootfs
        start = cached[1] if cached is not None and cached[0] == rootfs else self._rootfs_loc(p, rootfs)
        target = spec.target
        shown_target = target if rootfs == "/" else rootfs + target
        if not target.strip("/"):
            self._rootfs = None  # a mount on the rootfs itself hides the cached spot
        if spec.source_on_disk:
            k.bind_from_disk(p, spec.source, target, spec.options, start=start, shown_target=shown_target)
            return
        k.mount_as(
            p,
            spec.source,
            target,
            spec.fstype,
            spec.options,
            create=True,
            start=start,
            shown_target=shown_target,
        )

    def _rootfs_loc(self, p, rootfs: str) -> tuple:
        """The Loc of the rootfs (what the in-container steps before
        pivot_root resolve their paths in), walked once per handle."""
        cached = self._rootfs
        if cached is not None and cached[0] == rootfs:
            return cached[1]
        cached = self._rootfs = (rootfs, self.k.vfs.walk(p, rootfs, True))
        return cached[1]

    def pivot_root(self, new_root: str) -> None:
        p = self._held()
        k = self.k
        vfs = k.vfs
        table = p.ns.mnt.table
        cached = self._rootfs
        loc: tuple = ()
        m = None
        if cached is not None and cached[0] == new_root:
            loc = cached[1]
            m = table.mounts.get(loc[0])
        if (
            m is None
            or loc in table.children
            or (m.parent and table.children.get((m.parent, m.mountpoint)) != m.id)
        ):
            # The rootfs's Loc as the mount steps walked it (_rootfs_loc), if
            # they did, is where new_root still leads unless its mount went,
            # or a mount was stacked on it or on its mount: no other mount
            # changes where a path leads to the rootfs (the container's own
            # mounts are all below it).
            loc = vfs.walk(p, new_root, True)
        if loc[1] != table.mounts[loc[0]].fs_root:
            # pivot_root(2) wants a mount point; binding the directory on
            # itself makes one (runc does the same).
            bound = vfs.bind(p, loc, loc, frozenset(), recursive=True)
            loc = (bound.id, bound.fs_root)
        vfs.pivot_root(p, new_root, loc)
        if k.tracer.enabled:
            # runc's sequence: new_root must be a mount point (a bind on
            # itself makes sure), then pivot with new_root == put_old and a
            # lazy unmount of the old root, stacked on "/".
            k.tracer.record("mount", f'"{new_root}", "{new_root}", NULL, MS_BIND|MS_REC, NULL')
            k.tracer.record("chdir", f'"{new_root}"')
            k.tracer.record("pivot_root", '".", "."')
            k.tracer.record("umount2", '".", MNT_DETACH')
            k.tracer.record("chdir", '"/"')
        self._rootfs = None

    def mask_paths(self, masked: list[str], readonly: list[str]) -> None:
        p = self._held()
        k = self.k
        vfs = k.vfs
        tracer = k.tracer
        with self._as_current():
            null = None
            for path in masked:
                loc = self._existing(p, path)
                if loc is None:
                    continue  # nothing to hide
                # (vfs.fs_of without its call, here and below: 14 a start)
                if _is_dir(p.ns.mnt.table.mounts[loc[0]].fs, loc[1]):
                    if tracer.enabled:
                        tracer.record("mount", f'"tmpfs", "{path}", "tmpfs", MS_RDONLY, NULL')
                    vfs.attach(p, loc, k.empty_ro_fs, "/", "tmpfs", "tmpfs", _RO, "inode64")
                else:
                    if null is None:
                        null = self._dev_null(p)
                    if tracer.enabled:
                        tracer.record("mount", f'"/dev/null", "{path}", NULL, MS_BIND, NULL')
                    vfs.bind(p, null, loc, _NO_FLAGS, recursive=False)
            for path in readonly:
                loc = self._existing(p, path)
                if loc is None:
                    continue
                m = p.ns.mnt.table.mounts[loc[0]]
                if tracer.enabled:
                    tracer.record("mount", f'"{path}", "{path}", NULL, MS_BIND|MS_REC, NULL')
                    # The remount keeps the mount's nosuid/nodev/noexec, as runc does.
                    kept = "".join(f"|MS_{f.upper()}" for f in ("nosuid", "nodev", "noexec") if f in m.flags)
                    tracer.record(
                        "mount", f'"{path}", "{path}", NULL, MS_RDONLY{kept}|MS_REMOUNT|MS_BIND|MS_REC, NULL'
                    )
                # The bind keeps the flags of the mount it shows (m, the
                # same mount): "ro" is all it adds.
                vfs.bind(p, loc, loc, _RO, recursive=True)

    def _existing(self, p, path: str) -> tuple | None:
        """The Loc of ``path`` if it exists (a missing last name is the
        common case of a masked path, and is found without an exception)."""
        try:
            # vfs.lookup_or_parent(p, path) without its call (16 a start)
            loc, _missing = path_walk(p.ns.mnt.table, p.root, p.cwd, path, True, False, missing_ok=True)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return loc

    def _dev_null(self, p) -> tuple:
        vfs = self.k.vfs
        try:
            loc = vfs.walk(p, "/dev/null", True)
            if _is_device(vfs.fs_of(p, loc)[0], loc[1]):
                return loc
        except OSError:
            pass
        raise KernelError(
            "cannot mask paths: the container has no /dev/null device (mount /dev and bind the devices first)"
        )

    def set_rlimits(self, limits: tuple[Rlimit, ...]) -> None:
        p = self._held()
        for limit in limits:
            if self.k.tracer.enabled:
                shown = ["RLIM64_INFINITY" if v == -1 else str(v) for v in (limit.soft, limit.hard)]
                self.k.tracer.record(
                    "prlimit64",
                    f"0, RLIMIT_{limit.name.upper()}, {{rlim_cur={shown[0]}, rlim_max={shown[1]}}}, NULL",
                )
            check_setrlimit(p.rlimits[limit.name], limit.name, limit.soft, limit.hard, p.caps)
            p.rlimits = {**p.rlimits, limit.name: (limit.soft, limit.hard)}

    def bring_up_loopback(self) -> None:
        p = self._held()
        self.k.tracer.record("ioctl", 'SIOCSIFFLAGS, {ifr_name="lo", ifr_flags=IFF_UP|IFF_LOOPBACK}')
        from .net.network import stack_of_ns

        stack_of_ns(p.ns.net).link("lo").up = True

    def make_device_nodes(self, nodes: list[DeviceNode], rootfs: str) -> None:
        """mknod each node, as root with umask 0 (runc's way), checked as
        vfs_mknod checks it (CAP_MKNOD, the device cgroup); each directory is
        looked up once -- this runs for every container started."""
        p = self._held()
        k = self.k
        if "CAP_MKNOD" not in p.caps:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        by_path = {node.path: node for node in nodes}
        device_permits, cgroup, tracer = k.cgroups.device_permits, p.cgroup, k.tracer
        prefix = rootfs.rstrip("/")
        place = self._placer(rootfs, make_missing=True)
        with self._as_current():
            for path, node in by_path.items():
                fs, fspath, name, directory = place(path)
                shown = prefix + path
                if node.kind != "c":
                    raise KernelError(f"{shown}: the simulator models character devices only")
                if not device_permits(cgroup, "c", node.major, node.minor, "m"):
                    raise OSError(errno.EPERM, os.strerror(errno.EPERM), shown)
                try:
                    rdev = os.makedev(node.major, node.minor)
                except (OverflowError, ValueError, TypeError):
                    # Numbers makedev refuses: the error then comes where
                    # mknod is called, after what the trace says before it.
                    rdev = None
                if directory is not None and name and rdev is not None:
                    # In a MemFS mknod finds a taken name by the very lookup
                    # exists() makes (EEXIST): the common case, a fresh
                    # /dev, costs no walk at all (the directory is held).
                    # The trace says mknod where the exists()-first way
                    # said it: after an unlink, and also when mknod fails.
                    try:
                        fs.mknod_in(directory, name, fspath, node.mode, rdev)
                    except FileExistsError:
                        fs.unlink(fspath)  # an image's file of that name goes
                        self._trace_mknod(shown, node)
                        fs.mknod_in(directory, name, fspath, node.mode, rdev)
                    except BaseException:
                        self._trace_mknod(shown, node)
                        raise
                    else:
                        if tracer.enabled:
                            self._trace_mknod(shown, node)
                else:
                    if fs.exists(fspath):
                        fs.unlink(fspath)  # an image's file of that name goes
                    self._trace_mknod(shown, node)
                    fs.mknod(fspath, node.mode, os.makedev(node.major, node.minor))
                if node.uid or node.gid:
                    fs.chown(fspath, node.uid, node.gid)

    def _trace_mknod(self, shown: str, node: DeviceNode) -> None:
        tracer = self.k.tracer
        if tracer.enabled:
            tracer.record("mknod", f'"{shown}", S_IFCHR|{node.mode:04o}, makedev({node.major}, {node.minor})')

    def make_symlinks(self, links: list[tuple[str, str]], rootfs: str) -> None:
        p = self._held()
        tracer = self.k.tracer
        prefix = rootfs.rstrip("/")
        place = self._placer(rootfs)
        targets = {path: target for target, path in links}  # the last one for a path
        with self._as_current():
            for _, path in links:
                target = targets[path]
                fs, fspath, name, directory = place(path)
                if tracer.enabled:
                    tracer.record("symlink", f'"{target}", "{prefix + path}"')
                if directory is not None and name and target:
                    # As make_device_nodes: symlink's own lookup says EEXIST
                    # exactly when exists() would have said yes.
                    try:
                        fs.symlink_in(directory, name, target, fspath)
                    except FileExistsError:
                        continue  # the image has one: leave it (runc does too)
                elif fs.exists(fspath):
                    continue  # the image has one: leave it (runc does too)
                else:
                    fs.symlink(target, fspath)
                if p.uid or p.gid:
                    fs.chown(fspath, p.uid, p.gid)

    def _placer(self, rootfs: str, make_missing: bool = False):
        """A function from a path under ``rootfs`` to (filesystem, its path
        there, last name, the directory's inode in a MemFS or None), each
        parent directory resolved once, as the held process sees it (call
        it as that process: see _as_current).  ``make_missing``: a missing
        parent directory is made first (mkdir -p, 0755), as runc's
        createDeviceNode does (MkdirAll) for a device such as /dev/snd/x.
        A kept inode stays where its path leads while the placer is used:
        the callers only add names and unlink non-directories, and the path
        has no symlink in it (it is where the walk ended up), so no name on
        it can change."""
        p, k = self.proc, self.k
        vfs = k.vfs
        base = self._rootfs_loc(p, rootfs.rstrip("/") or "/")
        dirs: dict[str, tuple] = {}

        def place(path: str) -> tuple:
            parent, _, name = path.rpartition("/")
            known = dirs.get(parent)
            if known is None:
                # Inside the rootfs, as runc's securejoin resolves them.
                try:
                    loc = vfs.walk(p, parent or "/", True, root=base)
                except FileNotFoundError:
                    if not make_missing:
                        raise
                    loc = k.make_directories(p, parent, base)
                fs = vfs.fs_of(p, loc)[0]
                known = dirs[parent] = (fs, loc[1].rstrip("/"), _memfs_directory(fs, loc[1]))
            fs, dpath, directory = known
            return fs, f"{dpath}/{name}", name, directory

        return place

    def load_seccomp(self, spec: SeccompFilter) -> None:
        load_filter(self.k, self._held(), spec)

    def drop_capabilities(
        self, keep: frozenset[str], user: Credentials = ROOT, effective: frozenset[str] | None = None
    ) -> None:
        drop_privileges(self.k, self._held(), frozenset(keep), user, effective)

    def set_no_new_privs(self) -> None:
        p = self._held()
        self.k.tracer.record("prctl", "PR_SET_NO_NEW_PRIVS, 1")
        p.no_new_privs = True

    def open_terminal(self, window: tuple[int, int] | None = None) -> None:
        p = self._held()
        pty = attach_terminal(self.k, p, window)
        if self.k.tracer.enabled:
            tracer = self.k.tracer
            tracer.record("open", '"/dev/pts/ptmx", O_RDWR|O_NOCTTY|O_CLOEXEC')
            tracer.record("ioctl", "TIOCSPTLCK, 0 (unlockpt)")
            tracer.record("open", f'"{pty.name}", O_RDWR|O_NOCTTY|O_CLOEXEC')
            if window:
                tracer.record("ioctl", f"TIOCSWINSZ, {{ws_row={window[0]}, ws_col={window[1]}}}")
            tracer.record("mount", f'"{pty.name}", "/dev/console", NULL, MS_BIND, NULL')
            tracer.record("sendmsg", "console socket, SCM_RIGHTS [the master]")

    def exec(
        self, argv: list[str], env: dict[str, str], cwd: str = "/", user: tuple[int, int] | None = None
    ) -> None:
        p = self._held()
        exec_program(self.k, p, argv, env, cwd, user)

    # -- input from the engine --------------------------------------------------------------
    def _input(self):
        if self.proc.stdin is None:
            raise NoInput(
                f"process {self.pid} has no open stdin or terminal (it was not started with -i or -t)"
            )
        return self.proc.stdin

    def write_stdin(self, data: bytes) -> None:
        target = self._input()
        if self.proc.alive:
            target.type(data) if isinstance(target, Pty) else target.write(data)

    def close_stdin(self) -> None:
        target = self._input()
        if isinstance(target, StdinPipe):
            target.close()

    def resize_terminal(self, rows: int, columns: int) -> None:
        target = self._input()
        if isinstance(target, Pty) and self.proc.alive:
            target.resize(rows, columns)

    # -- from the outside -----------------------------------------------------------------
    def signal(self, sig: int) -> None:
        """kill(2) from the host.  Once the process has exited this is a
        no-op (kill on a zombie succeeds), so "kill, then wait" undo steps
        stay idempotent -- as in the Linux backend."""
        p = self.proc
        if p.state in "ZX":
            return
        if self.k.tracer.enabled:
            name = _signal.Signals(sig).name if sig in _signal.Signals._value2member_map_ else sig
            self.k.tracer.record("kill", f"{p.pid}, {name}")
        self.k.signals.send(p, sig, None)

    def wait(self, timeout: float | None = None) -> ExitStatus | None:
        if self._status is not None:
            return self._status
        p = self.proc
        k = self.k
        if p.state not in "ZX":
            deadline = None if timeout is None else k.sched.now + max(0, int(timeout * 1_000_000))
            finished = k.sched.run_until(lambda: p.state in "ZX", deadline)
            if not finished:
                if timeout is None:
                    raise KernelError(
                        f"deadlock: process {p.pid} ({p.comm}) can never exit -- every process "
                        f"is blocked and no timer is pending"
                    )
                return None
        assert p.exit_raw is not None  # a zombie's wait status
        self._status = exit_status(p.exit_raw)
        if p.state == "Z" and (p.parent is k.engine or p.parent is k.init):
            k.procs.release(p)
        return self._status

    def record(self) -> dict:
        return {
            "backend": "sim",
            "kernel": self.k.boot_id,
            "pid": self.pid,
            "start_time": self.proc.start_time,
        }


class _Current:
    """The kernel's ``current``: procfs and friends need to know who asks."""

    def __init__(self, sched, proc):
        self.sched, self.proc = sched, proc

    def __enter__(self):
        self.saved = self.sched.current
        self.sched.current = self.proc

    def __exit__(self, *exc):
        self.sched.current = self.saved


def load_filter(k: SimKernel, p: Process, spec: SeccompFilter) -> None:
    """seccomp(SECCOMP_SET_MODE_FILTER): without no_new_privs only a
    process with CAP_SYS_ADMIN may (EACCES otherwise)."""
    if not p.no_new_privs and "CAP_SYS_ADMIN" not in p.caps:
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))
    if k.tracer.enabled:
        k.tracer.record(
            "seccomp",
            f"SECCOMP_SET_MODE_FILTER, 0, {{{len(spec.rules)} rules, default {spec.default_action}}}",
        )
    p.seccomp = (*p.seccomp, spec)


def drop_privileges(
    k: SimKernel, p: Process, keep: frozenset[str], user: Credentials, effective: frozenset[str] | None = None
) -> None:
    """What the Linux backend's init does (runc's finalizeNamespace): the
    bounding set shrinks to ``keep``, the user is switched, and the
    effective/permitted sets become ``keep`` for uid 0, empty otherwise."""
    userns = p.ns.user
    groups = tuple(sorted(userns.gid_to_host(g) for g in user.groups))
    if k.tracer.enabled:
        dropped = p.cap_bnd - keep
        for name in CAPABILITIES:
            if name in dropped:
                k.tracer.record("prctl", f"PR_CAPBSET_DROP, {name}")
        k.tracer.record("prctl", "PR_SET_KEEPCAPS, 1")
        k.tracer.record("setgroups", f"{len(user.groups)}, [{', '.join(map(str, user.groups))}]")
        if userns.gid_from_host(p.gid) != user.gid:
            k.tracer.record("setgid", str(user.gid))
        if userns.uid_from_host(p.uid) != user.uid:
            k.tracer.record("setuid", str(user.uid))
        k.tracer.record("prctl", "PR_SET_KEEPCAPS, 0")
        k.tracer.record("prctl", "PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL")
    # setgroups(2) always needs CAP_SETGID; setuid to another uid CAP_SETUID.
    if "CAP_SETGID" not in p.caps or ("CAP_SETUID" not in p.caps and userns.uid_to_host(user.uid) != p.uid):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))
    p.cap_bnd = p.cap_bnd & keep
    p.groups = groups
    p.gid = userns.gid_to_host(user.gid)
    p.uid = userns.uid_to_host(user.uid)
    if effective is None:
        effective = keep if user.uid == 0 else frozenset()
    granted = p.caps & effective
    if k.tracer.enabled:
        mask = capability_mask(granted)
        k.tracer.record(
            "capset",
            f"{{version=_LINUX_CAPABILITY_VERSION_3}}, {{effective={mask:#x}, permitted={mask:#x}, inheritable=0}}",
        )
    p.caps = granted


def apply_privileges(k: SimKernel, p: Process, privileges: Privileges, user: Credentials) -> None:
    """The whole sequence, in runc's order (for exec_in)."""
    if privileges.seccomp is not None and not privileges.no_new_privs:
        load_filter(k, p, privileges.seccomp)
    drop_privileges(k, p, privileges.capabilities, user, privileges.effective)
    if privileges.no_new_privs:
        k.tracer.record("prctl", "PR_SET_NO_NEW_PRIVS, 1")
        p.no_new_privs = True
        if privileges.seccomp is not None:
            load_filter(k, p, privileges.seccomp)


def open_stdio(k: SimKernel, stdio: Stdio | None) -> tuple[dict, StdinPipe | None]:
    """fds 0, 1, 2 on host files (opened outside the container, like the
    shim does), or /dev/null; with ``open_stdin``, fd 0 is a pipe whose
    write end the engine holds (returned too)."""
    if stdio is None:
        null = NullDevice(0, 2)
        null.refs = 3
        return {0: null, 1: null, 2: null}, None
    opened: list[OpenFile] = []
    engine_end = None
    try:
        if stdio.open_stdin and not stdio.tty:
            pipe = Pipe()
            opened.append(PipeEnd(pipe, False))
            engine_end = StdinPipe(k, PipeEnd(pipe, True))
        else:
            opened.append(HostFile(stdio.stdin, False) if stdio.stdin else NullDevice(0, 0))
        out = HostFile(stdio.stdout, True)
        opened.append(out)
        if stdio.stderr == stdio.stdout:
            out.refs += 1
            opened.append(out)
        else:
            opened.append(HostFile(stdio.stderr, True))
    except OSError:
        for f in opened:
            f.close(k)
        raise
    return dict(enumerate(opened)), engine_end


def attach_terminal(k: SimKernel, proc: Process, window: tuple[int, int] | None) -> Pty:
    """A new pseudo-terminal whose output goes where ``proc``'s stdout went
    (the log); its slave becomes fds 0, 1, 2 and the controlling terminal."""
    sink = proc.fds[1]
    sink.refs += 1
    # The container's own devpts numbers its terminals from 0 (the lowest free).
    taken = {q.ctty.index for q in k.procs.all() if q.ctty is not None and q.pidns is proc.pidns and q.alive}
    pty = Pty(k, sink, min(set(range(len(taken) + 1)) - taken))
    if window:
        pty.window = (window[0], window[1])
    slave = SlaveFile(pty)
    slave.refs = 3
    old, proc.fds = proc.fds, {**proc.fds, 0: slave, 1: slave, 2: slave}
    for fd in (0, 1, 2):
        if fd in old:
            old[fd].close(k)
    proc.ctty = pty
    proc.stdin = pty
    return pty


def exec_program(
    k: SimKernel, p: Process, argv: list[str], env: dict[str, str], cwd: str, user: tuple[int, int] | None
) -> None:
    """The last step of a container's start: chdir, set the user, execvp.
    A failure raises :class:`ExecFailed` with Docker's message and ends the
    process with Docker's exit code (127 not found, 126 cannot execute)."""

    def fail(message: str, code: int):
        k.procs.exit(p, code << 8)
        raise ExecFailed(message, code)

    if not argv:
        fail("exec: no command", 127)
    try:
        loc = k.vfs.walk(p, cwd or "/", True)
        fs = k.vfs.fs_of(p, loc)[0]
        node = inode(fs, loc[1])  # no StatResult made just for its kind
        is_dir = node.kind is InodeKind.DIR if node is not None else fs.lstat(loc[1]).kind is DIR
        if not is_dir:
            raise OSError(errno.ENOTDIR, "not a directory")
        p.cwd = loc
    except OSError as e:
        fail(f'chdir to cwd ("{cwd}") set in config.json failed: {_reason(e)}', 126)
    if user is not None:
        uid, gid = user
        if (p.ns.user.uid_from_host(p.uid), p.ns.user.gid_from_host(p.gid)) != (uid, gid):
            p.uid = p.ns.user.uid_to_host(uid)
            p.gid = p.ns.user.gid_to_host(gid)
            p.groups = ()
            if uid != 0:
                p.caps = frozenset()  # a non-root user keeps no capabilities across exec
    name = argv[0]
    with _Current(k.sched, p):
        try:
            program, exe, argv = search_and_load(k, p, list(argv), env.get("PATH"))
        except OSError as e:
            if e.errno == errno.ENOENT and "/" not in name:
                fail(f'exec: "{name}": executable file not found in $PATH', 127)
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                fail(f'exec: "{name}": stat {name}: {_reason(e)}', 127)
            if e.errno == errno.EACCES:
                fail(f'exec: "{name}": permission denied', 126)
            if e.errno == errno.ENOEXEC:
                fail(f'exec: "{name}": exec format error', 126)
            fail(f'exec: "{name}": {_reason(e)}', 126)
    if k.tracer.enabled:
        k.tracer.record("chdir", f'"{cwd}"')
        k.tracer.record("execve", execvp_detail([name, *argv[1:]], env))
    p.held = False
    start_program(k, p, program, argv, env, exe)
    k.sched.start(p)


def _reason(e: OSError) -> str:
    return (
        (e.strerror or os.strerror(e.errno or 0)).lower()
        if e.errno != errno.ENOENT
        else "no such file or directory"
    )


def _proc_ns_pid(path: str, kind: str) -> int | None:
    """The PID of a ``/proc/PID/ns/KIND`` path; None for any other path."""
    parts = path.split("/")
    if len(parts) == 5 and parts[:2] == ["", "proc"] and parts[2].isdigit() and parts[3:] == ["ns", kind]:
        return int(parts[2])
    return None


class SimProcesses(Processes):
    def __init__(self, kernel: SimKernel):
        self.k = kernel
        kernel.boot_id = next(_boot_ids)
        kernel.empty_ro_fs = MemFS(clock=kernel.wall_clock)
        self._inits: dict[int, Process] = {}  # what spawn started, by PID (see live_inits)

    def spawn(self, spec: SpawnSpec) -> SimProcessHandle:
        # The simulator joins only a process's network namespace, by its
        # /proc path (--network container:ID); a bind-mounted namespace file
        # and the rest of an OCI runtime caller's asks are refused.
        joins = [
            (NamespaceKind(kind).value, _proc_ns_pid(path, NamespaceKind(kind).value))
            for kind, path in spec.join
        ]
        if (
            any(kind != "net" or pid is None for kind, pid in joins)
            or spec.inherit_stdio
            or spec.detach
            or spec.start_gate
            or spec.console_socket
            or spec.preserve_fds
        ):
            raise NotSupported(
                "the simulated kernel joins only a process's network namespace (/proc/PID/ns/net); it cannot "
                "join other namespaces or by another path, inherit the caller's stdio, leave a process to the "
                "caller or wait for a start gate (stepbox-runc needs the linux backend)"
            )
        k = self.k
        parent = k.engine
        cg = parent.cgroup
        if spec.cgroup:
            found = k.cgroups.lookup(spec.cgroup)
            if found is None:
                raise KernelError(f"cgroup {spec.cgroup!r} does not exist; create it first")
            cg = found
        kinds = {kind._value_ for kind in spec.namespaces}  # (the enum's value property is slow)
        # The log files are opened first (by the shim, on the host): a bad
        # path fails here, before any process exists.
        fds, engine_end = open_stdio(k, spec.stdio)
        kinds -= {kind for kind, _ in joins}
        ns, pidns = k.clone_namespaces(parent, kinds, spec.uid_map, spec.gid_map)
        for kind, pid in joins:
            assert pid is not None  # refused above
            ns = self._join(ns, kind, pid, fds)
        if k.tracer.enabled:
            # As on Linux: the cgroup is joined first ("0" = the writer), so
            # the clone is already charged to it.
            if cg is not parent.cgroup:
                k.tracer.record(f"write {cg.dir()}/cgroup.procs", '"0"')
            k.tracer.record("clone", _flag_names(kinds))
        # The child joins its cgroup before it runs anything: the fork is
        # charged to that cgroup (pids.max applies) -- not to the engine's.
        try:
            proc = k.procs.create(parent, pidns, cg, like=parent)
        except OSError as e:
            for f in fds.values():
                f.close(k)
            raise KernelError(
                f"cannot start the container's process: fork: {os.strerror(e.errno or errno.EIO)} (cgroup /{cg.path})"
            ) from e
        if "cgroup" in kinds:
            ns.cgroup.root = cg
        proc.ns = ns
        proc.held = True
        proc.argv, proc.comm, proc.exe = ["stepbox-init"], "stepbox-init", "/usr/bin/stepbox"
        proc.fds = fds
        proc.stdin = engine_end
        self._inits[proc.pid] = proc
        return SimProcessHandle(k, proc)

    def reaped(self, proc: Process) -> None:
        """The process table released ``proc``: an init is forgotten at once.
        A dead Process keeps its whole container reachable (namespaces,
        mount table, overlay, procfs): kept until live_inits() ran, every
        lifecycle leaked one -- memory, and time, as the garbage collector
        walked them all."""
        if self._inits.get(proc.pid) is proc:
            del self._inits[proc.pid]

    def _join(self, ns, kind: str, pid: int, fds: dict):
        """setns(2) into ``pid``'s namespace of ``kind`` (only "net" is asked for)."""
        k = self.k
        try:
            target = k.procs.get(pid)
        except (OSError, KeyError, LookupError):
            target = None
        if target is None or target.state in "ZX" or kind != "net":
            for f in fds.values():
                f.close(k)
            raise KernelError(f"cannot join the {kind} namespace of process {pid}: no such process")
        if k.tracer.enabled:
            k.tracer.record("setns", f'open("/proc/{pid}/ns/{kind}"), CLONE_NEWNET')
        return ns.replace(net=target.ns.net)

    def live_inits(self) -> list[ProcessHandle]:
        for pid in [pid for pid, proc in self._inits.items() if proc.state in "ZX"]:
            del self._inits[pid]
        return [SimProcessHandle(self.k, proc) for proc in self._inits.values() if not proc.held]

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
    ) -> SimProcessHandle:
        if stdio is None or settings is not None or detach:
            raise NotSupported(
                "the simulated kernel runs exec'd processes with its own stdio and reaps them itself "
                "(the OCI runtime's options are for the linux backend)"
            )
        k = self.k
        target = k.procs.get(target_pid)
        if target.state in "ZX":
            raise KernelError(f"process {target_pid} is not running")
        if k.tracer.enabled:
            k.tracer.record("prctl", "PR_SET_DUMPABLE, 0")
            k.tracer.record(
                "setns",
                f"pidfd({target_pid}), CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|"
                f"CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWCGROUP",
            )
        fds, engine_end = open_stdio(k, stdio)
        try:
            proc = k.procs.create(k.engine, target.pidns, target.cgroup, like=target)
        except OSError as e:
            for f in fds.values():
                f.close(k)
            raise KernelError(
                f"cannot exec in the container: fork: {os.strerror(e.errno or errno.EIO)} (cgroup /{target.cgroup.path})"
            ) from e
        proc.handlers = {}
        proc.held = True
        # The joiner comes from the host, with the host's credentials; it
        # confines itself as the container's init did.
        engine = k.engine
        proc.uid, proc.gid, proc.groups = engine.uid, engine.gid, engine.groups
        proc.caps, proc.cap_bnd = engine.caps, engine.cap_bnd
        proc.no_new_privs, proc.seccomp = False, ()
        # the engine's limits and the container's --ulimit ones (not what its
        # processes may have changed since): as the Linux backend's helper
        proc.rlimits = {**engine.rlimits, **{limit.name: (limit.soft, limit.hard) for limit in rlimits}}
        for f in proc.fds.values():
            f.close(k)
        proc.fds = fds
        proc.ctty = None  # a new session: not the container's terminal
        proc.stdin = engine_end
        if stdio.tty:
            attach_terminal(k, proc, stdio.window)
        try:
            apply_privileges(k, proc, privileges or Privileges(), user)
        except OSError as e:
            k.procs.exit(proc, 126 << 8)
            raise ExecFailed(
                f"exec failed: unable to start container process: {(e.strerror or str(e)).lower()}", 126
            ) from None
        exec_program(k, proc, argv, env, cwd, None)
        return SimProcessHandle(k, proc)

    def reattach(self, record: dict) -> SimProcessHandle | None:
        k = self.k
        if record.get("backend") != "sim" or record.get("kernel") != k.boot_id:
            return None
        proc = k.procs.find(record.get("pid", 0))
        if proc is None or proc.start_time != record.get("start_time"):
            return None
        return SimProcessHandle(k, proc)

    def list(self) -> list[ProcessInfo]:
        out = []
        for proc in sorted(self.k.procs.all(), key=lambda p: p.pid):
            if proc.state == "X":
                continue
            state = proc.state
            if proc.alive and proc.cgroup.frozen_eff:
                state = "T"
            out.append(
                ProcessInfo(
                    pid=proc.pid,
                    ppid=proc.parent.pid if proc.parent is not None else 0,
                    ns_pid=proc.nspids[-1],
                    argv=tuple(proc.argv),
                    state=state,
                    namespaces={kind.value: namespace_of(proc, kind.value).inode for kind in NamespaceKind},
                    cgroup="/" + proc.cgroup.path,
                    # the simulated host knows only root by name (its /etc/passwd)
                    user="root" if proc.uid == 0 else str(proc.uid),
                    cpu_seconds=proc.cpu_usec / 1_000_000,
                    started=self.k.boot_wall + proc.start_time / 1_000_000,
                    # a container's pty is in its own devpts, which the host's ps
                    # cannot name ('?'): the simulated host has no terminals of its own
                    tty="?" if proc.ctty is not None else "",
                )
            )
        return out

    def exists(self, pid: int) -> bool:
        proc = self.k.procs.find(pid)
        return proc is not None and proc.state != "X"
