"""The observable state of one container, as plain data.

Shown after every step by ``stepbox step`` and the notebooks; the same shape
whichever kernel runs the container (see ``core/kernel/observe.py``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from stepbox.core.kernel import KernelError, NamespaceKind
from stepbox.core.kernel.capabilities import CAPABILITY_NUMBER, capability_mask

from .context import LifecycleContext


def observe(ctx: LifecycleContext) -> dict[str, Any]:
    kernel, record = ctx.kernel, ctx.record
    unionfs = kernel.unionfs
    state: dict[str, Any] = {
        "container": {
            "state": record.state,
            "pid": record.pid,
            "exit_code": record.exit_code,
            "oom_killed": record.oom_killed,
        },
        "layers": {
            "image (read-only)": [layer[:12] for layer in record.lowers],
            "init layer": record.init_layer[:12] + "-init" if unionfs.has_layer(record.init_layer) else None,
            "read-write layer": record.rw_layer[:12] if unionfs.has_layer(record.rw_layer) else None,
            "mounted at": record.mount["target"] if record.mount else None,
        },
    }
    if record.cgroup and kernel.cgroups.exists(record.cgroup):
        stats = kernel.cgroups.stats(record.cgroup)
        state["cgroup"] = {
            "path": record.cgroup,
            "procs": kernel.cgroups.procs(record.cgroup),
            **{
                k: v
                for k, v in asdict(stats).items()
                if k
                in (
                    "memory_current",
                    "memory_max",
                    "memory_events",
                    "pids_current",
                    "pids_max",
                    "cpu_nr_throttled",
                    "frozen",
                )
            },
        }
    if record.pid and kernel.processes.exists(record.pid):
        try:
            state.update(_process_view(ctx))
        except (FileNotFoundError, ProcessLookupError, KernelError):
            pass  # it exited while we looked (a real process does not wait for us)
    return state


def _process_view(ctx: LifecycleContext) -> dict[str, Any]:
    kernel, record = ctx.kernel, ctx.record
    own = kernel.namespaces.of(record.pid)
    host = kernel.namespaces.host()
    namespaces = {
        kind.value: ("own " if own.get(kind) != host.get(kind) else "host's ") + str(own.get(kind))
        for kind in NamespaceKind
        if kind in own
    }
    pid_ns = own.get(NamespaceKind.PID)
    processes = [
        f"{p.ns_pid} {' '.join(p.argv)}".rstrip()
        for p in kernel.processes.list()
        if p.namespaces.get("pid") == pid_ns
    ]
    mounts = kernel.mounts(record.pid)
    rootfs = record.mount["target"] if record.mount else None
    if rootfs and any(m.target.startswith(rootfs) for m in mounts):
        mounts = [m for m in mounts if m.target.startswith(rootfs)]  # before pivot_root
    return {
        "namespaces": namespaces,
        "hostname (inside)": kernel.namespaces.hostname(record.pid),
        # lo comes up at the loopback step: a new network namespace starts with it down
        "interfaces (inside)": [
            f"{name} {'UP' if up else 'DOWN'}"
            for name, up in sorted(kernel.namespaces.interfaces(record.pid).items())
        ],
        # what the capabilities step drops: CapEff as /proc/PID/status shows it, and by name
        "capabilities (effective)": _capabilities(kernel.capabilities(record.pid)),
        "mounts (inside)": [f"{m.target} {m.fstype}" for m in mounts],
        "processes (inside)": processes,
    }


def _capabilities(names: frozenset[str]) -> str:
    """``00000000a80425fb: 14 -- CHOWN DAC_OVERRIDE ...`` (the names only for a short
    set: the full one of a process not yet confined is 41 names)."""
    mask = capability_mask(names)
    shown = sorted(names, key=lambda name: CAPABILITY_NUMBER[name])
    if len(shown) > 20:
        return f"{mask:016x}: {len(shown)}"
    return f"{mask:016x}: {len(shown)} -- " + " ".join(name.removeprefix("CAP_") for name in shown)
