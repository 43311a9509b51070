"""The simulated kernel's log (backends/sim/kmsg.py) and what reads it:
syslog(2)'s actions and permissions, the records the kernel writes (boot,
OOM kills), dmesg and klogd in containers given CAP_SYSLOG.  (Without it,
containers on both kernels are compared in tests/diff/test_kernel_log_agree.py.)"""

from __future__ import annotations

import errno

import pytest
from stepbox.backends.sim import kmsg
from stepbox.core.confinement.policy import ConfinementFlags

from tests.core.engines import runtime_on
from tests.diff.test_containers_agree import run_in
from tests.sim.sim_kernel_helpers import boot

SYSLOG = ConfinementFlags(cap_add=("SYSLOG",))


@pytest.fixture(scope="module")
def sim():
    runtime, cleanup = runtime_on("sim")
    yield runtime
    cleanup()


def test_records_are_formatted_as_syslog2_gives_them():
    k = boot()
    log = k.klog
    boot_line = log.read_all(1 << 20, clear=False)
    assert boot_line.startswith(b"<5>[    0.000000] Linux version ") and boot_line.endswith(b"\n")
    log.printk(kmsg.KERN_ERR, "something")
    assert log.read_all(1 << 20, clear=False).endswith(b"] something\n")
    # READ_ALL keeps the newest records that fit; READ_CLEAR then hides them
    last = log.read_all(len(b"<3>[    0.000000] something\n"), clear=True)
    assert last.endswith(b"something\n") and b"Linux" not in last
    assert log.read_all(1 << 20, clear=False) == b""
    # READ consumes, in pieces if asked for fewer bytes than a record has
    first = log.read(5)
    assert len(first) == 5 and log.control(kmsg.SIZE_UNREAD, 0) > 0
    rest = log.read(1 << 20)
    assert (first + rest).count(b"\n") == 2 and not log.has_unread()
    assert log.control(kmsg.SIZE_BUFFER, 0) == kmsg.LOG_BUF_LEN


def test_console_level_and_bad_actions():
    log = boot().klog
    for bad in (0, 9):
        with pytest.raises(OSError) as e:
            log.control(kmsg.CONSOLE_LEVEL, bad)
        assert e.value.errno == errno.EINVAL
    log.control(kmsg.CONSOLE_LEVEL, 3)
    assert log.console_loglevel == 3
    with pytest.raises(OSError):
        log.control(42, 0)


def test_the_ring_drops_its_oldest_records():
    log = boot().klog
    for i in range(kmsg.LOG_BUF_LEN // 20):
        log.printk(kmsg.KERN_INFO, f"line {i:06d}")
    kept = log.read_all(1 << 30, clear=False)
    assert len(kept) <= kmsg.LOG_BUF_LEN and b"Linux version" not in kept
    assert kept.endswith(f"line {kmsg.LOG_BUF_LEN // 20 - 1:06d}\n".encode())


def test_dmesg_with_cap_syslog_reads_clears_and_sets_the_level(sim):
    script = (
        "dmesg | head -n 1; dmesg -r | grep -c '^<5>\\[    0.000000\\] Linux version'; "
        "dmesg -n 2; echo $?; dmesg -c > /dev/null; dmesg | wc -l; cat /proc/sys/kernel/dmesg_restrict"
    )
    result = run_in(sim, script, security=SYSLOG)
    assert result["stdout"].startswith("[    0.000000] Linux version 6.1.0-stepbox-sim (stepbox simulator)")
    assert result["stdout"].splitlines()[1:] == ["1", "0", "0", "1"], result
    assert (result["exit"], result["stderr"]) == (0, "")


def test_an_oom_kill_is_logged(sim):
    run_in(sim, "exec tail /dev/zero", memory=16 * 1024 * 1024)
    result = run_in(
        sim, "dmesg | grep -c 'Memory cgroup out of memory: Killed process [0-9]* (tail)'", security=SYSLOG
    )
    assert result["stdout"] == "1\n"


def test_klogd_reads_until_a_signal(sim):
    # klogd's copies go to syslog (nowhere on the simulator: no /dev/log);
    # it blocks in syslog(2)'s READ, and dies of the signal that stops it.
    result = run_in(sim, "klogd -n & sleep 1; kill $!; wait $!; echo $?; klogd; echo $?", security=SYSLOG)
    assert result["stdout"] == "143\n0\n", result
