"""The applets on the simulated kernel's task and namespace calls (taskset,
nproc, setpriv, halt/poweroff/reboot, unshare, nsenter, dmesg), on the
simulator alone: what holds on any host, root or not.  Each is compared
with the real kernel in real containers by tests/diff/test_{affinity,
setpriv,halt,namespaces,dmesg}_agree.py; here the box has Docker's
capabilities and no seccomp filter, so the kernel's own checks answer."""

from __future__ import annotations

from stepbox.backends.sim.affinity import mask_hex, mask_list


def test_mask_formats():
    assert (mask_hex(0x3, 2), mask_hex(0x1, 16), mask_hex(1 << 40, 64)) == ("3", "0001", "00000100,00000000")
    assert (mask_list(0b1011), mask_list(0), mask_list(1 << 63)) == ("0-1,3", "", "63")


def test_affinity_is_inherited_and_refused_without_a_cpu(box):
    r = box.sh(
        "taskset -c 0 sh -c 'taskset -pc $$; nproc; grep Cpus_allowed_list /proc/self/status'; taskset 0 true"
    )
    assert r.stdout.splitlines()[1:] == ["1", "Cpus_allowed_list:\t0"]
    assert r.stdout.startswith("pid ") and r.stdout.splitlines()[0].endswith("current affinity list: 0")
    assert (r.status, r.stderr) == (1, "taskset: can't set pid 0's affinity: Invalid argument\n")


def test_capability_sets_through_exec(box):
    r = box.sh(
        "setpriv --inh-caps +net_raw --ambient-caps +net_raw,+sys_admin grep -E 'Cap(Inh|Amb)' /proc/self/status"
    )
    assert r.stdout == "CapInh:\t0000000000002000\nCapAmb:\t0000000000002000\n"
    assert r.stderr == "setpriv: cap_ambient_raise: Operation not permitted\n"


def test_reboot_and_namespaces_need_their_capabilities(box):
    r = box.sh(
        "halt; echo $?; reboot -f; echo $?; unshare -u true; echo $?; nsenter -t 1 -u true; echo $?; dmesg"
    )
    assert r.stdout == "0\n1\n1\n1\n"
    assert r.stderr == (
        "reboot: (null): Operation not permitted\n"
        "unshare: unshare(0x4000000): Operation not permitted\n"
        "nsenter: setns(): can't reassociate to namespace 'uts': Operation not permitted\n"
        "dmesg: klogctl: Operation not permitted\n"
    )
