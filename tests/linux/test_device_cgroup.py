"""The device cgroup, for real: the kernel against our statement of its rules.

:class:`~stepbox.core.kernel.devices.DeviceAllowlist` is what the simulator
asks and what the v2 program emitter compiles; here it is held against the
kernel.  Hypothesis generates rule sequences; each is

* written to a cgroup-v1 ``devices`` group as raw ``devices.allow`` /
  ``devices.deny`` writes -- ``devices.list`` must read as the model's listing;
* compiled by :mod:`~stepbox.backends.linux.cgroups.devicefilter` into a
  BPF_PROG_TYPE_CGROUP_DEVICE program attached to a group of the cgroup2
  tree (``/sys/fs/cgroup/unified`` here, the root on a v2-only host) -- and
  read back from the kernel into the same rules;

and in both, a process in the group tries mknod and open of block and char
devices of *unassigned* majors (so an allowed open fails with ENXIO, a
refused one with EPERM, and no real driver is ever touched), which must
succeed or fail as the model's ``permits`` says.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.core.kernel.devices import WILDCARD, DeviceAllowlist, DeviceRule

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]


def _mounts() -> dict[str, str]:
    found: dict[str, str] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            opts = fields[-1].split(",")
            if fstype == "cgroup" and "devices" in opts:
                found.setdefault("v1", fields[4])
            elif fstype == "cgroup2":
                found.setdefault("v2", fields[4])
    return found


MOUNTS = _mounts() if IS_LINUX_ROOT else {}


def _unused_majors(count: int = 2) -> list[int]:
    """Majors no char or block driver registered: opening such a node can
    only fail -- ENXIO when the cgroup allows it, EPERM when it does not."""
    used = set()
    with open("/proc/devices") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                used.add(int(parts[0]))
    return [m for m in range(200, 260) if m not in used][:count]


MAJORS = _unused_majors() if IS_LINUX_ROOT else [240, 241]
rules = st.lists(
    st.builds(
        DeviceRule,
        allow=st.booleans(),
        kind=st.sampled_from(["a", "b", "c", "c"]),
        major=st.sampled_from([WILDCARD, *MAJORS]),
        minor=st.sampled_from([WILDCARD, 0, 1]),
        access=st.sampled_from(["r", "w", "m", "rw", "rm", "rwm"]),
    ),
    max_size=6,
)
PROBES = [(kind, major, minor) for kind in "bc" for major in MAJORS for minor in (0, 1)]


def _probe(cgroup_procs: str) -> dict:
    """In a child that joined the group: what mknod and open do."""
    workdir = tempfile.mkdtemp(prefix="stepbox-devprobe-")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            with open(cgroup_procs, "w") as f:
                f.write("0")
            results: list[bool | None] = []
            for kind, major, minor in PROBES:
                node = os.path.join(workdir, f"{kind}{major}-{minor}")
                mode = 0o600 | (0o060000 if kind == "b" else 0o020000)
                try:
                    os.mknod(node, mode, os.makedev(major, minor))
                    results.append(True)
                except OSError as e:
                    results.append(e.errno != errno.EPERM)
                for flags in (os.O_RDONLY, os.O_WRONLY, os.O_RDWR):
                    if not os.path.exists(node):
                        # the node made by someone allowed to (the parent, below)
                        results.append(None)
                        continue
                    try:
                        os.close(os.open(node, flags | os.O_NOCTTY | os.O_NONBLOCK))
                        results.append(True)
                    except OSError as e:
                        results.append(e.errno != errno.EPERM)
            os.write(w, repr(results).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    shutil.rmtree(workdir, ignore_errors=True)
    return eval(data.decode())  # noqa: S307 - our own child's repr of a list of bools


def _expected(model: DeviceAllowlist) -> list[bool | None]:
    out: list[bool | None] = []
    for kind, major, minor in PROBES:
        can_make = model.permits(kind, major, minor, "m")
        out.append(can_make)
        for letters in ("r", "w", "rw"):
            out.append(model.permits(kind, major, minor, letters) if can_make else None)
    return out


@contextlib.contextmanager
def fresh_group(version: str):
    """A new, empty group of the v1 devices hierarchy or of the cgroup2 tree,
    removed afterwards (programs attached to it go with it)."""
    if version not in MOUNTS:
        pytest.skip(
            f"no {'cgroup-v1 devices hierarchy' if version == 'v1' else 'cgroup2 mount'} on this host"
        )
    path = os.path.join(MOUNTS[version], f"stepbox-devtest-{secrets.token_hex(4)}")
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)


def _write(path: str, value: str) -> bool:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@settings(max_examples=int(os.environ.get("STEPBOX_DEVICE_EXAMPLES", "25")))
@given(sequence=rules)
def test_v1_kernel_agrees_with_the_model(sequence):
    with fresh_group("v1") as group:
        _check_v1(group, sequence)


def _check_v1(v1_group: str, sequence: list[DeviceRule]) -> None:
    model = DeviceAllowlist()
    for rule in sequence:
        target = os.path.join(v1_group, "devices.allow" if rule.allow else "devices.deny")
        if _write(target, "a" if rule.kind == "a" else rule.line):
            model.apply(rule)
    with open(os.path.join(v1_group, "devices.list")) as f:
        assert f.read().splitlines() == model.listing()
    assert _probe(os.path.join(v1_group, "cgroup.procs")) == _expected(model)


@settings(max_examples=int(os.environ.get("STEPBOX_DEVICE_EXAMPLES", "25")))
@given(sequence=rules)
def test_v2_device_program_agrees_with_the_model(sequence):
    with fresh_group("v2") as group:
        _check_v2(group, sequence)


def _check_v2(v2_group: str, sequence: list[DeviceRule]) -> None:
    from stepbox.backends.linux import bpf
    from stepbox.backends.linux.cgroups.devicefilter import LICENSE, device_program, rules_from_program

    model = DeviceAllowlist.from_rules(sequence)
    program = device_program(sequence)
    fd = bpf.load_cgroup_device_program(program, LICENSE)
    try:
        bpf.attach_to_cgroup(fd, v2_group)
    finally:
        os.close(fd)
    attached = bpf.attached_programs(v2_group)
    assert len(attached) == 1
    back = DeviceAllowlist.from_rules(rules_from_program(attached[0]))
    assert back.rules() == model.rules()
    assert _probe(os.path.join(v2_group, "cgroup.procs")) == _expected(model)


def test_dockers_rules_on_v2():
    with fresh_group("v2") as group:
        _check_dockers_rules(group)


def _check_dockers_rules(v2_group: str) -> None:
    """Docker's default list as a program: mknod of anything, opening only
    the listed devices (here: an unassigned major stays closed)."""
    from stepbox.backends.linux import bpf
    from stepbox.backends.linux.cgroups.devicefilter import LICENSE, device_program
    from stepbox.core.confinement.devices import DEFAULT_DEVICE_RULES

    fd = bpf.load_cgroup_device_program(device_program(list(DEFAULT_DEVICE_RULES)), LICENSE)
    try:
        bpf.attach_to_cgroup(fd, v2_group)
    finally:
        os.close(fd)
    results = _probe(os.path.join(v2_group, "cgroup.procs"))
    assert results == _expected(DeviceAllowlist.from_rules(DEFAULT_DEVICE_RULES))
    assert results[0] is True and results[1] is False  # mknod b MAJOR:0 allowed, open refused
