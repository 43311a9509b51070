"""taskset -- after busybox 1.35's util-linux/taskset.c (FEATURE_TASKSET_FANCY
and FEATURE_TASKSET_CPULIST, as Debian builds it).

A mask is one ``unsigned long`` (busybox starts with 8 bytes and doubles
only while the kernel says EINVAL, which it does not for 64 CPUs or
fewer): bits past 64 in a HEXMASK or a LIST are dropped, as busybox drops
them.  ``-a`` walks /proc/PID/task, which has one entry per simulated
process (no threads).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import Die, UsageError, complain, dies, getopt, out, show_usage, strerror, xatou
from .spawn import exec_or_die

Gen = Generator[Any, Any, Any]

MASK_BITS = 64  # sizeof(unsigned long) * 8: the size of busybox's first mask
UINT_MAX = 2**32 - 1


def _strtou(text: str) -> tuple[int, str]:
    """bb_strtou(s, &end, 10): the number and what follows it; UINT_MAX
    when there are no digits or the number overflows."""
    digits = 0
    while digits < len(text) and text[digits].isdigit():
        digits += 1
    if digits == 0 or text[:1] in "+-":
        return UINT_MAX, text
    value = int(text[:digits])
    return (value if value <= UINT_MAX else UINT_MAX), text[digits:]


def parse_cpulist(text: str) -> int:
    mask, rest = 0, text
    while True:
        bit, rest = _strtou(rest)
        end, stride = bit, 1
        if rest.startswith("-"):
            end, rest = _strtou(rest[1:])
            if rest.startswith(":"):
                stride, rest = _strtou(rest[1:])
        if (rest and rest[0] != ",") or bit > end or end == UINT_MAX or (stride - 1) % 2**32 > UINT_MAX // 4:
            raise Die(f"bad affinity '{text}'")
        while bit <= end and bit < MASK_BITS:
            mask |= 1 << bit
            bit += stride
        if not rest:
            return mask
        rest = rest[1:]


def parse_hexmask(aff: str) -> int:
    if aff[:1] == "0" and aff[1:2] in ("x", "X"):
        aff = aff[2:]
    mask = 0
    for i, c in enumerate(reversed(aff)):
        if c not in "0123456789abcdefABCDEF":
            raise Die(f"bad affinity '{aff}'")
        if 4 * i < MASK_BITS:
            mask |= int(c, 16) << (4 * i)
    return mask & (2**MASK_BITS - 1)


def print_cpulist(mask: int) -> str:
    parts, pos = [], 0
    while pos < MASK_BITS:
        if mask >> pos & 1:
            first = pos
            while pos + 1 < MASK_BITS and mask >> (pos + 1) & 1:
                pos += 1
            parts.append(str(first) if first == pos else f"{first}-{pos}")
        pos += 1
    return ",".join(parts) + "\n"


def _process_pid(sys: Sys, pid_str: str | None, use_list: bool, show: bool, aff: str | None) -> Gen:
    pid = 0 if pid_str is None else xatou(pid_str, 1, 2**31 - 1)
    current = "current"
    while True:
        try:
            mask = sys.sched_getaffinity(pid)
        except OSError as e:
            raise Die(f"can't get pid {pid}'s affinity: {strerror(e)}") from None
        if show:
            if use_list:
                yield from out(sys, f"pid {pid}'s {current} affinity list: " + print_cpulist(mask))
            else:
                yield from out(sys, f"pid {pid}'s {current} affinity mask: {mask:x}\n")
            if aff is None:
                return 0
            current = "new"
        assert aff is not None
        new = parse_cpulist(aff) if use_list else parse_hexmask(aff)
        try:
            sys.sched_setaffinity(pid, new)
        except OSError as e:
            raise Die(f"can't set pid {pid}'s affinity: {strerror(e)}") from None
        if not show:
            return 0
        aff = None  # "-p AFF PID": print the new mask, and done


@applet("taskset")
@dies("taskset")
def taskset_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "pac", permute=False)
        if not opts.operands:
            raise UsageError()
    except UsageError as e:
        if e.message:
            yield from complain(sys, "taskset", e.message)
        yield from show_usage(sys, "taskset")
        return 1
    show, use_list = "p" in opts, "c" in opts
    args = opts.operands
    aff: str | None = args[0]
    if not show:
        if len(args) < 2:
            yield from show_usage(sys, "taskset")
            return 1
        yield from _process_pid(sys, None, use_list, False, aff)
        return (yield from exec_or_die(sys, "taskset", args[1:]))
    pid_str = args[0]
    if len(args) > 1:  # "-p AFF PID ...the rest is ignored..."
        pid_str = args[1]
    else:
        aff = None
    if "a" in opts:
        try:
            tasks = sys.listdir(f"/proc/{pid_str}/task")
        except OSError:
            tasks = None  # no /proc/PID/task: as if without -a
        if tasks is not None:
            for name in tasks:
                if name[:1].isdigit():
                    yield from _process_pid(sys, name, use_list, True, aff)
            return 0
    return (yield from _process_pid(sys, pid_str, use_list, True, aff))


@dies("nproc")
def count_cpus(sys: Sys) -> Gen:
    """nproc (registered in applets_proc): the CPUs of sched_getaffinity,
    or with --all the cpuN entries of /sys/devices/system/cpu; minus
    --ignore; at least 1."""
    try:
        opts = getopt(sys.argv[1:], "\xfe:\xff", longopts={"ignore": "\xfe", "all": "\xff"})
    except UsageError as e:
        if e.message:
            yield from complain(sys, "nproc", e.message)
        yield from show_usage(sys, "nproc")
        return 1
    ignore = xatou(opts.value("\xfe") or "", 0, 2**31 - 1) if "\xfe" in opts else 0
    count = 0
    if "\xff" in opts:
        try:
            names = sys.listdir("/sys/devices/system/cpu")
        except OSError:
            names = []
        count = sum(1 for name in names if "cpu" in name and name[-1:].isdigit())
    else:
        try:
            count = bin(sys.sched_getaffinity(0)).count("1")
        except OSError:
            pass
    count -= ignore
    yield from out(sys, f"{max(count, 1)}\n")
    return 0
