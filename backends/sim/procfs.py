"""A synthetic ``/proc``: the kernel's state shown as text files.

Nothing in ``/proc`` is stored; each file's text is made when it is read,
from the process table, the namespaces and the cgroups -- the same data
``ps``, ``mount``, ``hostname`` and ``top`` read on a real machine, in the
same formats (compare ``cat /proc/self/status`` on a Linux box).

Two things decide what a read shows, as in Linux:

* the **PID namespace the proc filesystem was mounted in** (fixed at mount
  time): ``ls /proc`` inside a container lists only the container's
  processes, by their PIDs *inside* it -- which is why a container's
  ``/proc`` must be mounted after the ``clone(CLONE_NEWPID)``;
* the **reading process** (the kernel's ``current``): ``/proc/self`` is
  whoever looks, ``/proc/net/dev`` shows the reader's network namespace and
  ``/proc/sys/kernel/hostname`` the reader's UTS namespace.
"""

from __future__ import annotations

import errno
import signal as _signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from stepbox.core.kernel.capabilities import capability_mask
from stepbox.core.kernel.unionfs import EntryKind, FileOps, StatResult

from .affinity import mask_hex, mask_list
from .flow import oserror
from .namespaces import namespace_of

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .namespaces import PidNamespace
    from .process_table import Process

KERNEL_RELEASE = "6.1.0-stepbox-sim"
KERNEL_VERSION = "#1 SMP PREEMPT_DYNAMIC stepbox"
MEM_TOTAL_KB = 8 * 1024 * 1024
CLK_TCK = 100
STATE_NAMES = {
    "R": "R (running)",
    "S": "S (sleeping)",
    "T": "T (stopped)",
    "Z": "Z (zombie)",
    "X": "X (dead)",
}
NS_KINDS = (
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
)


class _Entry:
    __slots__ = ("kind", "mode", "uid", "gid", "read", "target", "names", "write")

    def __init__(
        self,
        kind: EntryKind,
        mode: int,
        *,
        uid: int = 0,
        gid: int = 0,
        read: Callable[[], str] | None = None,
        target: str = "",
        names: Callable[[], list[str]] | None = None,
        write: Callable[[bytes], None] | None = None,
    ):
        self.kind, self.mode, self.uid, self.gid = kind, mode, uid, gid
        self.read, self.target, self.names, self.write = read, target, names, write


def _dir(names: Callable[[], list[str]], uid: int = 0, gid: int = 0, mode: int = 0o555) -> _Entry:
    return _Entry(EntryKind.DIR, mode, uid=uid, gid=gid, names=names)


def _file(read: Callable[[], str], mode: int = 0o444, uid: int = 0, gid: int = 0, write=None) -> _Entry:
    return _Entry(EntryKind.FILE, mode, uid=uid, gid=gid, read=read, write=write)


def _link(target: str, uid: int = 0) -> _Entry:
    return _Entry(EntryKind.SYMLINK, 0o777, uid=uid, target=target)


def _empty() -> str:
    return ""


ROOT_STATIC = (
    "acpi",
    "bus",
    "cgroups",
    "cmdline",
    "cpuinfo",
    "filesystems",
    "fs",
    "irq",
    "kcore",
    "keys",
    "loadavg",
    "meminfo",
    "mounts",
    "net",
    "sched_debug",
    "scsi",
    "self",
    "stat",
    "sys",
    "sysrq-trigger",
    "thread-self",
    "timer_list",
    "uptime",
    "version",
)
_ROOT_NAMES = frozenset(ROOT_STATIC)
PID_FILES = (
    "cgroup",
    "cmdline",
    "comm",
    "cwd",
    "environ",
    "exe",
    "gid_map",
    "mounts",
    "net",
    "ns",
    "oom_score_adj",
    "root",
    "stat",
    "status",
    "uid_map",
)


