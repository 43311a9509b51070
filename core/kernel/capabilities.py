"""Capabilities: root's privileges, split into pieces a container keeps or loses.

One list for everyone: the Linux backend turns names into ``prctl`` bit
numbers, the simulator keeps a set of names per process and shows it in
``/proc/PID/status`` as the kernel does.
"""

from __future__ import annotations

from collections.abc import Iterable

# <linux/capability.h>, in bit order: every capability of a 6.x kernel
# (CAP_CHOWN=0 ... CAP_CHECKPOINT_RESTORE=40).  CapEff of root on the host
# is 000001ffffffffff.
CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
ALL_CAPABILITIES = frozenset(CAPABILITIES)
CAPABILITY_NUMBER = {name: number for number, name in enumerate(CAPABILITIES)}

# Docker's default capability set (moby's oci/caps/defaults.go): CapEff
# 00000000a80425fb.  Everything else is dropped before exec.
DOCKER_DEFAULT_CAPABILITIES = frozenset(
    {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
    }
)


def capability_mask(names: Iterable[str]) -> int:
    """The bit mask of a set of capability names, as ``/proc/PID/status``
    shows it (CapEff, in hex); an unknown name is an error."""
    mask = 0
    for name in names:
        try:
            mask |= 1 << CAPABILITY_NUMBER[name]
        except KeyError:
            raise ValueError(f"unknown capability {name!r}") from None
    return mask


def capability_name(number: int) -> str:
    """``CAP_SYS_ADMIN`` for 21; the number itself for one newer than this list."""
    return CAPABILITIES[number] if 0 <= number < len(CAPABILITIES) else str(number)


def capability_names(mask: int) -> frozenset[str]:
    """The names of the bits set in ``mask`` (bits no name is known for are left out)."""
    return frozenset(name for number, name in enumerate(CAPABILITIES) if mask >> number & 1)
