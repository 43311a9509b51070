"""Choose the clone flags: a process with its own PIDs, hostname and mounts."""

from __future__ import annotations

import signal

from stepbox.core.kernel.namespaces import NamespaceKind
from stepbox.core.kernel.processes import SpawnSpec

from .walk import Wrong, answer

NAME = "clone-flags"
TITLE = {"en": "Choose the clone flags", "zh": "选择 clone 的标志位"}
STATEMENT = {
    "en": "A container is a process with namespaces of its own. Set FLAGS to the clone(2) "
    "flags that give a new process its own process IDs (it is PID 1), its own hostname "
    "and its own mount table -- and nothing else. The checker asks the kernel to spawn "
    "a process with them and compares its namespaces with the host's.",
    "zh": "容器就是拥有自己的 namespace 的进程。把 FLAGS 设为 clone(2) 的标志位，让新进程拥有"
    "自己的进程号（它是 1 号进程）、自己的主机名和自己的挂载表——别的都不要。检查程序让内核用"
    "这些标志位创建一个进程，再把它的 namespace 和宿主机的相比较。",
}
WANTED = {NamespaceKind.PID, NamespaceKind.UTS, NamespaceKind.MNT}
# The values of <linux/sched.h>: what the flag names stand for.
CLONE_VALUES = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}


def check(module, lab) -> None:
    flags = answer(module, "FLAGS")
    if not isinstance(flags, int) or flags == 0:
        raise Wrong(
            "FLAGS is 0: the process would share every namespace of the host",
            zh="FLAGS 是 0：进程会和宿主机共享每一个命名空间",
        )
    known = sum(CLONE_VALUES.values())
    if flags & ~known:
        raise Wrong(
            f"FLAGS has bits that are no namespace flag: {flags & ~known:#x}",
            zh=f"FLAGS 里有不是命名空间标志位的位：{flags & ~known:#x}",
        )
    kinds = tuple(k for k in NamespaceKind if flags & CLONE_VALUES[k.clone_flag])
    if NamespaceKind.USER in kinds:
        raise Wrong(
            "CLONE_NEWUSER: a user namespace was not asked for (Docker's is opt-in)",
            zh="CLONE_NEWUSER：题目没有要用户命名空间（Docker 的用户命名空间要自己选择开启）",
        )
    handle = lab.kernel.processes.spawn(SpawnSpec(namespaces=kinds))
    try:
        own = lab.kernel.namespaces.of(handle.pid)
        host = lab.kernel.namespaces.host()
        new = {k for k in WANTED | set(kinds) if own[k] != host[k]}
    finally:
        handle.signal(signal.SIGKILL)
        handle.wait()
    for kind in sorted(WANTED - new):
        raise Wrong(
            f"the process still shares the host's {kind.value} namespace: add {kind.clone_flag}",
            zh=f"进程仍然和宿主机共享 {kind.value} 命名空间：加上 {kind.clone_flag}",
        )
    for kind in sorted(new - WANTED):
        raise Wrong(
            f"the process got its own {kind.value} namespace, which was not asked for: drop {kind.clone_flag}",
            zh=f"进程得到了自己的 {kind.value} 命名空间，但题目没有要它：去掉 {kind.clone_flag}",
        )
