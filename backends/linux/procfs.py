"""Reading the kernel's answers out of ``/proc``.

``/proc`` is how the kernel shows a process's view of the world as text:
its mount table (``/proc/PID/mountinfo``, ``/proc/PID/mounts``), its
namespaces (``/proc/PID/ns/*``), its cgroups (``/proc/PID/cgroup``), its
state and IDs (``/proc/PID/status``, ``/proc/PID/stat``).  The parsers here
take the text (or a path) so they can be tested against fake files
(pyfakefs) on any OS.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field

from stepbox.core.kernel.observe import MountEntry


def unescape_mount_field(s: str) -> str:
    r"""The kernel escapes space, tab, newline and backslash in mount paths
    as octal (``\040`` ...) so that fields stay space-separated."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


# -- /proc/PID/mountinfo ---------------------------------------------------------


@dataclass(frozen=True)
class MountInfo:
    """One line of /proc/PID/mountinfo (see proc(5))."""

    mount_id: int
    parent_id: int
    major_minor: str
    root: str  # which directory of the filesystem is mounted here
    mountpoint: str
    options: str  # per-mount options (rw, nosuid, ...)
    optional: tuple[str, ...]  # "shared:1", "master:2" ... (propagation)
    fstype: str
    source: str
    super_options: str  # per-filesystem options (for cgroup v1: the controllers)


def parse_mountinfo(text: str) -> list[MountInfo]:
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split()
        # Optional fields end with a lone "-"; what follows is fstype source superoptions.
        sep = fields.index("-")
        fixed, optional, after = fields[:6], fields[6:sep], fields[sep + 1 :]
        fstype = after[0]
        source = unescape_mount_field(after[1]) if len(after) > 1 else ""
        super_options = after[2] if len(after) > 2 else ""
        entries.append(
            MountInfo(
                mount_id=int(fixed[0]),
                parent_id=int(fixed[1]),
                major_minor=fixed[2],
                root=unescape_mount_field(fixed[3]),
                mountpoint=unescape_mount_field(fixed[4]),
                options=fixed[5],
                optional=tuple(optional),
                fstype=fstype,
                source=source,
                super_options=super_options,
            )
        )
    return entries


def read_mountinfo(pid: int | str = "self", proc: str = "/proc") -> list[MountInfo]:
    with open(f"{proc}/{pid}/mountinfo") as f:
        return parse_mountinfo(f.read())


# -- /proc/PID/mounts --------------------------------------------------------------


def parse_mounts(text: str) -> list[MountEntry]:
    """/proc/PID/mounts: ``source target fstype options 0 0`` per line."""
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        entries.append(
            MountEntry(
                source=unescape_mount_field(fields[0]),
                target=unescape_mount_field(fields[1]),
                fstype=fields[2],
                options=fields[3],
            )
        )
    return entries


def read_mounts(pid: int | str = "self", proc: str = "/proc") -> list[MountEntry]:
    try:
        with open(f"{proc}/{pid}/mounts") as f:
            return parse_mounts(f.read())
    except OSError as e:
        # A process on its way out has dropped its mount namespace while its /proc
        # entry is still there: the kernel answers EINVAL, which means "gone".
        if e.errno == errno.EINVAL:
            raise ProcessLookupError(errno.ESRCH, f"process {pid} is exiting: no mounts to read") from e
        raise


# -- /proc/PID/status ----------------------------------------------------------------


@dataclass(frozen=True)
class ProcStatus:
    name: str
    state: str  # one letter: R S D Z T t X I
    pid: int
    ppid: int
    nspid: tuple[int, ...]  # PID in each nested PID namespace, outermost first
    cap_eff: int = 0
    cap_bnd: int = 0
    no_new_privs: bool = False
    raw: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


def parse_status(text: str) -> ProcStatus:
    raw: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            raw[key.strip()] = value.strip()
    pid = int(raw.get("Pid", "0"))
    nspid = tuple(int(x) for x in raw.get("NSpid", str(pid)).split())
    return ProcStatus(
        name=raw.get("Name", ""),
        state=raw.get("State", "?")[:1],
        pid=pid,
        ppid=int(raw.get("PPid", "0")),
        nspid=nspid,
        cap_eff=int(raw.get("CapEff", "0"), 16),
        cap_bnd=int(raw.get("CapBnd", "0"), 16),
        no_new_privs=raw.get("NoNewPrivs", "0") == "1",
        raw=raw,
    )


def read_status(pid: int | str, proc: str = "/proc") -> ProcStatus:
    with open(f"{proc}/{pid}/status") as f:
        return parse_status(f.read())


# -- /proc/PID/stat ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProcStat:
    pid: int
    comm: str
    state: str
    ppid: int
    starttime: int  # clock ticks after boot: with the PID, a unique identity
    tty_nr: int = 0  # device number of the controlling terminal, 0 for none
    utime: int = 0  # clock ticks in user mode
    stime: int = 0  # clock ticks in kernel mode


