"""Rootless: real containers for a user without root, as podman and rootlesskit do it.

A user namespace makes an unprivileged user root -- of that namespace only.
In it the kernel lets us mount overlayfs (Linux >= 5.11), make mount, PID,
UTS, IPC, network and cgroup namespaces, pivot_root and drop capabilities:
all a container needs.  Root of the namespace is the user on the host; the
other IDs of a container (a file owned by uid 33 in the image) must be
mapped too, to the user's *subordinate IDs*:

* ``/etc/subuid`` and ``/etc/subgid`` give each user a range
  (``alice:100000:65536``), and the setuid helpers ``newuidmap`` and
  ``newgidmap`` (Debian's ``uidmap``) write a namespace's map with it:
  ``0 -> the user, 1..65536 -> 100000..165535``.
* Without subordinate IDs (or without the helpers) the user may still map
  itself alone (``0 -> the user``, after writing ``deny`` to ``setgroups``):
  a single-ID map, in which only root exists and files of other owners in
  an image cannot be made.

Where the namespaces live: podman's *pause process*.  The first rootless
program for a state directory forks a process that makes the user and mount
namespaces and then only sleeps; it and every later program (the daemon, a
restarted daemon, ``stepbox step``) *join* them with setns(2), so they all
see the same mounts and may enter the same containers.  Joining a user
namespace needs a single-threaded process -- which is why this happens when
the backend is opened, before any thread starts.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass

from stepbox.core.kernel.atomic import atomic_write_json

from . import libc
from .procfs import read_mountinfo, start_time

SUBUID, SUBGID = "/etc/subuid", "/etc/subgid"
OVERLAY_IN_USERNS = (5, 11)  # overlayfs mountable in a user namespace since Linux 5.11
PAUSE_FILE = "rootless-pause.json"  # under STATE/linux/


@dataclass(frozen=True)
class IdMaps:
    uid_map: tuple[tuple[int, int, int], ...]
    gid_map: tuple[tuple[int, int, int], ...]
    helpers: bool  # written by newuidmap/newgidmap (else by ourselves: a single ID)
    why_single: str = ""  # why there is no range, when there is none

    def describe(self) -> str:
        ids = sum(count for _inside, _outside, count in self.uid_map)
        if self.helpers:
            return f"{ids} IDs mapped (the user and its subordinate IDs)"
        return f"a single-ID map ({self.why_single})"


def in_initial_user_namespace() -> bool:
    """Is this the host's own user namespace (the identity map of every ID)?"""
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return True  # no user namespaces at all


