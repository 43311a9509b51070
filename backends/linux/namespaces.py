"""``LinuxNamespaces``: looking at a process's namespaces from the host.

Identities are easy: ``readlink /proc/PID/ns/uts`` gives ``uts:[4026531838]``,
and two processes share a namespace exactly when the inode numbers match.

What a namespace *contains* (the hostname of a UTS namespace, the
interfaces of a network namespace) can only be asked from inside it.  A
little-known fact makes that cheap: namespaces belong to *threads*
(kernel tasks), not to whole processes.  So we start a short-lived thread,
``setns(2)`` it into the target's namespace, ask there, and let the thread
end -- the rest of the program never leaves the host's namespaces, and no
fork is needed.  (That works for uts and net; the mount namespace can only
be changed by a single-threaded process, which is why the exec helper in
:mod:`.init` forks instead.)
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import threading

from stepbox.core.kernel.namespaces import NamespaceKind, Namespaces

from . import libc, procfs
from .init import IFF_UP, SIOCGIFFLAGS


def in_namespace(pid: int, kind: str, fn):
    """Run ``fn()`` in a thread that has joined ``pid``'s namespace of ``kind``."""
    fd = os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
    box: dict = {}

    def body() -> None:
        try:
            libc.setns(fd, 0)
            box["result"] = fn()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

    try:
        t = threading.Thread(target=body, name=f"setns-{kind}-{pid}")
        t.start()
        t.join()
    finally:
        os.close(fd)
    if "error" in box:
        raise box["error"]
    return box["result"]


def _interfaces_here() -> dict[str, bool]:
    # /proc/thread-self: /proc/self would show the main thread's namespace.
    with open("/proc/thread-self/net/dev") as f:
        names = [line.split(":", 1)[0].strip() for line in f.read().splitlines()[2:]]
    result = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # created in this netns
        for name in names:
            ifreq = struct.pack("16sH14s", name.encode(), 0, b"")
            flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq)[:18])[1]
            result[name] = bool(flags & IFF_UP)
    return result


class LinuxNamespaces(Namespaces):
    def of(self, pid: int) -> dict[NamespaceKind, int]:
        found = procfs.read_namespaces(pid, strict=True)
        return {NamespaceKind(kind): inode for kind, inode in found.items()}

    def hostname(self, pid: int) -> str:
        return in_namespace(pid, "uts", lambda: os.uname().nodename)

    def interfaces(self, pid: int) -> dict[str, bool]:
        return in_namespace(pid, "net", _interfaces_here)

    def host(self) -> dict[NamespaceKind, int]:
        """The host's namespaces, as the engine itself is in them: the
        default ``of(1)`` fails on hosts -- this CI VM among them -- that
        refuse to show PID 1's ns links even to root."""
        return self.of(os.getpid())

    def pid_in_namespace(self, pid: int) -> int:
        return procfs.read_status(pid).nspid[-1]
