"""Resource limits (getrlimit/setrlimit), per process, inherited by fork
and kept by exec -- what ``docker run --ulimit`` sets before the command runs.

The starting values are the kernel's ``INIT_RLIMITS`` (what PID 1 of a
fresh host gets); ``nproc`` and ``sigpending`` are computed from memory at
boot on Linux and are a fixed figure here.  Of the limits, only ``nofile``
is enforced (EMFILE); the others are stored and reported (SIMPLIFICATIONS.md).
"""

from __future__ import annotations

import errno

from stepbox.core.kernel import RLIM_INFINITY

from .flow import oserror

INF = RLIM_INFINITY
NR_OPEN = 1 << 20  # fs.nr_open: no nofile hard limit above it, even for root
DEFAULT_RLIMITS: dict[str, tuple[int, int]] = {
    "cpu": (INF, INF),
    "fsize": (INF, INF),
    "data": (INF, INF),
    "stack": (8 << 20, INF),  # _STK_LIM
    "core": (0, INF),
    "rss": (INF, INF),
    "nproc": (31_335, 31_335),
    "nofile": (1024, 4096),  # INR_OPEN_CUR, INR_OPEN_MAX
    "memlock": (8 << 20, 8 << 20),  # MLOCK_LIMIT
    "as": (INF, INF),
    "locks": (INF, INF),
    "sigpending": (31_335, 31_335),
    "msgqueue": (819_200, 819_200),  # MQ_BYTES_MAX
    "nice": (0, 0),
    "rtprio": (0, 0),
    "rttime": (INF, INF),
}


def _above(a: int, b: int) -> bool:
    """a > b, where -1 (infinity) is above everything."""
    if a == INF:
        return b != INF
    return b != INF and a > b


def check_setrlimit(current: tuple[int, int], name: str, soft: int, hard: int, caps: frozenset[str]) -> None:
    """What do_prlimit() refuses: soft above hard (EINVAL), a hard limit
    raised without CAP_SYS_RESOURCE, or nofile above fs.nr_open (EPERM)."""
    if name not in DEFAULT_RLIMITS or soft < INF or hard < INF:
        raise oserror(errno.EINVAL)
    if _above(soft, hard):
        raise oserror(errno.EINVAL)
    if _above(hard, current[1]) and "CAP_SYS_RESOURCE" not in caps:
        raise oserror(errno.EPERM)
    if name == "nofile" and _above(hard, NR_OPEN):
        raise oserror(errno.EPERM)


def fd_limit(limits: dict[str, tuple[int, int]]) -> int:
    soft = limits["nofile"][0]
    return NR_OPEN if soft == INF else soft