class ProcFS(FileOps):
    NO_NEGATIVE_LOOKUP = True  # see VFS._no_new_names
    """procfs as mounted in one PID namespace (``pidns``)."""

    def __init__(self, kernel: SimKernel, pidns: PidNamespace):
        self.k = kernel
        self.pidns = pidns

    # -- who is asking --------------------------------------------------------------
    def _reader(self) -> Process:
        return self.k.sched.current or self.k.engine

    def _nr(self, proc: Process) -> int:
        """``proc``'s PID as this mount shows it (0: not visible)."""
        return proc.pid_in(self.pidns)

    # -- the tree -----------------------------------------------------------------------
    def _entry(self, path: str) -> _Entry:
        parts = [p for p in path.split("/") if p and p != "."]
        if not parts:
            return _dir(self._root_names)
        head, rest = parts[0], parts[1:]
        if head.isdigit():
            proc = self.pidns.tasks.get(int(head))
            if proc is None or proc.state == "X":
                raise oserror(errno.ENOENT, path)
            entry = self._pid_entry(proc, rest)
        else:
            entry = self._global_entry(head, rest)
        if entry is None:
            raise oserror(errno.ENOENT, path)
        return entry

    def _root_names(self) -> list[str]:
        pids = sorted(nr for nr, p in self.pidns.tasks.items() if p.state != "X")
        return list(ROOT_STATIC) + [str(nr) for nr in pids]

    def _global_entry(self, head: str, rest: list[str]) -> _Entry | None:
        if head == "self" and not rest:
            nr = self._nr(self._reader())
            return _link(str(nr) if nr else "/")  # a process outside sees a dangling self
        if head == "thread-self" and not rest:
            nr = self._nr(self._reader())
            return _link(f"{nr}/task/{nr}")
        if head == "mounts" and not rest:
            return _link("self/mounts")
        if head == "net":
            return self._net_entry(self._reader(), rest)
        if head == "sys":
            return self._sys_entry(rest)
        if rest:
            return None
        read = _SIMPLE.get(head)
        if read is not None:
            return _file(lambda: read(self))
        if head == "kcore":
            return _file(_empty, mode=0o400)
        if head == "sysrq-trigger":
            return _file(_empty, mode=0o200, write=lambda data: None)
        if head in ("acpi", "scsi", "bus", "fs", "irq"):
            return _dir(list)
        return None

    def _sys_entry(self, rest: list[str]) -> _Entry | None:
        tree = {
            "kernel": (
                "dmesg_restrict",
                "domainname",
                "hostname",
                "osrelease",
                "ostype",
                "pid_max",
                "version",
            ),
            "net": (),
            "fs": (),
            "vm": (),
        }
        if not rest:
            return _dir(lambda: list(tree))
        if rest[0] not in tree:
            return None
        if len(rest) == 1:
            return _dir(lambda: list(tree[rest[0]]))
        if len(rest) > 2 or rest[1] not in tree[rest[0]]:
            return None
        name = rest[1]
        uts = lambda: self._reader().ns.uts  # noqa: E731
        if name == "hostname":
            return _file(lambda: uts().hostname + "\n", mode=0o644, write=self._write_hostname)
        if name == "domainname":
            return _file(lambda: uts().domainname + "\n", mode=0o644)
        values = {
            "osrelease": KERNEL_RELEASE,
            "ostype": "Linux",
            "version": KERNEL_VERSION,
            "pid_max": str(self.pidns.pid_max),
            "dmesg_restrict": str(self.k.klog.dmesg_restrict),
        }
        return _file(lambda: values[name] + "\n")

    def _write_hostname(self, data: bytes) -> None:
        proc = self._reader()
        if "CAP_SYS_ADMIN" not in proc.caps:
            raise oserror(errno.EPERM)
        proc.ns.uts.hostname = data.decode().rstrip("\n")[:64]

    def _net_entry(self, proc: Process, rest: list[str]) -> _Entry | None:
        if not rest:
            return _dir(lambda: ["arp", "dev"])
        if rest == ["dev"]:
            return _file(lambda: self._net_dev(proc))
        if rest == ["arp"]:
            return _file(lambda: self._net_arp(proc))
        return None

    def _pid_entry(self, proc: Process, rest: list[str]) -> _Entry | None:
        uid, gid = proc.uid, proc.gid
        if not rest:
            return _dir(lambda: list(PID_FILES), uid=uid, gid=gid)
        name, more = rest[0], rest[1:]
        if name == "ns":
            if not more:
                return _dir(lambda: list(NS_KINDS), uid=uid, gid=gid, mode=0o511)
            if len(more) == 1 and more[0] in NS_KINDS:
                return _link(self._ns_link(proc, more[0]), uid=uid)
            return None
        if name == "net":
            return self._net_entry(proc, more)
        if more:
            return None
        if name == "root":
            return _link("/", uid=uid)
        if name == "cwd":
            return _link(self.k.vfs.getcwd(proc), uid=uid)
        if name == "exe":
            return _link(proc.exe or "", uid=uid)
        makers = {
            "status": lambda: self._status(proc),
            "stat": lambda: self._stat(proc),
            "cmdline": lambda: "".join(a + "\0" for a in proc.argv) if proc.alive else "",
            "comm": lambda: proc.comm + "\n",
            "environ": lambda: "".join(f"{k}={v}\0" for k, v in proc.env.items()),
            "cgroup": lambda: self._cgroup(proc),
            "mounts": lambda: self._mounts(proc),
            "uid_map": lambda: _idmap(proc.ns.user.uid_map),
            "gid_map": lambda: _idmap(proc.ns.user.gid_map),
            "oom_score_adj": lambda: "0\n",
        }
        if name in makers:
            mode = 0o400 if name == "environ" else 0o444
            return _file(makers[name], mode=mode, uid=uid, gid=gid)
        return None

    # -- file contents ----------------------------------------------------------------
    def _ns_link(self, proc: Process, kind: str) -> str:
        if kind == "pid_for_children":
            return f"pid:[{proc.ns.pid_for_children.inode}]"
        if kind in ("time", "time_for_children"):
            return f"time:[{self.k.time_ns_inode}]"
        return f"{kind}:[{namespace_of(proc, kind).inode}]"

    def _ids(self, proc: Process) -> tuple[int, ...]:
        level = self.pidns.level
        return proc.nspids[level:] if self._nr(proc) else ()

    def _status(self, proc: Process) -> str:
        reader_user = self._reader().ns.user
        uid = reader_user.uid_from_host(proc.uid)
        gid = reader_user.gid_from_host(proc.gid)
        nr = self._nr(proc)
        ppid = self._nr(proc.parent) if proc.parent is not None else 0
        ids = "\t".join(map(str, self._ids(proc)))
        caps = f"{capability_mask(proc.caps):016x}"
        bounding = f"{capability_mask(proc.cap_bnd):016x}"
        groups = "".join(f"{reader_user.gid_from_host(g)} " for g in proc.groups)
        state = "T" if proc.alive and proc.cgroup.frozen_eff else proc.state
        lines = [
            f"Name:\t{proc.comm}",
            f"Umask:\t{proc.umask:04o}",
            f"State:\t{STATE_NAMES[state]}",
            f"Tgid:\t{nr}",
            "Ngid:\t0",
            f"Pid:\t{nr}",
            f"PPid:\t{ppid}",
            "TracerPid:\t0",
            f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}",
            f"Gid:\t{gid}\t{gid}\t{gid}\t{gid}",
            f"FDSize:\t{64 if proc.alive else 0}",
            f"Groups:\t{groups}",
            f"NStgid:\t{ids}",
            f"NSpid:\t{ids}",
            f"NSpgid:\t{ids}",
            f"NSsid:\t{ids}",
        ]
        if proc.alive:
            kb = proc.mem // 1024
            lines += [
                f"VmPeak:\t{kb + 1024:8d} kB",
                f"VmSize:\t{kb + 1024:8d} kB",
                "VmLck:\t       0 kB",
                f"VmRSS:\t{kb + 512:8d} kB",
                f"RssAnon:\t{kb:8d} kB",
                "VmSwap:\t       0 kB",
            ]
        ignored = caught = 0
        for sig, handler in proc.handlers.items():
            if handler is _SIG_IGN:
                ignored |= 1 << (sig - 1)
            elif callable(handler):
                caught |= 1 << (sig - 1)
        lines += [
            "Threads:\t1",
            "SigQ:\t0/31476",
            "SigPnd:\t0000000000000000",
            "ShdPnd:\t0000000000000000",
            "SigBlk:\t0000000000000000",
            f"SigIgn:\t{ignored:016x}",
            f"SigCgt:\t{caught:016x}",
            f"CapInh:\t{capability_mask(proc.cap_inh):016x}",
            f"CapPrm:\t{caps}",
            f"CapEff:\t{caps}",
            f"CapBnd:\t{bounding}",
            f"CapAmb:\t{capability_mask(proc.cap_amb):016x}",
            f"NoNewPrivs:\t{int(proc.no_new_privs)}",
            f"Seccomp:\t{2 if proc.seccomp else 0}",
            f"Seccomp_filters:\t{len(proc.seccomp)}",
            f"Cpus_allowed:\t{mask_hex(proc.cpus_allowed, self.k.cpus_online.bit_length())}",
            f"Cpus_allowed_list:\t{mask_list(proc.cpus_allowed)}",
            "voluntary_ctxt_switches:\t0",
            "nonvoluntary_ctxt_switches:\t0",
        ]
        return "\n".join(lines) + "\n"

    def _stat(self, proc: Process) -> str:
        nr = self._nr(proc)
        ppid = self._nr(proc.parent) if proc.parent is not None else 0
        ticks = proc.cpu_usec * CLK_TCK // 1_000_000
        start = proc.start_time * CLK_TCK // 1_000_000
        vsize = proc.mem + (1 << 20) if proc.alive else 0
        rss = (proc.mem + (1 << 19)) // 4096 if proc.alive else 0
        state = "T" if proc.alive and proc.cgroup.frozen_eff else proc.state
        # pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
        # cmajflt utime stime cutime cstime priority nice num_threads itrealvalue
        # starttime vsize rss rsslim ... (52 fields, proc(5))
        fields = [
            nr,
            f"({proc.comm})",
            state,
            ppid,
            nr,
            nr,
            0,
            -1,
            4194560,
            0,
            0,
            0,
            0,
            ticks,
            0,
            0,
            0,
            20,
            0,
            1,
            0,
            start,
            vsize,
            rss,
            18446744073709551615,
        ]
        fields += [0] * (52 - len(fields))
        fields[38] = 0  # processor
        return " ".join(map(str, fields)) + "\n"

    def _cgroup(self, proc: Process) -> str:
        root = self._reader().ns.cgroup.root
        path = proc.cgroup.path
        rpath = root.path if root is not None else ""
        if not rpath:
            shown = "/" + path
        elif path == rpath:
            shown = "/"
        elif path.startswith(rpath + "/"):
            shown = path[len(rpath) :]
        else:
            up = "/..".join("" for _ in range(rpath.count("/") + 2))
            shown = up + ("/" + path if path else "")
        return f"0::{shown}\n"

    def _mounts(self, proc: Process) -> str:
        return "".join(f"{e}\n" for e in self.k.vfs.mount_entries(proc))

    def _cpuinfo(self) -> str:
        online = self.k.cpus_online
        return "".join(
            f"processor\t: {cpu}\nmodel name\t: stepbox virtual CPU\n\n"
            for cpu in range(online.bit_length())
            if online >> cpu & 1
        )

    def _meminfo(self) -> str:
        used = self.k.cgroups.root.memory_current // 1024
        free = MEM_TOTAL_KB - used - 262144
        rows = [
            ("MemTotal", MEM_TOTAL_KB),
            ("MemFree", free),
            ("MemAvailable", free + 131072),
            ("Buffers", 16384),
            ("Cached", 131072),
            ("SwapCached", 0),
            ("Active", used + 65536),
            ("Inactive", 65536),
            ("SwapTotal", 0),
            ("SwapFree", 0),
        ]
        return "".join(f"{name + ':':<16}{value:>8} kB\n" for name, value in rows)

    def _uptime(self) -> str:
        secs = self.k.sched.now / 1_000_000
        return f"{secs:.2f} {secs:.2f}\n"

    def _loadavg(self) -> str:
        running = sum(1 for p in self.pidns.tasks.values() if p.state == "R")
        total = sum(1 for p in self.pidns.tasks.values() if p.alive)
        return f"0.00 0.00 0.00 {running}/{total} {self.pidns.last_pid}\n"

    def _net_dev(self, proc: Process) -> str:
        net = proc.ns.net
        out = [
            "Inter-|   Receive                                                |  Transmit",
            " face |bytes    packets errs drop fifo frame compressed multicast|"
            "bytes    packets errs drop fifo colls carrier compressed",
        ]
        from .net.network import stack_of_ns

        for link in stack_of_ns(net).links.values():
            name = link.name
            rxb, rxp, txb, txp = link.rx_bytes, link.rx_packets, link.tx_bytes, link.tx_packets
            out.append(
                f"{name:>6}: {rxb:7d} {rxp:7d} {0:4d} {0:4d} {0:4d} {0:5d} {0:10d} {0:9d} "
                f"{txb:8d} {txp:7d} {0:4d} {0:4d} {0:4d} {0:5d} {0:7d} {0:10d}"
            )
        return "\n".join(out) + "\n"

    def _net_arp(self, proc: Process) -> str:
        """The IPv4 neighbour table as arp_seq_show prints it: every simulated
        entry is complete (ATF_COM); the hardware type is Ethernet."""
        from .net.network import stack_of_ns

        out = ["IP address       HW type     Flags       HW address            Mask     Device\n"]
        for (dev, ip), mac in stack_of_ns(proc.ns.net).neigh.items():
            out.append(f"{str(ip):<16} 0x{1:<10x}0x{2:<10x}{mac}     *        {dev}\n")
        return "".join(out)

    # -- FileOps ----------------------------------------------------------------------
    def lstat(self, path: str) -> StatResult:
        st = _STATIC_STATS.get(path)  # fixed entries: no need to build them
        if st is not None:
            return st
        name = path[1:]
        if (
            name not in _ROOT_NAMES
            and path[:1] == "/"
            and "/" not in name
            and name not in ("", ".")
            and not name.isdigit()
        ):
            # A name in /proc that is no PID and none of ROOT_STATIC (every
            # name _global_entry answers for) -- what masked paths often ask
            # (/proc/asound, /proc/latency_stats): _entry's error, without it.
            raise oserror(errno.ENOENT, path)
        e = self._entry(path)
        nlink = 2 if e.kind is EntryKind.DIR else 1
        return StatResult(kind=e.kind, mode=e.mode, uid=e.uid, gid=e.gid, size=0, nlink=nlink)

    def stat(self, path: str) -> StatResult:
        e = self._entry(path)
        if e.kind is EntryKind.SYMLINK:
            base = path.rsplit("/", 1)[0] or "/"
            target = e.target if e.target.startswith("/") else f"{base}/{e.target}"
            return self.stat(target)
        return self.lstat(path)

    def listdir(self, path: str) -> list[str]:
        e = self._entry(path)
        if e.kind is not EntryKind.DIR:
            raise oserror(errno.ENOTDIR, path)
        assert e.names is not None  # a directory lists its names
        return e.names()

    def read(self, path: str) -> bytes:
        e = self._entry(path)
        if e.kind is EntryKind.DIR:
            raise oserror(errno.EISDIR, path)
        if e.kind is EntryKind.SYMLINK:
            return self.read(self._follow(path, e))
        assert e.read is not None  # a file has contents
        return e.read().encode()

    def _follow(self, path: str, e: _Entry) -> str:
        base = path.rsplit("/", 1)[0] or "/"
        return e.target if e.target.startswith("/") else f"{base}/{e.target}"

    def readlink(self, path: str) -> str:
        e = self._entry(path)
        if e.kind is not EntryKind.SYMLINK:
            raise oserror(errno.EINVAL, path)
        return e.target

    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        try:
            e = self._entry(path)
        except FileNotFoundError:
            raise oserror(errno.ENOENT, path) from None  # no new files in /proc
        if e.write is None:
            raise oserror(errno.EACCES if e.kind is not EntryKind.DIR else errno.EISDIR, path)
        e.write(data)

    def truncate(self, path: str, size: int) -> None:
        e = self._entry(path)
        if e.write is None:
            raise oserror(errno.EACCES, path)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        raise oserror(errno.EPERM if not self._exists(path) else errno.EEXIST, path)

    def rmdir(self, path: str) -> None:
        raise oserror(errno.EPERM, path)

    def unlink(self, path: str) -> None:
        raise oserror(errno.EPERM, path)

    def rename(self, src: str, dst: str) -> None:
        raise oserror(errno.EPERM, src)

    def symlink(self, target: str, path: str) -> None:
        raise oserror(errno.EPERM, path)

    def link(self, src: str, dst: str) -> None:
        raise oserror(errno.EPERM, dst)

    def chmod(self, path: str, mode: int) -> None:
        raise oserror(errno.EPERM, path)

    def utime(self, path: str, mtime: float | None = None, follow: bool = True) -> None:
        self._entry(path)  # accepted, and the times shown do not change

    def chown(self, path: str, uid: int, gid: int) -> None:
        # Linux accepts chown on procfs files and then shows the owner it
        # computes anyway (the task's): success that changes nothing.
        self._entry(path)

    def _exists(self, path: str) -> bool:
        try:
            self._entry(path)
        except OSError:
            return False
        return True


