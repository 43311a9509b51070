"""The code that runs *inside* a new container, before the image's command.

Two processes run this module, both children of the shim (:mod:`.shim`):

1. the **joiner** -- it writes "0" to the container's ``cgroup.procs`` files
   (moving itself into the cgroup, so everything it creates is accounted
   there from the first instant), then ``unshare``-s the new namespaces and
   forks once.  Because ``CLONE_NEWPID`` only applies to the *children* of
   the caller, that fork is what creates PID 1 of the new PID namespace.
   The joiner then exits; the shim, a *child subreaper*, inherits PID 1.
   (runc's ``nsexec`` does the same dance, for the same reasons.)

2. **PID 1, the container's init** -- it runs a tiny command loop: it reads
   one JSON request per line from the *control pipe*, performs it on itself
   (sethostname, mount, pivot_root, drop capabilities ...) and answers on the
   *reply pipe*.  That is what lets ``stepbox step`` pause between the steps
   of a real container start.  The last request is ``exec``: the reply pipe
   is close-on-exec, so a successful execve(2) shows up on the other side
   as end-of-file, and a failed one as an error reply with the errno.

Everything here runs in a freshly forked child and must end in
``os._exit`` (never a normal interpreter exit, which would run the parent's
atexit handlers and flush its buffers a second time).
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import os
import resource
import socket
import stat as statmod
import struct
import sys

from stepbox.core.kernel.capabilities import capability_mask, capability_name

from . import libc, seccomp
from .terminal import become_controlled_by, open_pty, send_fd, set_window

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# ioctl numbers from <linux/sockios.h> and flags from <net/if.h>
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
# The interface flags the trace names (the rest show as nothing).
IFF_NAMES = (
    (0x1, "IFF_UP"),
    (0x2, "IFF_BROADCAST"),
    (0x8, "IFF_LOOPBACK"),
    (0x40, "IFF_RUNNING"),
    (0x1000, "IFF_MULTICAST"),
)

_MOUNT_FLAGS = {
    "ro": libc.MS_RDONLY,
    "rw": 0,
    "nosuid": libc.MS_NOSUID,
    "nodev": libc.MS_NODEV,
    "noexec": libc.MS_NOEXEC,
    "sync": libc.MS_SYNCHRONOUS,
    "noatime": libc.MS_NOATIME,
    "nodiratime": libc.MS_NODIRATIME,
    "relatime": libc.MS_RELATIME,
    "strictatime": libc.MS_STRICTATIME,
    "bind": libc.MS_BIND,
    "rbind": libc.MS_BIND | libc.MS_REC,
}
_PROPAGATION = {
    "private": libc.MS_PRIVATE,
    "rprivate": libc.MS_PRIVATE | libc.MS_REC,
    "slave": libc.MS_SLAVE,
    "rslave": libc.MS_SLAVE | libc.MS_REC,
    "shared": libc.MS_SHARED,
    "rshared": libc.MS_SHARED | libc.MS_REC,
    "unbindable": libc.MS_UNBINDABLE,
    "runbindable": libc.MS_UNBINDABLE | libc.MS_REC,
}


def _rlim(value: int) -> str:
    return "RLIM64_INFINITY" if value == -1 else str(value)


def _q(s: str | None) -> str:
    return "NULL" if s is None else json.dumps(s)


class Ops:
    """The trace of what init did, sent back with each reply so the caller's
    :class:`Tracer` shows the syscalls made inside the container."""

    def __init__(self):
        self.ops: list[tuple[str, str]] = []

    def add(self, call: str, detail: str) -> None:
        self.ops.append((call, detail))

    def mount(self, source, target, fstype, flags, data, shown_target=None) -> None:
        self.add(
            "mount",
            f"{_q(source)}, {_q(shown_target or target)}, {_q(fstype)}, "
            f"{libc.mount_flag_names(flags)}, {_q(data)}",
        )
        libc.mount(source, target, fstype, flags, data)


# -- helpers used by both init and the exec helper ---------------------------------------------


def raise_fd(fd: int) -> int:
    """Move ``fd`` to a number >= 10, close-on-exec, so it can never be
    clobbered by dup2 onto 0, 1 and 2."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _raise_above(fd: int, floor: int) -> int:
    """Move ``fd`` to a number >= ``floor``, close-on-exec."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor)
    os.close(fd)
    return new


def close_other_fds(keep: set[int]) -> None:
    """Close every inherited fd we do not need: the container must not see
    the engine's sockets or files."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


STDIO_KEYS = ("stdin_fd", "stdout_fd", "stderr_fd")


def stdio_fds(config: dict) -> list[int]:
    """fds 0-2 for the command: the caller's own (passed to the shim,
    ``inherit_stdio``) or files opened by path."""
    if all(key in config for key in STDIO_KEYS):
        return [raise_fd(os.dup(config[key])) for key in STDIO_KEYS]
    return open_stdio(config.get("stdio"))


