"""The simulated kernel's log: printk's ring and syslog(2) (klogctl) on it.

Linux keeps one log for the whole machine (kernel/printk/printk.c): it is
not namespaced, so a container that may read it sees the host's messages.
Each record has a level, a facility (0, the kernel) and the monotonic time
it was logged; syslog(2) formats it as ``<PRI>[SSSSS.UUUUUU] text\\n``
(CONFIG_PRINTK_TIME), ``PRI`` = facility << 3 | level.

Who may call it is decided as ``check_syslog_permissions`` does: reading
the whole log (3) and asking its size (10) need nothing unless
kernel.dmesg_restrict is 1 (Debian's default); everything else -- and
those two when restricted -- needs CAP_SYSLOG (or, for history's sake,
CAP_SYS_ADMIN) in the initial user namespace.  In a Docker container the
seccomp profile refuses syslog(2) before that (EPERM) unless CAP_SYSLOG
was added: busybox's ``dmesg`` says "dmesg: klogctl: Operation not
permitted".

What the simulator logs (SIMPLIFICATIONS.md): a "Linux version" line at
boot, and the memory cgroup OOM killer's "Killed process" line -- the
only kernel events it has words for.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .flow import oserror

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

LOG_BUF_LEN = 131072  # CONFIG_LOG_BUF_SHIFT=17, as on the reference machine
KERN_ERR, KERN_NOTICE, KERN_INFO = 3, 5, 6

# syslog(2)'s actions (include/linux/syslog.h)
CLOSE, OPEN, READ, READ_ALL, READ_CLEAR, CLEAR = 0, 1, 2, 3, 4, 5
CONSOLE_OFF, CONSOLE_ON, CONSOLE_LEVEL, SIZE_UNREAD, SIZE_BUFFER = 6, 7, 8, 9, 10

DEFAULT_CONSOLE_LOGLEVEL = 7  # CONFIG_CONSOLE_LOGLEVEL_DEFAULT
MINIMUM_CONSOLE_LOGLEVEL = 1


@dataclass(frozen=True)
class Record:
    seq: int
    usec: int  # monotonic time since boot
    level: int
    text: str

    def formatted(self) -> bytes:
        sec, usec = divmod(self.usec, 1_000_000)
        return f"<{self.level}>[{sec:5d}.{usec:06d}] {self.text}\n".encode()


class KernelLog:
    """printk's ring buffer, with syslog(2)'s reader (``syslog_seq``, the
    one /proc/kmsg and klogd consume) and ``clear_seq`` (dmesg -c)."""

    def __init__(self, k: SimKernel) -> None:
        self.k = k
        self.records: list[Record] = []
        self.size = 0  # bytes of the records, formatted
        self.next_seq = 0
        self.syslog_seq = 0  # the next record syslog(READ) returns
        self.syslog_partial = 0  # bytes of that record already read
        self.clear_seq = 0
        self.dmesg_restrict = 1
        self.console_loglevel = DEFAULT_CONSOLE_LOGLEVEL
        self.saved_console_loglevel = -1
        self.waiters: list = []  # processes blocked in syslog(READ)

    # -- the kernel's side -------------------------------------------------------------------
    def printk(self, level: int, text: str) -> None:
        record = Record(self.next_seq, self.k.sched.now, level, text)
        self.records.append(record)
        self.next_seq += 1
        self.size += len(record.formatted())
        while self.size > LOG_BUF_LEN and self.records:  # the oldest records are overwritten
            self.size -= len(self.records.pop(0).formatted())
        first = self.records[0].seq if self.records else self.next_seq
        if self.syslog_seq < first:
            self.syslog_seq, self.syslog_partial = first, 0
        self.clear_seq = max(self.clear_seq, first)
        self.wake_readers(self.k)

    def wake_readers(self, k: SimKernel) -> None:
        from .scheduler import PipeWait

        waiters, self.waiters = self.waiters, []
        for proc in waiters:
            if isinstance(proc.block, PipeWait) and proc.block.pipe is self:
                k.sched.wake(proc)

    # -- syslog(2) -----------------------------------------------------------------------------
    def check_permission(self, proc: Process, action: int) -> None:
        restricted = self.dmesg_restrict or action not in (READ_ALL, SIZE_BUFFER)
        if not restricted:
            return
        in_init_userns = proc.ns.user is self.k.host_ns.user
        if in_init_userns and ("CAP_SYSLOG" in proc.caps or "CAP_SYS_ADMIN" in proc.caps):
            return
        raise oserror(errno.EPERM)

    def has_unread(self) -> bool:
        return self.syslog_seq < self.next_seq

    def read(self, length: int) -> bytes:
        """READ: what fits of the unread records, consumed (the caller has
        waited until there is some)."""
        out = bytearray()
        for record in self.records:
            if record.seq < self.syslog_seq:
                continue
            text = record.formatted()[self.syslog_partial :]
            room = length - len(out)
            if room <= 0:
                break
            if len(text) > room:
                out += text[:room]
                self.syslog_partial += room
                break
            out += text
            self.syslog_seq, self.syslog_partial = record.seq + 1, 0
        return bytes(out)

    def read_all(self, length: int, clear: bool) -> bytes:
        """READ_ALL/READ_CLEAR: the newest records since clear_seq that fit."""
        texts = [r.formatted() for r in self.records if r.seq >= self.clear_seq]
        kept: list[bytes] = []
        size = 0
        for text in reversed(texts):
            if size + len(text) > length:
                break
            kept.append(text)
            size += len(text)
        if clear:
            self.clear_seq = self.next_seq
        return b"".join(reversed(kept))

    def control(self, action: int, length: int) -> int:
        """The actions that return a number."""
        if action in (CLOSE, OPEN):
            return 0
        if action == CLEAR:
            self.clear_seq = self.next_seq
            return 0
        if action == CONSOLE_OFF:
            if self.saved_console_loglevel == -1:
                self.saved_console_loglevel = self.console_loglevel
            self.console_loglevel = MINIMUM_CONSOLE_LOGLEVEL
            return 0
        if action == CONSOLE_ON:
            if self.saved_console_loglevel != -1:
                self.console_loglevel = self.saved_console_loglevel
                self.saved_console_loglevel = -1
            return 0
        if action == CONSOLE_LEVEL:
            if length < 1 or length > 8:
                raise oserror(errno.EINVAL)
            self.console_loglevel = max(length, MINIMUM_CONSOLE_LOGLEVEL)
            self.saved_console_loglevel = -1
            return 0
        if action == SIZE_UNREAD:
            unread = [r.formatted() for r in self.records if r.seq >= self.syslog_seq]
            return sum(len(t) for t in unread) - (self.syslog_partial if unread else 0)
        if action == SIZE_BUFFER:
            return LOG_BUF_LEN
        raise oserror(errno.EINVAL)

    def printk_sysctl(self) -> str:
        """/proc/sys/kernel/printk: console, default message, minimum, default console levels."""
        return f"{self.console_loglevel}\t4\t{MINIMUM_CONSOLE_LOGLEVEL}\t{DEFAULT_CONSOLE_LOGLEVEL}\n"
