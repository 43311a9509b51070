"""System V shared memory and semaphores, per IPC namespace -- as much as
busybox's ``syslogd -C`` and ``logread`` use (ipc/shm.c, ipc/sem.c).

* ``shmget(key, size, flags)``: IPC_CREAT makes a zero-filled segment,
  IPC_EXCL on an existing key: ``EEXIST``; no such key without IPC_CREAT:
  ``ENOENT``; ``size`` 0 or beyond the existing segment's: ``EINVAL``.
  ``shmat`` returns the segment itself (a program reads and writes its
  ``data``, a shared ``bytearray``); ``shmctl(IPC_RMID)`` takes the key away
  at once, the memory lives while attached.
* ``semget(key, nsems, flags)`` likewise (``nsems`` 0 only to find one);
  ``semop(id, [(num, op, flags)])`` applies all the operations or none,
  blocking until it can (IPC_NOWAIT: ``EAGAIN``); a set removed under a
  waiter: ``EIDRM``.
* Permissions: the low 9 bits of the mode, checked for owner/other
  (root passes); no ``ipcs``, no /proc/sysvipc, no SEM_UNDO adjustments
  at exit, no shm limits beyond those.
"""

from __future__ import annotations

import errno
import itertools
import weakref
from typing import Any

from .flow import oserror
from .scheduler import PipeWait

IPC_CREAT, IPC_EXCL, IPC_NOWAIT = 0o1000, 0o2000, 0o4000
IPC_PRIVATE = 0


class Segment:
    __slots__ = ("key", "uid", "mode", "data", "attached", "removed")

    def __init__(self, key: int, uid: int, mode: int, size: int) -> None:
        self.key, self.uid, self.mode = key, uid, mode & 0o777
        self.data = bytearray(size)
        self.attached = 0
        self.removed = False


class SemSet:
    __slots__ = ("key", "uid", "mode", "values", "waiters", "removed")

    def __init__(self, key: int, uid: int, mode: int, nsems: int) -> None:
        self.key, self.uid, self.mode = key, uid, mode & 0o777
        self.values = [0] * nsems
        self.waiters: list = []  # a wait queue, as a pipe's
        self.removed = False

    def wake_all(self, k) -> None:
        waiters, self.waiters = self.waiters, []
        for proc in waiters:
            if isinstance(proc.block, _SemWait) and proc.block.pipe is self:
                k.sched.wake(proc)


class IpcTables:
    """One IPC namespace's objects: by id, and keys to ids."""

    def __init__(self) -> None:
        self.shm: dict[int, Segment] = {}
        self.sem: dict[int, SemSet] = {}
        self.ids = itertools.count(0)


_TABLES: weakref.WeakKeyDictionary[Any, IpcTables] = weakref.WeakKeyDictionary()


def tables_of(ns) -> IpcTables:
    tables = _TABLES.get(ns)
    if tables is None:
        tables = _TABLES[ns] = IpcTables()
    return tables


def _may(proc, obj, want: int) -> bool:
    if proc.uid == 0:
        return True
    bits = (obj.mode >> 6) if proc.uid == obj.uid else obj.mode
    return bits & want == want


def _get_or_make(proc, table: dict, key: int, flags: int, make, fits) -> int:
    if key != IPC_PRIVATE:
        for ident, obj in table.items():
            if obj.key == key and not obj.removed:
                if flags & IPC_CREAT and flags & IPC_EXCL:
                    raise oserror(errno.EEXIST)
                if not fits(obj):
                    raise oserror(errno.EINVAL)
                want = flags & 0o666
                if want and not _may(proc, obj, (want >> 6 | want >> 3 | want) & 7):
                    raise oserror(errno.EACCES)
                return ident
        if not flags & IPC_CREAT:
            raise oserror(errno.ENOENT)
    obj = make()
    ident = next(tables_of(proc.ns.ipc).ids)
    table[ident] = obj
    return ident


class IpcSyscalls:
    """shmget/shmat/shmdt/shmctl(IPC_RMID), semget/semop/semctl(IPC_RMID) (mixin of SimSys)."""

    __slots__ = ()
    k: Any
    p: Any

    def _ipc(self) -> IpcTables:
        return tables_of(self.p.ns.ipc)

    def shmget(self, key: int, size: int, flags: int) -> int:
        p = self.p

        def make() -> Segment:
            if size < 1:
                raise oserror(errno.EINVAL)
            return Segment(key, p.uid, flags, size)

        return _get_or_make(p, self._ipc().shm, key, flags, make, lambda seg: size <= len(seg.data))

    def shmat(self, shmid: int, readonly: bool = False) -> Segment:
        seg = self._ipc().shm.get(shmid)
        if seg is None or seg.removed:
            raise oserror(errno.EINVAL)
        if not _may(self.p, seg, 4 if readonly else 6):
            raise oserror(errno.EACCES)
        seg.attached += 1
        return seg

    def shmdt(self, seg: Segment) -> None:
        seg.attached = max(0, seg.attached - 1)

    def shmctl_rmid(self, shmid: int) -> None:
        seg = self._ipc().shm.pop(shmid, None)
        if seg is None:
            raise oserror(errno.EINVAL)
        if self.p.uid not in (0, seg.uid):
            self._ipc().shm[shmid] = seg
            raise oserror(errno.EPERM)
        seg.removed = True

    def semget(self, key: int, nsems: int, flags: int) -> int:
        p = self.p

        def make() -> SemSet:
            if nsems < 1:
                raise oserror(errno.EINVAL)
            return SemSet(key, p.uid, flags, nsems)

        return _get_or_make(p, self._ipc().sem, key, flags, make, lambda s: nsems <= len(s.values))

    def semop(self, semid: int, ops: list[tuple[int, int, int]]):
        """All of ``ops`` (sem_num, sem_op, sem_flg) at once, waiting until they can."""
        sems = self._ipc().sem.get(semid)
        if sems is None:
            raise oserror(errno.EINVAL)
        if any(not 0 <= num < len(sems.values) for num, _op, _fl in ops):
            raise oserror(errno.EFBIG)
        if not _may(self.p, sems, 6 if any(op for _n, op, _f in ops) else 4):
            raise oserror(errno.EACCES)
        while True:
            if sems.removed:
                raise oserror(errno.EIDRM)
            values = list(sems.values)
            blocked = None
            for num, op, flg in ops:
                if op > 0:
                    values[num] += op
                elif op < 0 and values[num] + op >= 0:
                    values[num] += op
                elif op == 0 and values[num] == 0:
                    pass
                else:
                    blocked = flg
                    break
            if blocked is None:
                sems.values = values
                sems.wake_all(self.k)
                return
            if blocked & IPC_NOWAIT:
                raise oserror(errno.EAGAIN)
            yield _SemWait(sems)
            if self.p.interrupted:
                self.p.interrupted = False
                raise oserror(errno.EINTR)

    def semctl_rmid(self, semid: int) -> None:
        sems = self._ipc().sem.pop(semid, None)
        if sems is None:
            raise oserror(errno.EINVAL)
        sems.removed = True
        sems.wake_all(self.k)


class _SemWait(PipeWait):
    """Asleep on a semaphore set's queue (woken by any change to it)."""

    __slots__ = ()