def open_stdio(stdio: dict | None) -> list[int]:
    """fds 0, 1 and 2 of the container's process, opened *now*, while host
    paths still work: stdin from a host file (or /dev/null), stdout and
    stderr the write ends of the pipes the shim reads (``stdout_fd`` /
    ``stderr_fd``: the shim writes the log files, so the container never
    holds a host file it could fchmod or reopen through /proc/self/fd)."""
    if not stdio:
        null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        copies = [os.dup(null), os.dup(null)]  # before raise_fd closes the original
        return [raise_fd(null), *(raise_fd(fd) for fd in copies)]
    stdin = stdio.get("stdin")
    fds = [
        os.dup(stdio["stdin_fd"])  # the pipe the shim writes (docker run -i)
        if stdio.get("stdin_fd") is not None
        else os.open(stdin or "/dev/null", os.O_RDONLY | os.O_CLOEXEC),
        os.dup(stdio["stdout_fd"]),
        os.dup(stdio["stderr_fd"]),
    ]
    return [raise_fd(fd) for fd in fds]


PR_SET_KEEPCAPS = 8
PR_SET_DUMPABLE = 4


def drop_capabilities(keep: list[str], user: list, ops: Ops, effective: list[str] | None = None) -> None:
    """runc's finalizeNamespace, in its order:

    1. shrink the bounding set -- the most any later execve can ever give --
       while we still hold CAP_SETPCAP to do it;
    2. switch user with PR_SET_KEEPCAPS, so the permitted set survives the
       setuid and the switch itself still has CAP_SETGID/CAP_SETUID even when
       the container is to keep neither;
    3. set the effective and permitted sets: ``keep`` for uid 0, nothing for
       another user (as execve would leave them); inheritable and ambient
       empty (moby since CVE-2022-24769)."""
    keep_mask = capability_mask(keep)
    for cap in range(libc.last_capability() + 1):
        if keep_mask & (1 << cap):
            continue
        name = capability_name(cap)
        ops.add("prctl", f"PR_CAPBSET_DROP, {name}")
        try:
            libc.prctl(libc.PR_CAPBSET_DROP, cap)
        except OSError as e:
            if e.errno != errno.EINVAL:  # a capability this kernel does not know
                raise
    uid, gid, groups = (list(user) + [[]])[:3]
    ops.add("prctl", "PR_SET_KEEPCAPS, 1")
    libc.prctl(PR_SET_KEEPCAPS, 1)
    switch_user(uid, gid, groups, ops)
    ops.add("prctl", "PR_SET_KEEPCAPS, 0")
    libc.prctl(PR_SET_KEEPCAPS, 0)
    ops.add("prctl", "PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL")
    libc.prctl(libc.PR_CAP_AMBIENT, libc.PR_CAP_AMBIENT_CLEAR_ALL)
    if effective is not None:
        granted = capability_mask(effective)
    else:
        granted = keep_mask if uid == 0 else 0
    ops.add(
        "capset",
        f"{{version=_LINUX_CAPABILITY_VERSION_3}}, {{effective={granted:#x}, "
        f"permitted={granted:#x}, inheritable=0}}",
    )
    libc.capset(granted, granted, 0)


def switch_user(uid: int, gid: int, groups: list[int], ops: Ops) -> None:
    """setgroups, setgid, setuid -- in that order: after setuid to a
    non-root user the others would no longer be allowed."""
    ops.add("setgroups", f"{len(groups)}, [{', '.join(map(str, groups))}]")
    os.setgroups(list(groups))
    if os.getgid() != gid or os.getegid() != gid:
        ops.add("setgid", str(gid))
        os.setresgid(gid, gid, gid)
    if os.getuid() != uid or os.geteuid() != uid:
        ops.add("setuid", str(uid))
        os.setresuid(uid, uid, uid)


def set_no_new_privs(ops: Ops) -> None:
    ops.add("prctl", "PR_SET_NO_NEW_PRIVS, 1")
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)


def rlimit_number(name: str) -> int:
    """setrlimit(2)'s resource number for an OCI name (``RLIMIT_NOFILE``) or
    docker's (``nofile``); Python's resource module lacks some (RLIMIT_LOCKS)."""
    return libc.RLIMIT_NUMBERS[name.lower().removeprefix("rlimit_")]


def apply_process_settings(req: dict) -> None:
    """What an OCI ``process`` asks besides the user: rlimits and the OOM
    score (both before the switch of user, which may lose the right)."""
    for name, soft, hard in req.get("rlimits") or []:
        try:
            resource.setrlimit(rlimit_number(name), (soft, hard))
        except ValueError:  # Python's word for setrlimit's EPERM/EINVAL
            raise PermissionError(
                errno.EPERM,
                f"setting {name} to {soft}/{hard}: not permitted (raising a hard limit needs "
                f"CAP_SYS_RESOURCE; soft must not exceed hard)",
            ) from None
    if req.get("oom_score_adj") is not None:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(req["oom_score_adj"]))
    if req.get("umask") is not None:
        os.umask(req["umask"])  # process.user.umask (podman sets it)