def parse_stat(text: str) -> ProcStat:
    """/proc/PID/stat.  ``comm`` is in parentheses and may itself contain
    spaces and ')', so split at the *last* ')'."""
    left, _, right = text.rpartition(")")
    pid_part, _, comm = left.partition(" (")
    rest = right.split()
    # rest[0] is field 3 (state); starttime is field 22 -> rest[19]
    # tty_nr is field 7 (rest[4]), utime and stime fields 14 and 15 (rest[11], rest[12])
    return ProcStat(
        pid=int(pid_part),
        comm=comm,
        state=rest[0],
        ppid=int(rest[1]),
        starttime=int(rest[19]),
        tty_nr=int(rest[4]),
        utime=int(rest[11]),
        stime=int(rest[12]),
    )


def boot_time(proc: str = "/proc") -> float:
    """When the host booted (Unix time): /proc/stat's btime."""
    with open(f"{proc}/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    return 0.0


def tty_name(tty_nr: int, dev: str = "/dev") -> str:
    """ps's TTY column for a stat tty_nr, as the host's ps names it: the
    device under the host's /dev with that number (pts/N, ttyN, console),
    else '?'.  A container's pty is in the container's own devpts, which
    the host's /dev/pts does not show: '?', as docker top shows it."""
    if not tty_nr:
        return ""
    major, minor = os.major(tty_nr), os.minor(tty_nr)
    if 136 <= major <= 143:
        name = f"pts/{(major - 136) * 256 + minor}"
    elif major == 4 and minor < 64:
        name = f"tty{minor}"
    elif major == 5 and minor == 1:
        name = "console"
    else:
        return "?"
    try:
        return name if os.stat(f"{dev}/{name}").st_rdev == tty_nr else "?"
    except OSError:
        return "?"


def read_stat(pid: int | str, proc: str = "/proc") -> ProcStat:
    with open(f"{proc}/{pid}/stat") as f:
        return parse_stat(f.read())


def start_time(pid: int, proc: str = "/proc") -> int | None:
    """The process's start time, or ``None`` if there is no such process.
    Comparing it guards against PID reuse: a new process with the same PID
    has a later start time."""
    try:
        return read_stat(pid, proc).starttime
    except (OSError, ValueError, IndexError):
        return None


# -- /proc/PID/cgroup ------------------------------------------------------------------


@dataclass(frozen=True)
class CgroupLine:
    hierarchy_id: int
    controllers: tuple[str, ...]  # () for the v2 line ("0::/path")
    path: str


def parse_cgroup_file(text: str) -> list[CgroupLine]:
    """``hierarchy-ID:controller-list:path`` per line (cgroups(7))."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        hid, ctrls, path = line.split(":", 2)
        lines.append(CgroupLine(int(hid), tuple(c for c in ctrls.split(",") if c), path))
    return lines


def read_cgroup_file(pid: int | str = "self", proc: str = "/proc") -> list[CgroupLine]:
    with open(f"{proc}/{pid}/cgroup") as f:
        return parse_cgroup_file(f.read())


def v2_cgroup_path(lines: list[CgroupLine]) -> str:
    """The path on the ``0::`` line, or "" if the process has none."""
    for line in lines:
        if line.hierarchy_id == 0 and not line.controllers:
            return line.path
    return ""


# -- /proc/PID/ns --------------------------------------------------------------------------

NAMESPACE_FILES = ("pid", "uts", "mnt", "net", "ipc", "user", "cgroup")


def parse_ns_link(link: str) -> int:
    """``uts:[4026531838]`` -> 4026531838."""
    m = re.fullmatch(r"\w+:\[(\d+)\]", link)
    if not m:
        raise ValueError(f"not a namespace link: {link!r}")
    return int(m.group(1))


def read_namespaces(pid: int | str, proc: str = "/proc", strict: bool = False) -> dict[str, int]:
    """kind -> inode.  Kinds the kernel does not have are left out; with
    ``strict``, any other error (the process is gone: ENOENT; not allowed
    to look: EACCES) is raised instead of skipped."""
    result = {}
    for kind in NAMESPACE_FILES:
        path = f"{proc}/{pid}/ns/{kind}"
        try:
            result[kind] = parse_ns_link(os.readlink(path))
        except FileNotFoundError:
            if strict and not os.path.exists(f"{proc}/{pid}"):
                raise ProcessLookupError(3, f"no such process: {pid}") from None
        except PermissionError as e:
            if strict:
                raise PermissionError(
                    e.errno, f"cannot read {path}: permission denied (the kernel's ptrace access check)"
                ) from None
        except (OSError, ValueError):
            if strict:
                raise
    return result


def read_cmdline(pid: int | str, proc: str = "/proc") -> tuple[str, ...]:
    with open(f"{proc}/{pid}/cmdline", "rb") as f:
        data = f.read()
    return tuple(os.fsdecode(a) for a in data.split(b"\0")[:-1]) if data else ()


def list_pids(proc: str = "/proc") -> list[int]:
    return sorted(int(n) for n in os.listdir(proc) if n.isdigit())
