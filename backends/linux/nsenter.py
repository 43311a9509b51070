"""``docker exec``: a new process inside a running container (like runc's nsenter).

The shim's child (the *joiner*) does, in this order:

1. write "0" to the target's ``cgroup.procs`` files -- join its cgroups
   while we can still see the host's /sys/fs/cgroup;
2. open the log files and ``/proc/TARGET/ns/*`` while host paths still work;
3. ``setns(2)`` into each namespace, the mount namespace last: joining it
   also moves our root and working directory to the container's root,
   so no chroot is needed afterwards;
4. fork -- joining a PID namespace, like creating one, only applies to the
   children -- and the child drops capabilities and execs the command.
"""

from __future__ import annotations

import errno
import json
import os

from . import libc
from .init import Ops, close_other_fds, drop_capabilities, exec_command, open_stdio, raise_fd

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
        stdio = open_stdio(config.get("stdio"))
        ns_fds = []
        for kind in NS_ORDER:
            theirs = os.readlink(f"/proc/{target}/ns/{kind}")
            if theirs != os.readlink(f"/proc/self/ns/{kind}"):
                ns_fds.append((kind, os.open(f"/proc/{target}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)))
        for _kind, fd in ns_fds:
            libc.setns(fd, 0)  # mnt: also moves our root and cwd to the container's
            os.close(fd)
        if any(kind == "user" for kind, _ in ns_fds):
            os.setresgid(0, 0, 0)  # root of the container's user namespace
            os.setresuid(0, 0, 0)
        rep = raise_fd(config["rep_fd"])
        pid = os.fork()
        if pid == 0:
            os.close(sync_w)
            close_other_fds({rep, *stdio})
            ops = Ops()
            drop_capabilities(config["keep_caps"], ops)
            err, path = exec_command(config["argv"], config["env"], config["cwd"], [0, 0], stdio)
            data = (
                json.dumps(
                    {"ok": False, "errno": err, "exec": True, "path": path, "error": os.strerror(err)}
                ).encode()
                + b"\n"
            )
            os.write(rep, data)
            os._exit(127 if err in (errno.ENOENT, errno.ENOTDIR) else 126)
        os.write(sync_w, json.dumps({"init": pid, "joiner": os.getpid()}).encode() + b"\n")
    except BaseException as e:
        err = getattr(e, "errno", None) or errno.EIO
        os.write(sync_w, json.dumps({"error": f"{type(e).__name__}: {e}", "errno": err}).encode() + b"\n")
        code = 1
    os._exit(code)