def find_command(argv0: str, env: dict[str, str]) -> tuple[int, str]:
    """Where execvp(3) would find ``argv0``: (0, path), or (errno, name)."""
    if "/" in argv0:
        candidates = [argv0]
    else:
        candidates = [os.path.join(d or ".", argv0) for d in env.get("PATH", DEFAULT_PATH).split(":")]
    found = (errno.ENOENT, argv0)
    for candidate in candidates:
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if statmod.S_ISREG(st.st_mode) and st.st_mode & 0o111:
            return 0, candidate
        found = (errno.EACCES, candidate)
    return found


def enter_confinement(config: dict, ops: Ops) -> None:
    """What a container's process does last before its exec, in runc's
    order (an exec'd process, and stepbox-runc's init at its start gate)."""
    program = base64.b64decode(config["seccomp"]) if config.get("seccomp") else None
    if program is not None and not config.get("no_new_privs"):
        load_seccomp(program, ops)  # needs CAP_SYS_ADMIN: before the drop
    drop_capabilities(config["keep_caps"], config.get("user", [0, 0, []]), ops, config.get("effective"))
    if config.get("no_new_privs"):
        set_no_new_privs(ops)
        if program is not None:
            load_seccomp(program, ops)  # as late as possible


def load_seccomp(program: bytes, ops: Ops, shown: str = "") -> None:
    """Install a filter libseccomp compiled (in the engine).  ``shown`` is
    how the trace names it -- the rules, as the simulator shows them too."""
    ops.add("seccomp", f"SECCOMP_SET_MODE_FILTER, 0, {{{shown or f'{len(program) // 8} BPF instructions'}}}")
    seccomp.load_program(program)


def make_device_nodes(nodes: list[dict], rootfs: str, ops: Ops) -> None:
    """mknod the container's device files in its /dev (runc's createDevices),
    with umask 0 so the modes are the ones asked for.  Paths resolve inside
    ``rootfs`` only (an image's /dev symlink cannot send them elsewhere)."""
    old = os.umask(0)
    try:
        for node in nodes:
            kind = statmod.S_IFCHR if node["type"] == "c" else statmod.S_IFBLK
            parent, name = os.path.split(node["path"].rstrip("/"))
            shown = os.path.join(rootfs, node["path"].lstrip("/"))
            dirfd = _dir_in_root(rootfs, parent)
            try:
                try:
                    os.unlink(name, dir_fd=dirfd)  # an image's file of that name goes
                except FileNotFoundError:
                    pass
                ops.add(
                    "mknod",
                    f"{_q(shown)}, {'S_IFCHR' if node['type'] == 'c' else 'S_IFBLK'}|{node['mode']:04o}, "
                    f"makedev({node['major']}, {node['minor']})",
                )
                try:
                    os.mknod(
                        name, kind | node["mode"], os.makedev(node["major"], node["minor"]), dir_fd=dirfd
                    )
                except PermissionError:
                    # Rootless (a user namespace may not mknod): bind the host's
                    # node of that number over an empty file instead, as runc does.
                    _bind_host_node(node, name, dirfd, shown, ops)
                    continue
                os.chown(name, node["uid"], node["gid"], dir_fd=dirfd, follow_symlinks=False)
            finally:
                os.close(dirfd)
    finally:
        os.umask(old)


def _bind_host_node(node: dict, name: str, dirfd: int, shown: str, ops: Ops) -> None:
    """The host's device file at the node's path, bound over an empty file
    (only if it is that very device: same type and numbers)."""
    host = node.get("host_path") or node["path"]
    try:
        st = os.stat(host)
    except OSError:
        st = None
    kind = statmod.S_ISCHR if node["type"] == "c" else statmod.S_ISBLK
    if st is None or not kind(st.st_mode) or st.st_rdev != os.makedev(node["major"], node["minor"]):
        raise PermissionError(
            f"cannot make {node['path']} in a user namespace, and the host has no such device to bind"
        )
    os.close(os.open(name, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644, dir_fd=dirfd))
    ops.mount(host, f"/proc/self/fd/{dirfd}/{name}", None, libc.MS_BIND, None, shown)


def _dir_in_root(rootfs: str, path: str) -> int:
    """An fd of directory ``path`` inside ``rootfs``, made if missing, never
    leaving ``rootfs`` (RESOLVE_IN_ROOT)."""
    rootfd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parts = [p for p in path.split("/") if p and p != "."]
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            try:
                os.close(libc.openat2(rootfd, sub, os.O_PATH | os.O_DIRECTORY, 0, libc.RESOLVE_IN_ROOT))
            except FileNotFoundError:
                parent = libc.openat2(
                    rootfd, "/".join(parts[:i]) or ".", os.O_PATH | os.O_DIRECTORY, 0, libc.RESOLVE_IN_ROOT
                )
                try:
                    os.mkdir(parts[i], 0o755, dir_fd=parent)
                finally:
                    os.close(parent)
        return libc.openat2(
            rootfd, "/".join(parts) or ".", os.O_DIRECTORY | os.O_RDONLY, 0, libc.RESOLVE_IN_ROOT
        )
    finally:
        os.close(rootfd)


