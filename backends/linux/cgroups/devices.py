"""The device cgroup on both versions: which device files a group may use.

* **v1** -- the ``devices`` controller keeps the list in the kernel: write
  "a" to ``devices.deny`` (deny everything, forget the old list), then each
  allowed rule to ``devices.allow``; ``devices.list`` shows the result.  The
  rules are written in the order runc writes them (sorted), so the listing
  reads the same as under Docker.
* **v2** -- no controller and no files: a BPF program attached to the
  group's directory answers (see :mod:`.devicefilter`, :mod:`..bpf`).  Reading
  the rules back means reading the attached program back.
"""

from __future__ import annotations

import os

from stepbox.core.kernel.devices import DeviceAllowlist, DeviceRule

from .. import bpf
from .devicefilter import LICENSE, device_program, rules_from_program
from .hierarchy import Hierarchy


def set_devices_v1(h: Hierarchy, path: str, rules: list[DeviceRule]) -> None:
    d = h.dir(path)
    for rule in DeviceAllowlist.from_rules(rules).rules():
        h.io.write(f"{d}/devices.{'allow' if rule.allow else 'deny'}", "a" if rule.kind == "a" else rule.line)


def read_devices_v1(h: Hierarchy, path: str) -> list[str]:
    return h.io.read(f"{h.dir(path)}/devices.list").splitlines()


def set_devices_v2(h: Hierarchy, path: str, rules: list[DeviceRule]) -> None:
    d = h.dir(path)
    program = device_program(rules)
    h.io.tracer.record(
        "bpf",
        f"BPF_PROG_LOAD, {{prog_type=BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt={len(program) // 8}, "
        f'license="{LICENSE}"}}',
    )
    fd = bpf.load_cgroup_device_program(program, LICENSE)
    try:
        h.io.tracer.record(
            "bpf",
            f'BPF_PROG_ATTACH, {{target_fd=open("{d}"), attach_type=BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI}}',
        )
        bpf.attach_to_cgroup(fd, d)
    finally:
        os.close(fd)


def read_devices_v2(h: Hierarchy, path: str) -> list[str]:
    """``devices.list`` as v1 would show it, from the programs attached to the group."""
    lines: list[str] = []
    for program in bpf.attached_programs(h.dir(path)):
        lines += DeviceAllowlist.from_rules(rules_from_program(program)).listing()
    return lines