def subordinate_range(path: str, user: str, uid: int) -> tuple[int, int] | None:
    """The first ``name-or-uid:start:count`` line of ``path`` for this user."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in (user, str(uid)) and parts[1].isdigit() and parts[2].isdigit():
            if int(parts[2]) > 0:
                return int(parts[1]), int(parts[2])
    return None


def id_maps(uid: int | None = None, gid: int | None = None) -> IdMaps:
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    sub_u, sub_g = subordinate_range(SUBUID, user, uid), subordinate_range(SUBGID, user, uid)
    single = ((0, uid, 1),), ((0, gid, 1),)
    if sub_u is None or sub_g is None:
        return IdMaps(
            *single, helpers=False, why_single=f"{user} has no subordinate IDs in {SUBUID} and {SUBGID}"
        )
    missing = [tool for tool in ("newuidmap", "newgidmap") if shutil.which(tool) is None]
    if missing:
        return IdMaps(
            *single, helpers=False, why_single=f"no {' or '.join(missing)} (apt-get install uidmap)"
        )
    return IdMaps(
        ((0, uid, 1), (1, sub_u[0], sub_u[1])),
        ((0, gid, 1), (1, sub_g[0], sub_g[1])),
        helpers=True,
    )


def unavailable_reason() -> str | None:
    """Why rootless containers cannot run here; None if they can."""
    release = os.uname().release
    try:
        version = tuple(int(x) for x in release.split("-")[0].split(".")[:2])
    except ValueError:
        version = (0, 0)
    if version < OVERLAY_IN_USERNS:
        return (
            f"rootless containers need Linux >= 5.11 to mount overlayfs in a user namespace "
            f"(this is {release}); run as root or use the simulated kernel"
        )
    for path, bad in (
        ("/proc/sys/user/max_user_namespaces", "0"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"),
    ):
        try:
            with open(path) as f:
                if f.read().strip() == bad:
                    return f"user namespaces are off for users without root here ({path} is {bad})"
        except OSError:
            pass
    if os.geteuid() != 0 and not in_initial_user_namespace():
        return (
            "this program runs in a user namespace someone else made, not as its root: "
            "rootless containers nested in it are not supported; use the simulated kernel"
        )
    if not (os.geteuid() == 0 or _single_threaded()):
        return (
            "a rootless program must join its user namespace before it starts threads, and this "
            "one has several (the stepbox daemon and `stepbox step` can; use them)"
        )
    return None


def _single_threaded() -> bool:
    if threading.active_count() > 1:
        return False
    try:
        with open("/proc/self/status") as f:
            return next(line for line in f if line.startswith("Threads:")).split()[1] == "1"
    except (OSError, StopIteration):
        return True


# -- the pause process and joining it ---------------------------------------------------------


def pause_file(state_dir: str) -> str:
    return os.path.join(state_dir, "linux", PAUSE_FILE)


def _pause_alive(state_dir: str) -> int | None:
    try:
        with open(pause_file(state_dir)) as f:
            info = json.load(f)
        if start_time(info["pid"]) == info["start"]:
            return int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def enter(state_dir: str) -> IdMaps | None:
    """Join the user and mount namespaces of ``state_dir``'s pause process,
    starting one first if there is none.  A no-op when we are root of a
    user namespace already (ours, joined earlier); a user without root in
    someone else's user namespace is refused by :func:`unavailable_reason`.
    Returns the maps of a namespace this call made."""
    if os.geteuid() == 0 and not in_initial_user_namespace():
        return None  # root of a user namespace already (ours, joined earlier)
    if not _single_threaded():
        raise OSError(errno.EINVAL, unavailable_reason() or "this program has threads")
    maps = None
    pid = _pause_alive(state_dir)
    if pid is None:
        maps = id_maps()
        pid = _start_pause(maps)
        os.makedirs(os.path.dirname(pause_file(state_dir)), exist_ok=True)
        atomic_write_json(
            pause_file(state_dir), {"pid": pid, "start": start_time(pid), "maps": maps.describe()}
        )
    _join(pid)
    return maps


def _join(pid: int) -> None:
    cwd = os.getcwd()
    for ns, flag in (("user", libc.CLONE_NEWUSER), ("mnt", libc.CLONE_NEWNS)):
        fd = os.open(f"/proc/{pid}/ns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            libc.setns(fd, flag)
        finally:
            os.close(fd)
    try:
        os.chdir(cwd)  # joining a mount namespace moves us to its root
    except OSError:
        pass


def _start_pause(maps: IdMaps) -> int:
    """Fork the process that makes and holds the namespaces; returns its PID.

    The child unshares its user namespace, waits for us (still outside) to
    write the maps -- only the parent namespace may -- becomes root of it,
    makes the mount namespace and forks the pause process itself, which
    leaves our session and sleeps until it is killed."""
    up_r, up_w = os.pipe2(os.O_CLOEXEC)  # child -> us: "u" when unshared, then the pause PID
    go_r, go_w = os.pipe2(os.O_CLOEXEC)  # us -> child: "k" when the maps are written
    child = os.fork()
    if child == 0:
        code = 1
        try:
            os.close(up_r)
            os.close(go_w)
            libc.unshare(libc.CLONE_NEWUSER)
            os.write(up_w, b"u")
            if os.read(go_r, 1) == b"k":
                os.setresgid(0, 0, 0)
                os.setresuid(0, 0, 0)
                libc.unshare(libc.CLONE_NEWNS)
                # Our mounts stay ours; the host's later mounts still show up here.
                libc.mount(None, "/", None, libc.MS_REC | libc.MS_SLAVE, None)
                pause = os.fork()
                if pause == 0:
                    _pause()
                os.write(up_w, str(pause).encode())
                code = 0
        finally:
            os._exit(code)
    os.close(up_w)
    os.close(go_r)
    try:
        if os.read(up_r, 1) != b"u":
            raise OSError(errno.EPERM, "cannot make a user namespace (unshare(CLONE_NEWUSER) failed)")
        _write_maps(child, maps)
        os.write(go_w, b"k")
        answer = b""
        while chunk := os.read(up_r, 64):
            answer += chunk
    finally:
        os.close(up_r)
        os.close(go_w)
        os.waitpid(child, 0)
    if not answer.isdigit():
        raise OSError(errno.EPERM, "the rootless namespaces could not be set up (mount namespace)")
    return int(answer)


def _write_maps(pid: int, maps: IdMaps) -> None:
    if maps.helpers:
        for tool, mapping in (("newuidmap", maps.uid_map), ("newgidmap", maps.gid_map)):
            args = [str(n) for line in mapping for n in line]
            done = subprocess.run([tool, str(pid), *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise OSError(errno.EPERM, f"{tool} {pid} {' '.join(args)}: {done.stderr.strip()}")
        return
    # A single ID we may map ourselves; for the gid map only once
    # setgroups(2) is denied in the namespace (user_namespaces(7)).
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", "".join(f"{a} {b} {c}\n" for a, b, c in maps.uid_map)),
        ("gid_map", "".join(f"{a} {b} {c}\n" for a, b, c in maps.gid_map)),
    ):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(text)


def _pause() -> None:
    """The pause process: holds the namespaces, does nothing, never returns."""
    try:
        os.setsid()
        os.chdir("/")
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 1 << 16)
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        libc.prctl(15, ctypes_name(b"stepbox-pause"))  # PR_SET_NAME: what ps shows
        while True:
            signal.pause()
    finally:
        os._exit(0)


def ctypes_name(name: bytes) -> int:
    import ctypes

    buffer = ctypes.create_string_buffer(name)
    _keep.append(buffer)
    return ctypes.addressof(buffer)


_keep: list = []


def release_if_idle(state_dir: str) -> int | None:
    """Let ``state_dir``'s namespaces go when this program is the last one
    using them: no other process in the user namespace (a daemon, a shim
    that keeps a container, ``stepbox step``) and nothing mounted under the
    state dir (a container that exited while no daemon watched it still has
    its rootfs mounted, for the next daemon to unmount).  Called as a
    rootless program closes its kernel: then ``stepbox daemon stop`` leaves
    no process behind.  Podman keeps its pause process until ``podman
    system migrate``; ours costs a fork to make again, so it does not wait.
    The PID of the pause process stopped, or None."""
    pause = _pause_alive(state_dir)
    if pause is None:
        return None
    ours = os.readlink("/proc/self/ns/user")
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (os.getpid(), pause):
            continue
        try:
            in_ours = os.readlink(f"/proc/{entry}/ns/user") == ours
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue  # gone, or not ours to look at
        if in_ours and state not in ("Z", "X"):  # (a zombie keeps its credentials, so its namespace)
            return None  # someone else still works in these namespaces
    prefix = os.path.abspath(state_dir).rstrip("/") + "/"
    if any(m.mountpoint.startswith(prefix) for m in read_mountinfo()):
        return None
    return stop_pause(state_dir)


def stop_pause(state_dir: str) -> int | None:
    """Kill ``state_dir``'s pause process (its namespaces go with the last
    process in them); the PID it had, or None if there was none."""
    pid = _pause_alive(state_dir)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pid = None
    try:
        os.unlink(pause_file(state_dir))
    except FileNotFoundError:
        pass
    return pid