def exec_command(
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    user: list[int] | None,
    stdio_fds: list[int],
    terminal: int | None = None,
) -> tuple[int, str]:
    """chdir, switch user (if asked and not done yet), put stdio on 0/1/2 and
    execve -- searching PATH like execvp(3).  With a ``terminal`` (a pty's
    slave), that is fds 0, 1 and 2 and the controlling terminal instead.
    Only returns on failure: (errno, the path tried).  The working directory
    must exist (the engine made it before the container started, as dockerd
    does)."""
    os.chdir(cwd)
    if terminal is not None:
        become_controlled_by(terminal)
        uid, gid = (user or [os.getuid(), os.getgid()])[:2]
        if os.getuid() == 0 and (uid, gid) != (0, 0):
            os.fchown(terminal, uid, gid)  # the user's own terminal, as runc gives it
        stdio_fds = [terminal, terminal, terminal]
    if user is not None:
        uid, gid = user[:2]
        if (os.getuid(), os.getgid()) != (uid, gid):
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
    for target, fd in enumerate(stdio_fds):
        os.dup2(fd, target)  # dup2'd fds are inheritable
    name = argv[0]
    if "/" in name:
        candidates = [name]
    else:
        path = env.get("PATH", DEFAULT_PATH)
        candidates = [os.path.join(d or ".", name) for d in path.split(":")]
    not_executable = None
    for candidate in candidates:
        try:
            os.execve(candidate, argv, env)
        except OSError as e:
            # Like execvp(3): keep searching after ENOENT/ENOTDIR; remember an
            # EACCES (the file exists but cannot be run); stop on anything else.
            if e.errno == errno.EACCES:
                not_executable = (errno.EACCES, candidate)
            elif e.errno not in (errno.ENOENT, errno.ENOTDIR):
                return e.errno or errno.EIO, candidate
    return not_executable or (errno.ENOENT, name)


# -- the joiner ----------------------------------------------------------------------------


def run_joiner(config: dict, sync_w: int, ack_r: int) -> None:
    """Join the cgroup, unshare the namespaces, fork PID 1; report its host PID.

    With a user namespace, it is created first, alone: its uid/gid maps
    can only be written from *outside* (by the shim, in the parent user
    namespace), so the joiner asks over the pipe and waits for the answer
    before it makes itself root of the new namespace and creates the
    others -- which the new user namespace then owns."""
    code = 0
    try:
        for procs in config["cgroup_procs"]:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")  # "0" means: the writing process
            finally:
                os.close(fd)
        # Open the log files while we are still the host's root: inside a
        # user namespace we would be a mapped uid without rights on them.
        stdio = stdio_fds(config)
        if config.get("start_gate"):
            stdio.append(open_start_gate(config["start_gate"]))
        join_namespaces(config.get("join") or [])
        flags = config["flags"]
        if flags & libc.CLONE_NEWUSER:
            libc.unshare(libc.CLONE_NEWUSER)
            os.write(sync_w, json.dumps({"map": os.getpid()}).encode() + b"\n")
            if os.read(ack_r, 1) != b"k":
                raise OSError(errno.EIO, "the shim could not write the uid/gid maps")
            os.setresgid(0, 0, 0)  # root *of the new namespace*
            os.setresuid(0, 0, 0)
            flags &= ~libc.CLONE_NEWUSER
        os.close(ack_r)
        libc.unshare(flags)
        pid = os.fork()
        if pid == 0:
            os.close(sync_w)
            run_init(config, stdio)  # never returns
        os.write(sync_w, json.dumps({"init": pid, "joiner": os.getpid()}).encode() + b"\n")
    except BaseException as e:  # report anything, then die
        err = getattr(e, "errno", None) or errno.EIO
        os.write(sync_w, json.dumps({"error": f"{type(e).__name__}: {e}", "errno": err}).encode() + b"\n")
        code = 1
    os._exit(code)


def open_start_gate(path: str) -> int:
    """The FIFO ``exec`` waits on (runc's exec.fifo).  Opened read-write,
    so our read blocks until a writer writes -- never end-of-file -- and a
    writer's non-blocking open succeeds only while we are there to read."""
    os.mkfifo(path, 0o600)
    return raise_fd(os.open(path, os.O_RDWR | os.O_CLOEXEC))


# The order runc's nsexec joins in: user first (it owns the others), mnt last.
JOIN_ORDER = ("user", "cgroup", "ipc", "uts", "net", "pid", "mnt")


def join_namespaces(join: list[list[str]]) -> None:
    """setns(2) into each (kind, path): all opened first, on the host's paths."""
    fds = [(kind, os.open(path, os.O_RDONLY | os.O_CLOEXEC)) for kind, path in join]
    fds.sort(key=lambda kf: JOIN_ORDER.index(kf[0]))
    for _kind, fd in fds:
        try:
            libc.setns(fd, 0)
        finally:
            os.close(fd)


# -- PID 1: the command loop -------------------------------------------------------------------------


