"""``docker exec``: a new process inside a running container (like runc's nsenter).

The shim's child (the *joiner*) does, in this order:

1. write "0" to the target's ``cgroup.procs`` files -- join its cgroups
   while we can still see the host's /sys/fs/cgroup;
2. open the log files and ``/proc/TARGET/ns/*`` while host paths still work;
3. make itself **non-dumpable** (``PR_SET_DUMPABLE 0``) -- see below;
4. ``setns(2)`` into each namespace, the mount namespace last: joining it
   also moves our root and working directory to the container's root,
   so no chroot is needed afterwards;
5. fork -- joining a PID namespace, like creating one, only applies to the
   children -- and the child, as the container's init did: loads the
   seccomp filter (before the capabilities when no_new_privs is off),
   drops capabilities and switches user, sets no_new_privs (then loads the
   filter), and execs the command.

Entering a running container safely (the CVE-2019-5736 class).  From the
fork until its execve the child is *the host's Python*, living in the
container's PID namespace: a process of the container could see it in /proc,
ptrace it, or open ``/proc/PID/exe`` -- the host's interpreter -- and
write to it once it is no longer running (that is how CVE-2019-5736
overwrote runc).  Two defences, as runc has them:

* non-dumpable before the first setns (inherited by the child): /proc/PID/*
  belongs to root:root and ptrace_may_access() demands CAP_SYS_PTRACE in the
  host's user namespace, which a default container lacks (runc's nsexec does
  the same);
* ``/proc/PID/exe`` is not the host's interpreter file at all: the shim
  launcher runs from a sealed memfd copy of it (:mod:`.launcher`, as runc
  re-executes itself from a sealed memfd, "cloned_binary"), so even a
  container given CAP_SYS_PTRACE that opens it gets a copy it cannot write
  (F_SEAL_WRITE) and that no other program uses.

And nothing else of the host is left to reach: every fd but the stdio and
the reply pipe is closed before the fork, and after setns(mnt) the root and
cwd are the container's.
"""

from __future__ import annotations

import errno
import json
import os

from . import libc
from .init import (
    PR_SET_DUMPABLE,
    Ops,
    apply_process_settings,
    close_other_fds,
    enter_confinement,
    exec_command,
    raise_fd,
    stdio_fds,
)
from .terminal import open_pty, send_fd, set_window

# user first (it owns the others), mnt last (it changes our root and cwd)
NS_ORDER = ("user", "cgroup", "ipc", "uts", "net", "pid", "mnt")


def run_exec_joiner(config: dict, sync_w: int) -> None:
    """For exec_in: join the target's cgroup and namespaces, fork, execve."""
    code = 0
    try:
        for procs in config["cgroup_procs"]:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        target = config["target_pid"]
        stdio = stdio_fds(config)
        ns_fds = []
        for kind in NS_ORDER:
            theirs = os.readlink(f"/proc/{target}/ns/{kind}")
            if theirs != os.readlink(f"/proc/self/ns/{kind}"):
                ns_fds.append((kind, os.open(f"/proc/{target}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)))
        # Before the first setns: nothing in the container may ptrace us or
        # open our /proc entries (the child inherits it until its execve).
        libc.prctl(PR_SET_DUMPABLE, 0)
        for _kind, fd in ns_fds:
            libc.setns(fd, 0)  # mnt: also moves our root and cwd to the container's
            os.close(fd)
        if any(kind == "user" for kind, _ in ns_fds):
            os.setresgid(0, 0, 0)  # root of the container's user namespace
            os.setresuid(0, 0, 0)
        rep = raise_fd(config["rep_fd"])
        terminal = None
        if config.get("console_fd") is not None:
            # docker exec -t: a terminal from the container's /dev/pts (we
            # are in its mount namespace now); the master goes to the shim.
            master, terminal, _ = open_pty("/dev/pts")
            window = (config.get("stdio") or {}).get("window")
            if window:
                set_window(master, window[0], window[1])
            send_fd(config["console_fd"], master)
            os.close(master)
            os.close(config["console_fd"])
            terminal = raise_fd(terminal)
        pid = os.fork()
        if pid == 0:
            os.close(sync_w)
            _run_child(config, rep, stdio, terminal)  # never returns
        os.write(sync_w, json.dumps({"init": pid, "joiner": os.getpid()}).encode() + b"\n")
    except BaseException as e:
        err = getattr(e, "errno", None) or errno.EIO
        os.write(sync_w, json.dumps({"error": f"{type(e).__name__}: {e}", "errno": err}).encode() + b"\n")
        code = 1
    os._exit(code)


def _run_child(config: dict, rep: int, stdio: list[int], terminal: int | None = None) -> None:
    """In the container's namespaces: the container's --ulimit limits,
    confine, chdir, execve (with ``terminal`` as fds 0-2: docker exec -t).
    Only ever leaves through _exit -- falling back into the joiner's code
    would report twice and write to its closed pipes."""
    try:
        close_other_fds({rep, *stdio, *([terminal] if terminal is not None else [])})
        cwd = config["cwd"]
        try:
            apply_process_settings(config)  # before the switch of user, which may lose the right
            enter_confinement(config, Ops())
        except OSError as e:
            _fail(rep, e.errno, str(e))
        try:
            os.chdir(cwd)  # as the user, after the switch: runc's order
        except OSError as e:
            _fail(
                rep,
                e.errno,
                f'chdir to cwd ("{cwd}") set in config.json failed: {os.strerror(e.errno or 0).lower()}',
            )
        err, path = exec_command(config["argv"], config["env"], config["cwd"], None, stdio, terminal)
        _report(rep, {"ok": False, "errno": err, "exec": True, "path": path, "error": os.strerror(err)})
        os._exit(127 if err in (errno.ENOENT, errno.ENOTDIR) else 126)
    except BaseException as e:
        try:
            _report(
                rep, {"ok": False, "errno": errno.EIO, "stage": "setup", "error": f"{type(e).__name__}: {e}"}
            )
        finally:
            os._exit(126)


def _fail(rep: int, err: int | None, error: str) -> None:
    _report(rep, {"ok": False, "errno": err or errno.EIO, "stage": "setup", "error": error})
    os._exit(126)


def _report(fd: int, message: dict) -> None:
    os.write(fd, json.dumps(message).encode() + b"\n")
