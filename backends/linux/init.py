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
import socket
import stat as statmod
import struct
import sys

from stepbox.core.kernel.capabilities import capability_mask, capability_name

from . import libc, seccomp

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
        os.open(stdin or "/dev/null", os.O_RDONLY | os.O_CLOEXEC),
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
    argv: list[str], env: dict[str, str], cwd: str, user: list[int] | None, stdio_fds: list[int]
) -> tuple[int, str]:
    """chdir, switch user (if asked and not done yet), put stdio on 0/1/2 and
    execve -- searching PATH like execvp(3).  Only returns on failure:
    (errno, the path tried).  The working directory must exist (the engine
    made it before the container started, as dockerd does)."""
    os.chdir(cwd)
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
        stdio = open_stdio(config.get("stdio"))
        # Namespaces joined rather than made (--network container:ID): while
        # we are still the host's root, so joining needs no rights in a new
        # user namespace.
        for kind, target in config.get("join", []):
            fd = os.open(f"/proc/{int(target)}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                libc.setns(fd, 0)
            finally:
                os.close(fd)
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


# -- PID 1: the command loop -------------------------------------------------------------------------


class Init:
    def __init__(self, config: dict, stdio: list[int]):
        self.stdio = stdio
        self.cmd = raise_fd(config["cmd_fd"])
        self.rep = raise_fd(config["rep_fd"])
        close_other_fds({self.cmd, self.rep, *self.stdio})
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
        for opt in options:
            if opt in _MOUNT_FLAGS:
                flags |= _MOUNT_FLAGS[opt]
            elif opt in _PROPAGATION:
                propagation |= _PROPAGATION[opt]
            else:
                data.append(opt)
        is_bind = fstype == "bind" or flags & libc.MS_BIND
        if is_bind:
            flags |= libc.MS_BIND
        shown = os.path.join(rootfs, target.lstrip("/"))
        file_target = bool(is_bind and os.path.exists(source) and not os.path.isdir(source))
        path, fd = self._mountpoint(rootfs, target, file_target)
        try:
            if is_bind:
                # A bind mount ignores most flags on the first call; they
                # take effect with a remount of the bind.
                ops.mount(source, path, None, flags & (libc.MS_BIND | libc.MS_REC), None, shown)
                extra = flags & ~(libc.MS_BIND | libc.MS_REC)
                if extra:
                    ops.mount(None, path, None, libc.MS_BIND | libc.MS_REMOUNT | extra, None, shown)
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
            if propagation:
                ops.mount(None, path, None, propagation, None, shown)
        finally:
            if fd is not None:
                os.close(fd)

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

    def do_drop_capabilities(
        self, ops: Ops, keep: list[str], user: list, effective: list[str] | None = None
    ) -> None:
        drop_capabilities(keep, user, ops, effective)

    def do_set_no_new_privs(self, ops: Ops) -> None:
        set_no_new_privs(ops)

    def do_exec(self, req: dict, ops: Ops) -> None:
        try:
            err, path = exec_command(
                req["argv"], req["env"], req.get("cwd", "/"), req.get("user"), self.stdio
            )
        except OSError as e:  # chdir, setuid ... before execve
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