class Init:
    def __init__(self, config: dict, stdio: list[int]):
        # stdio, and the start gate after it if the spawn asked for one
        self.stdio, self.gate = stdio[:3], (stdio[3] if len(stdio) > 3 else None)
        self.cmd = raise_fd(config["cmd_fd"])
        self.rep = raise_fd(config["rep_fd"])
        self.console = raise_fd(config["console_fd"]) if config.get("console_fd") is not None else None
        self.terminal: int | None = None  # the pty's slave, once made
        # --preserve-fds: moved above where they go (3 .. 3+N-1) until the exec
        count = int(config.get("preserve_fds") or 0)
        self.preserved = [_raise_above(config[f"preserved_fd_{i}"], max(10, 3 + count)) for i in range(count)]
        keep = {self.cmd, self.rep, *stdio, *self.preserved}
        close_other_fds(keep if self.console is None else keep | {self.console})
        self.buf = b""

    # -- the pipe protocol ----------------------------------------------------------------
    def read_request(self) -> dict | None:
        while b"\n" not in self.buf:
            chunk = os.read(self.cmd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def reply(self, obj: dict) -> None:
        data = json.dumps(obj).encode() + b"\n"
        while data:
            data = data[os.write(self.rep, data) :]

    def loop(self) -> None:
        while True:
            req = self.read_request()
            if req is None:
                # The engine went away before exec: nothing will ever run here.
                os._exit(255)
            ops = Ops()
            op = req.pop("op")
            try:
                if op == "exec":
                    self.do_exec(req, ops)  # returns only on failure
                    continue
                getattr(self, "do_" + op)(ops, **req)
            except OSError as e:
                self.reply({"ok": False, "errno": e.errno or errno.EIO, "error": str(e), "ops": ops.ops})
            except Exception as e:
                self.reply(
                    {"ok": False, "errno": errno.EINVAL, "error": f"{type(e).__name__}: {e}", "ops": ops.ops}
                )
            else:
                self.reply({"ok": True, "ops": ops.ops})

    # -- operations ---------------------------------------------------------------------------
    def do_sethostname(self, ops: Ops, name: str) -> None:
        ops.add("sethostname", f"{_q(name)}, {len(name.encode())}")
        libc.sethostname(name)

    def do_make_mounts_private(self, ops: Ops) -> None:
        ops.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE, None)

    def do_mount(
        self, ops: Ops, source: str, target: str, fstype: str, options: list[str], rootfs: str
    ) -> None:
        flags, propagation, data = 0, 0, []
        recursive_readonly = remount = False
        for opt in options:
            if opt == "rro":
                recursive_readonly = True
            elif opt == "remount":
                remount = True
            elif opt in _MOUNT_FLAGS:
                flags |= _MOUNT_FLAGS[opt]
            elif opt in _PROPAGATION:
                propagation |= _PROPAGATION[opt]
            else:
                data.append(opt)
        if fstype == "cgroup":
            self._mount_cgroups(ops, target, rootfs, flags)
            return
        if fstype == "remount":  # new flags for what is mounted there (a read-only root)
            path = os.path.join(rootfs, target.lstrip("/"))
            keep = os.statvfs(path).f_flag & (libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC)
            ops.mount(None, path, None, libc.MS_BIND | libc.MS_REMOUNT | flags | keep, None)
            return
        is_bind = fstype == "bind" or flags & libc.MS_BIND
        if is_bind:
            flags |= libc.MS_BIND
        shown = os.path.join(rootfs, target.lstrip("/"))
        if remount:
            self._remount(ops, rootfs, target, flags, shown)
            return
        file_target = bool(is_bind and os.path.exists(source) and not os.path.isdir(source))
        path, fd = self._mountpoint(rootfs, target, file_target)
        try:
            if is_bind:
                ops.mount(source, path, None, flags & (libc.MS_BIND | libc.MS_REC), None, shown)
            else:
                try:
                    ops.mount(source, path, fstype, flags, ",".join(data) or None, shown)
                except PermissionError:
                    if fstype != "sysfs":
                        raise
                    # Rootless and sharing the host's network namespace (owned
                    # by the host's user namespace): no new sysfs may be
                    # mounted; the one we see is bound in instead, as runc does.
                    ops.mount("/sys", path, None, libc.MS_BIND | libc.MS_REC, None, shown)
                    # (the remount names the new mount by its path: the fd
                    # behind `path` still refers to the directory under it)
                    ops.mount(None, shown, None, libc.MS_BIND | libc.MS_REMOUNT | flags, None, shown)
        finally:
            if fd is not None:
                os.close(fd)
        extra = flags & ~(libc.MS_BIND | libc.MS_REC) if is_bind else 0
        if not extra and not recursive_readonly and not propagation:
            return
        # What follows acts on the mount just made, so the target is opened
        # again: the fd opened before the mount names the directory under it.
        path, fd = self._mountpoint(rootfs, target, file_target)
        try:
            if extra:
                # A bind mount ignores most flags on the first call; they
                # take effect with a remount of the bind -- of this one
                # mount, not of what is mounted below it.
                ops.mount(None, path, None, libc.MS_BIND | libc.MS_REMOUNT | extra, None, shown)
            if recursive_readonly:
                ops.add("mount_setattr", f"{_q(shown)}, AT_RECURSIVE, {{attr_set=MOUNT_ATTR_RDONLY}}")
                libc.mount_setattr(-100, path, libc.AT_RECURSIVE, libc.MOUNT_ATTR_RDONLY)  # AT_FDCWD
            if propagation:
                ops.mount(None, path, None, propagation, None, shown)
        finally:
            if fd is not None:
                os.close(fd)

    def _mount_cgroups(self, ops: Ops, target: str, rootfs: str, flags: int) -> None:
        """An OCI ``cgroup`` mount without a cgroup namespace, as runc makes
        it: a tmpfs at ``target`` and, in it, each hierarchy the host has
        mounted, bound at this process's own group (read-only if asked) --
        so the container sees its own limits and nothing above them.  On a
        hybrid host the cgroup2 tree is left out, as runc does."""
        self.do_mount(ops, "tmpfs", target, "tmpfs", ["nosuid", "nodev", "noexec", "mode=755"], rootfs)
        own = {}
        with open("/proc/self/cgroup") as f:
            for line in f:
                _id, controllers, path = line.rstrip("\n").split(":", 2)
                own[controllers] = path
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split() for line in f]
        wanted = []
        for fields in mounts:
            sep = fields.index("-")
            fstype, super_options, mountpoint = fields[sep + 1], fields[sep + 3].split(","), fields[4]
            if fstype not in ("cgroup", "cgroup2") or not mountpoint.startswith("/sys/fs/cgroup"):
                continue
            if fstype == "cgroup2":
                key: str | None = ""
            else:
                names = [
                    o
                    for o in super_options
                    if o not in ("rw", "ro") and ("=" not in o or o.startswith("name="))
                ]
                key = next((k for k in own if k and set(k.split(",")) <= set(names)), None)
            if key is None or key not in own:
                continue
            wanted.append((fstype, mountpoint, key))
        if any(fstype == "cgroup" for fstype, _, _ in wanted):
            wanted = [w for w in wanted if w[0] == "cgroup"]
        for _fstype, mountpoint, key in wanted:
            name = os.path.basename(mountpoint) if mountpoint != "/sys/fs/cgroup" else ""
            source = mountpoint + own[key].rstrip("/")
            if not os.path.isdir(source):
                continue
            options = ["rbind"] + (["ro"] if flags & libc.MS_RDONLY else []) + ["nosuid", "nodev", "noexec"]
            self.do_mount(ops, source, f"{target.rstrip('/')}/{name}".rstrip("/"), "bind", options, rootfs)

    def _remount(self, ops: Ops, rootfs: str, target: str, flags: int, shown: str) -> None:
        """Change the flags of the mount at ``target`` (``--read-only``: the
        root).  The flags it has and must keep (nosuid, nodev, noexec) are
        read back first: a remount would otherwise clear them."""
        path = os.path.join(rootfs, target.lstrip("/")) or "/"
        keep = os.statvfs(path).f_flag & (libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC)
        ops.mount(None, path, None, libc.MS_REMOUNT | flags | keep, None, shown)

    @staticmethod
    def _mountpoint(rootfs: str, target: str, is_file: bool) -> tuple[str, int | None]:
        """Create the mount point inside ``rootfs`` without following any
        symlink out of it (an image could ship ``proc -> /etc``), and return
        a path to it that cannot be redirected: /proc/self/fd/N of an
        O_PATH fd opened with RESOLVE_IN_ROOT -- the way runc does it."""
        parts = [p for p in target.split("/") if p and p != "."]
        rootfd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        resolve = libc.RESOLVE_IN_ROOT
        try:
            for i, part in enumerate(parts):
                sub = "/".join(parts[: i + 1])
                try:
                    os.close(libc.openat2(rootfd, sub, os.O_PATH, 0, resolve))
                    continue
                except FileNotFoundError:
                    pass
                parent = libc.openat2(
                    rootfd, "/".join(parts[:i]) or ".", os.O_PATH | os.O_DIRECTORY, 0, resolve
                )
                try:
                    if is_file and i == len(parts) - 1:
                        os.close(os.open(part, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644, dir_fd=parent))
                    else:
                        os.mkdir(part, 0o755, dir_fd=parent)
                finally:
                    os.close(parent)
            fd = libc.openat2(rootfd, "/".join(parts) or ".", os.O_PATH, 0, resolve)
        finally:
            os.close(rootfd)
        magic = f"/proc/self/fd/{fd}"
        if os.path.lexists(magic):
            return magic, fd
        os.close(fd)  # no /proc in here (yet): fall back to the path
        return os.path.join(rootfs, "/".join(parts)), None

    def do_pivot_root(self, ops: Ops, new_root: str) -> None:
        # pivot_root needs new_root to be a mount point (bind it on itself)
        # and moves the old root *under* it; with new_root == put_old == "."
        # the old root ends up stacked on "." and one lazy umount of "."
        # removes it -- no directory for the old root is needed.
        ops.mount(new_root, new_root, None, libc.MS_BIND | libc.MS_REC, None)
        ops.add("chdir", _q(new_root))
        os.chdir(new_root)
        ops.add("pivot_root", '".", "."')
        libc.pivot_root(".", ".")
        ops.add("umount2", '".", MNT_DETACH')
        libc.umount2(".", libc.MNT_DETACH)
        ops.add("chdir", '"/"')
        os.chdir("/")

    def do_move_root(self, ops: Ops, new_root: str) -> None:
        # runc's msMoveRoot (--no-pivot): the new root's mount moved onto
        # "/", then chroot into it.  The old root's mounts stay underneath.
        ops.mount(new_root, new_root, None, libc.MS_BIND | libc.MS_REC, None)
        ops.add("chdir", _q(new_root))
        os.chdir(new_root)
        ops.mount(".", "/", None, libc.MS_MOVE, None)
        ops.add("chroot", '"."')
        os.chroot(".")
        ops.add("chdir", '"/"')
        os.chdir("/")

    def do_mask_paths(self, ops: Ops, masked: list[str], readonly: list[str]) -> None:
        for path in masked:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # nothing to hide
            if statmod.S_ISDIR(st.st_mode):
                ops.mount("tmpfs", path, "tmpfs", libc.MS_RDONLY, None)
            else:
                # Bind the container's /dev/null over the file: reads give
                # nothing.  (The source of a bind mount must be in our mount
                # namespace, so the host's /dev/null is out of reach now.)
                null = os.stat("/dev/null") if os.path.exists("/dev/null") else None
                if null is None or not statmod.S_ISCHR(null.st_mode) or null.st_rdev != os.makedev(1, 3):
                    raise OSError(
                        errno.ENOENT,
                        "masking files needs /dev/null in the "
                        "container: mount /dev (and /dev/null) before mask_paths",
                    )
                ops.mount("/dev/null", path, None, libc.MS_BIND, None)
        for path in readonly:
            if not os.path.exists(path):
                continue
            ops.mount(path, path, None, libc.MS_BIND | libc.MS_REC, None)
            # Keep the flags the mount already has (nosuid, noexec ...):
            # a remount must not loosen them.
            keep = os.statvfs(path).f_flag & (libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC)
            ops.mount(
                path, path, None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | libc.MS_REC | keep, None
            )

    def do_bring_up_loopback(self, ops: Ops) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            ifreq = struct.pack("16sH14s", b"lo", 0, b"")
            flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq)[:18])[1]
            names = "|".join(name for bit, name in IFF_NAMES if (flags | IFF_UP) & bit)
            ops.add("ioctl", f'SIOCSIFFLAGS, {{ifr_name="lo", ifr_flags={names}}}')
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))

    def do_make_device_nodes(self, ops: Ops, nodes: list[dict], rootfs: str) -> None:
        make_device_nodes(nodes, rootfs, ops)

    def do_make_symlinks(self, ops: Ops, links: list[list[str]], rootfs: str) -> None:
        for target, path in links:
            parent, name = os.path.split(path.rstrip("/"))
            dirfd = _dir_in_root(rootfs, parent)
            try:
                ops.add("symlink", f"{_q(target)}, {_q(os.path.join(rootfs, path.lstrip('/')))}")
                try:
                    os.symlink(target, name, dir_fd=dirfd)
                except FileExistsError:
                    pass  # the image has one: leave it (runc does too)
            finally:
                os.close(dirfd)

    def do_load_seccomp(self, ops: Ops, program: str, shown: str = "") -> None:
        load_seccomp(base64.b64decode(program), ops, shown)

    def do_set_rlimits(self, ops: Ops, limits: list[list]) -> None:
        """--ulimit: setrlimit(2) here, before exec (which keeps them)."""
        for name, soft, hard in limits:
            resource_id = libc.RLIMIT_NUMBERS[name]
            ops.add(
                "prlimit64",
                f"0, RLIMIT_{name.upper()}, {{rlim_cur={_rlim(soft)}, rlim_max={_rlim(hard)}}}, NULL",
            )
            resource.setrlimit(resource_id, (soft, hard))  # -1 is RLIM_INFINITY

    def do_drop_capabilities(
        self, ops: Ops, keep: list[str], user: list, effective: list[str] | None = None
    ) -> None:
        drop_capabilities(keep, user, ops, effective)

    def do_set_no_new_privs(self, ops: Ops) -> None:
        set_no_new_privs(ops)

    def do_open_terminal(self, ops: Ops, window: list[int] | None = None) -> None:
        """Open a pseudo-terminal from the container's own /dev/pts, bind its
        slave on /dev/console, send the master to the shim; keep the slave
        for exec."""
        if self.console is None:
            raise OSError(errno.EINVAL, "this process was not spawned for a terminal (Stdio(tty=True))")
        ops.add("open", '"/dev/pts/ptmx", O_RDWR|O_NOCTTY|O_CLOEXEC')
        master, slave, path = open_pty("/dev/pts")
        try:
            ops.add("ioctl", "TIOCSPTLCK, 0 (unlockpt)")
            ops.add("open", f'"{path}", O_RDWR|O_NOCTTY|O_CLOEXEC')
            if window:
                ops.add("ioctl", f"TIOCSWINSZ, {{ws_row={window[0]}, ws_col={window[1]}}}")
                set_window(master, window[0], window[1])
            if not os.path.exists("/dev/console"):
                os.close(os.open("/dev/console", os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            ops.mount(path, "/dev/console", None, libc.MS_BIND, None)
            ops.add("sendmsg", "console socket, SCM_RIGHTS [the master]")
            send_fd(self.console, master)
        except BaseException:
            os.close(slave)
            raise
        finally:
            os.close(master)
        os.close(self.console)
        self.console = None
        self.terminal = raise_fd(slave)

    def do_sysctl(self, ops: Ops, name: str, value: str) -> None:
        # /proc/sys/net answers for the network namespace of the writer: ours.
        path = "/proc/sys/" + name.replace(".", "/")
        ops.add("write", f"{_q(path)}, {_q(value)}")
        with open(path, "w") as f:
            f.write(value)

    def wait_at_gate(self, req: dict, ops: Ops) -> None:
        """The OCI ``create`` ends here, in runc's order: the command is
        looked up (a missing one fails the create), then the process is
        confined (seccomp, the bounding set, the user switched keeping the
        capabilities across setuid, the capabilities, no_new_privs); the engine is told we are ready, and we block
        until ``start`` writes to the gate.  Then only execve is left."""
        err, path = find_command(req["argv"][0], req["env"])
        if err:
            self.reply(
                {
                    "ok": False,
                    "errno": err,
                    "exec": True,
                    "path": path,
                    "error": os.strerror(err),
                    "ops": ops.ops,
                }
            )
            os._exit(127 if err == errno.ENOENT else 126)
        cwd = req.get("cwd", "/")
        os.makedirs(cwd, 0o755, exist_ok=True)  # a missing working dir is created, as runc does
        if self.terminal is not None:
            # process.terminal: the pty's slave becomes the controlling
            # terminal (setsid + TIOCSCTTY) and fds 0-2 at exec, owned by the
            # process's user -- while we are still root, as runc does.
            ops.add("setsid", "")
            ops.add("ioctl", "0, TIOCSCTTY, 0")
            become_controlled_by(self.terminal)
            uid, gid = (req.get("user") or [0, 0])[:2]
            if (uid, gid) != (0, 0):
                os.fchown(self.terminal, uid, gid)
        enter_confinement(req, ops)
        os.chdir(cwd)  # as the user, after the switch: runc's order
        assert self.gate is not None
        self.reply({"ok": True, "waiting": True, "ops": ops.ops})
        for fd in (self.cmd, self.rep):
            os.close(fd)  # the creator is gone; only the gate matters now
        self.cmd = self.rep = -1
        while os.read(self.gate, 1) != b"0":
            pass
        os.close(self.gate)
        stdio = self.stdio if self.terminal is None else [self.terminal] * 3
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        for target, fd in enumerate(self.preserved, start=3):
            os.dup2(fd, target)  # inheritable: the command gets them
        try:
            os.execve(path, req["argv"], req["env"])
        except OSError as e:
            os.write(2, f"stepbox init: exec {path}: {e.strerror}\n".encode())
            os._exit(127 if e.errno in (errno.ENOENT, errno.ENOTDIR) else 126)

    def do_exec(self, req: dict, ops: Ops) -> None:
        try:
            apply_process_settings(req)
            if req.get("gate"):
                self.wait_at_gate(req, ops)
            err, path = exec_command(
                req["argv"], req["env"], req.get("cwd", "/"), req.get("user"), self.stdio, self.terminal
            )
        except OSError as e:  # chdir, setuid ... before execve
            if self.rep == -1:  # past the gate: the container's stderr is where it shows
                os.write(self.stdio[2], f"stepbox init: {e}\n".encode())
                os._exit(126)
            self.reply(
                {
                    "ok": False,
                    "errno": e.errno or errno.EIO,
                    "stage": "setup",
                    "error": str(e),
                    "ops": ops.ops,
                }
            )
            os._exit(126)
        # Still here: execve failed.  Tell the engine, then end like a shell
        # would: 127 for "not found", 126 for "found but cannot run".
        self.reply(
            {"ok": False, "errno": err, "exec": True, "path": path, "error": os.strerror(err), "ops": ops.ops}
        )
        os._exit(127 if err in (errno.ENOENT, errno.ENOTDIR) else 126)


def run_init(config: dict, stdio: list[int]) -> None:
    """PID 1 until exec.  Any way out of the loop other than exec ends the
    container with status 255 (and a line in the shim's log)."""
    try:
        Init(config, stdio).loop()
    except BaseException as e:
        try:
            sys.stderr.write(f"stepbox init: {type(e).__name__}: {e}\n")
            sys.stderr.flush()
        except Exception:
            pass
    os._exit(255)