_STATIC_STATS = {
    **{
        f"/{name}": StatResult(kind=EntryKind.DIR, mode=0o555, uid=0, gid=0, size=0, nlink=2)
        for name in ("acpi", "bus", "fs", "irq", "scsi", "sys")
    },
    **{
        f"/{name}": StatResult(kind=EntryKind.FILE, mode=0o444, uid=0, gid=0, size=0, nlink=1)
        for name in (
            "keys",
            "timer_list",
            "sched_debug",
            "meminfo",
            "uptime",
            "loadavg",
            "version",
            "cmdline",
            "filesystems",
            "cgroups",
            "cpuinfo",
            "stat",
        )
    },
    "/kcore": StatResult(kind=EntryKind.FILE, mode=0o400, uid=0, gid=0, size=0, nlink=1),
    "/sysrq-trigger": StatResult(kind=EntryKind.FILE, mode=0o200, uid=0, gid=0, size=0, nlink=1),
}


def _idmap(rows) -> str:
    return "".join(f"{inside:>10} {outside:>10} {count:>10}\n" for inside, outside, count in rows)


_SIG_IGN = _signal.SIG_IGN


# The files of /proc's top that are one text each: name -> what reads it (a
# function of the ProcFS).  One table for every mount -- each container
# mounts a procfs, and a table of bound methods per mount was work at every
# start for files seldom read.
_SIMPLE: dict[str, Callable[[ProcFS], str]] = {
    "meminfo": lambda fs: fs._meminfo(),
    "uptime": lambda fs: fs._uptime(),
    "loadavg": lambda fs: fs._loadavg(),
    "version": lambda fs: f"Linux version {KERNEL_RELEASE} (stepbox@sim) {KERNEL_VERSION}\n",
    "cmdline": lambda fs: "console=ttyS0 root=/dev/sda1 rw\n",
    "filesystems": lambda fs: (
        "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tcgroup2\n"
        "nodev\tdevpts\nnodev\tmqueue\nnodev\toverlay\n\text4\n"
    ),
    "cgroups": lambda fs: (
        "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t1\t1\nmemory\t0\t1\t1\npids\t0\t1\t1\n"
    ),
    "cpuinfo": lambda fs: fs._cpuinfo(),
    "stat": lambda fs: f"cpu  0 0 0 0 0 0 0 0 0 0\nprocesses {fs.pidns.last_pid}\n",
    "keys": lambda fs: _empty(),
    "timer_list": lambda fs: _empty(),
    "sched_debug": lambda fs: _empty(),
}
