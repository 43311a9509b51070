"""System V shared memory and semaphores: the simulated kernel
(backends/sim/sysv_ipc.py) against the real one, call by call -- the
calls syslogd -C and logread make, and their errors.

The real side runs through ctypes in a child in an IPC namespace of its
own (``unshare --ipc``), so the host's SysV objects are never touched.
(syslogd -C and logread themselves are compared in
tests/sim/userland/test_syslogd_vs_busybox.py.)"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys as pysys

import pytest

from tests.sim.sim_kernel_helpers import Box, boot

CREAT, EXCL, NOWAIT = 0o1000, 0o2000, 0o4000
KEY, OTHER = 0x1234, 0x99

REAL = r"""
import ctypes, errno, json
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p

class Sembuf(ctypes.Structure):
    _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flg", ctypes.c_short)]

def call(f, *a):
    r = f(*a)
    return r if r != -1 else errno.errorcode[ctypes.get_errno()]

def semop(semid, ops):
    arr = (Sembuf * len(ops))(*[Sembuf(*o) for o in ops])
    return call(libc.semop, semid, arr, len(ops))

def semval(semid, n):
    return libc.semctl(semid, n, 12)  # GETVAL

def shm_rw(shmid):
    addr = libc.shmat(shmid, None, 0)
    buf = (ctypes.c_char * 8).from_address(addr)
    first = buf.raw
    buf[0:3] = b"abc"
    again = (ctypes.c_char * 8).from_address(libc.shmat(shmid, None, 0o10000)).raw
    return [first.hex(), again[:3].decode()]

out = []
"""

STEPS = [
    ("shmget", KEY, 0, 0),
    ("shmget", KEY, 100, CREAT | 0o644),
    ("shmget", KEY, 100, CREAT | EXCL | 0o644),
    ("shmget", KEY, 200, 0),
    ("shmget", KEY, 0, 0),
    ("shmget", OTHER, 0, CREAT),
    ("shm_rw",),
    ("semget", KEY, 0, 0),
    ("semget", KEY, 2, CREAT | EXCL | 0o1777),
    ("semget", KEY, 2, CREAT | EXCL | 0o1777),
    ("semget", KEY, 3, 0),
    ("semget", OTHER, 0, CREAT),
    ("semop", [(0, -1, NOWAIT)]),
    ("semop", [(5, 1, 0)]),
    ("semop", [(1, 0, 0), (0, 1, 0)]),
    ("semop", [(0, 0, NOWAIT)]),
    ("semop", [(0, -1, NOWAIT), (1, 1, 0)]),
    ("semvals",),
    ("semrm",),
    ("semrm",),
    ("shmrm",),
    ("shmget", KEY, 0, 0),
]

REAL_STEPS = r"""
ids = {}
for step in json.loads(STEPS):
    name = step[0]
    if name == "shmget":
        r = call(libc.shmget, *step[1:])
        if isinstance(r, int):
            ids.setdefault("shm", r)
            r = "id"
    elif name == "semget":
        r = call(libc.semget, *step[1:])
        if isinstance(r, int):
            ids.setdefault("sem", r)
            r = "id"
    elif name == "shm_rw":
        r = shm_rw(ids["shm"])
    elif name == "semop":
        r = semop(ids["sem"], step[1])
    elif name == "semvals":
        r = [semval(ids["sem"], 0), semval(ids["sem"], 1)]
    elif name == "semrm":
        r = call(libc.semctl, ids["sem"], 0, 0)
    else:
        r = call(libc.shmctl, ids["shm"], 0, None)
    out.append(r)
print(json.dumps(out))
"""


def real_results() -> list:
    script = REAL + f"STEPS = {json.dumps(json.dumps(STEPS))}\n" + REAL_STEPS
    # A user without root makes its IPC namespace inside a user namespace of its own,
    # where it is root (as the non-root run of CI is).
    own = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    got = subprocess.run(
        ["unshare", *own, "--ipc", pysys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(got.stdout)


def sim_results(sys) -> list:
    def call(fn, *args):
        try:
            r = fn(*args)
        except OSError as e:
            return errno.errorcode[e.errno or 0]
        return 0 if r is None else r  # the C calls return 0

    def blocking(gen_fn, *args):
        try:
            gen = gen_fn(*args)
            while True:
                next(gen)
                return "blocked"
        except StopIteration:
            return 0
        except OSError as e:
            return errno.errorcode[e.errno or 0]

    ids: dict[str, int] = {}
    out: list = []
    for step in STEPS:
        name = step[0]
        if name in ("shmget", "semget"):
            r = call(getattr(sys, name), *step[1:])
            if isinstance(r, int):
                ids.setdefault(name[:3], r)
                r = "id"
        elif name == "shm_rw":
            seg = sys.shmat(ids["shm"])
            first = bytes(seg.data[:8])
            seg.data[0:3] = b"abc"
            r = [first.hex(), bytes(sys.shmat(ids["shm"], True).data[:3]).decode()]
        elif name == "semop":
            r = blocking(sys.semop, ids["sem"], step[1])
        elif name == "semvals":
            r = list(sys._ipc().sem[ids["sem"]].values)
        elif name == "semrm":
            r = call(sys.semctl_rmid, ids["sem"])
        else:
            r = call(sys.shmctl_rmid, ids["shm"])
        out.append(r)
    return out


@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare(1) for an IPC namespace")
def test_sysv_ipc_agrees_with_linux(tmp_path):
    real = real_results()
    k = boot()
    box = Box(k, tmp_path)
    got: list = []

    def prog(sys):
        got.extend(sim_results(sys))
        return 0
        yield  # pragma: no cover

    assert box.run(prog).code == 0
    assert got == real
    # what Linux said, so that a change on either side shows
    assert real[0] == "ENOENT" and real[2] == "EEXIST" and real[3] == "EINVAL" and real[5] == "EINVAL"
    assert real[6] == ["0000000000000000", "abc"] and real[12:14] == ["EAGAIN", "EFBIG"]
    assert real[17] == [0, 1] and real[18:20] == [0, "EINVAL"] and real[21] == "ENOENT"
