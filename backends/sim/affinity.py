"""CPU affinity: which CPUs each simulated task may run on.

The simulated scheduler runs one task at a time (SIMPLIFICATIONS.md, "One
CPU"), but what programs *ask* about CPUs -- sched_getaffinity(2), which
busybox's ``nproc`` and ``taskset`` call, and ``Cpus_allowed`` in
/proc/PID/status -- is answered as the machine the simulator runs on would
answer it: the same online CPUs, and a first task pinned as the host process
that started the simulator is.  So a simulated container sees the CPUs a
real container started from the same process sees.

A mask is a Python int, bit N for CPU N.  ``sched_setaffinity`` keeps the
asked mask restricted to the online CPUs (the cpuset of every simulated
cgroup is the whole machine), and refuses one with no online CPU (EINVAL).
"""

from __future__ import annotations

import os


def _parse_cpu_list(text: str) -> int:
    """ "0-3,5" (the kernel's cpulist format) -> a mask."""
    mask = 0
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        for cpu in range(int(first), int(last or first) + 1):
            mask |= 1 << cpu
    return mask


def machine_cpus() -> tuple[int, int]:
    """(online CPUs, the host process's affinity) as masks.  Where the host
    cannot say (no /sys, no sched_getaffinity: Pyodide), one CPU."""
    try:
        with open("/sys/devices/system/cpu/online") as f:
            online = _parse_cpu_list(f.read())
    except (OSError, ValueError):
        online = (1 << (os.cpu_count() or 1)) - 1
    online = online or 1
    try:
        allowed = sum(1 << cpu for cpu in os.sched_getaffinity(0)) & online
    except (AttributeError, OSError):
        allowed = online
    return online, allowed or online


def mask_hex(mask: int, nr_cpus: int) -> str:
    """The kernel's ``%*pb`` (Cpus_allowed): hex digits for ``nr_cpus`` bits,
    in comma-separated groups of 32 bits, the most significant first."""
    digits = max(1, (nr_cpus + 3) // 4)
    text = f"{mask:0{digits}x}"[-digits:]
    groups = []
    while text:
        groups.append(text[-8:])
        text = text[:-8]
    return ",".join(reversed(groups))


def mask_list(mask: int) -> str:
    """The kernel's ``%*pbl`` (Cpus_allowed_list): "0-1,4"."""
    ranges, cpu = [], 0
    while mask >> cpu:
        if mask >> cpu & 1:
            first = cpu
            while mask >> (cpu + 1) & 1:
                cpu += 1
            ranges.append(str(first) if first == cpu else f"{first}-{cpu}")
        cpu += 1
    return ",".join(ranges)
