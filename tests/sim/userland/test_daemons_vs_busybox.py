"""The daemon applets on the simulator against REAL busybox: svok and svc
(a service directory's supervise/ files as regular files -- the simulator
has no FIFOs), ..."""

from __future__ import annotations

import pytest

STATUS = "printf '0123456789abcdefghij' > s/supervise/status; "

RUNIT_CASES = [
    "svok; echo $?; svok nope; echo $?; svok ./nope; echo $?; mkdir -p s/supervise; svok ./s; echo $?; "
    "svok s/; echo $?; : > s/supervise/ok; svok ./s; echo $?; svok /work/s; echo $?; svok ./s/supervise/ok; echo $?; "
    "rm s/supervise/ok; mkdir s/supervise/ok; svok ./s; echo $?",
    "mkdir -p s/supervise; : > s/supervise/ok; chmod 0 s/supervise/ok; su -s /bin/sh nobody -c 'svok /work/s'; echo $?; "
    "svok s; echo $?",
    "mkdir -p s/supervise; svc; echo $?; svc -u; echo $?; svc ./s; echo $?; svc -y ./s; echo $?; svc -u ./s; echo $?; "
    ": > s/supervise/ok; svc -u ./s; echo $?; " + STATUS + "svc -u ./s ./nope s; echo $?; "
    ": > s/supervise/control; svc -uhd ./s /work/s; echo $?; cat s/supervise/control; echo; "
    "printf short > s/supervise/status; svc -x ./s; echo $?; SVDIR=/work svc -t s; echo $?",
    "mkdir -p s/supervise; : > s/supervise/ok; : > s/supervise/control; " + STATUS + "svc -h ./s; echo $?; "
    "cat s/supervise/control; echo; printf '0123456789abcdefghdj' > s/supervise/status; svc -d ./s; cat s/supervise/control; "
    "echo; printf '0123456789abcdefgd\\001j' > s/supervise/status; svc -pd ./s; cat s/supervise/control; echo; "
    "SVWAIT=x svc -u ./s; echo $?; chmod 0 s/supervise/control; su -s /bin/sh nobody -c 'svc -u /work/s'; echo $?",
]


@pytest.mark.parametrize("script", RUNIT_CASES)
def test_runit_cases(same, script):
    same(script)


# dmesg and klogd: only what does not reach the kernel log here -- the oracle
# runs as root with every capability, and its log is the host's (the kernel's
# part is compared in whole containers: tests/diff/test_kernel_log_agree.py).
KLOG_CASES = [
    "dmesg -x; echo $?; dmesg -n x; echo $?; dmesg -s -1; echo $?; dmesg -s 99999999999; echo $?; "
    "dmesg -s 3000000000; echo $?; dmesg -n 4294967296; echo $?; dmesg -s; echo $?",
    "klogd -c 9; echo $?; klogd -c 0; echo $?; klogd -c x; echo $?; klogd -y; echo $?; klogd -c; echo $?",
]


@pytest.mark.parametrize("script", KLOG_CASES)
def test_klog_option_cases(same, script):
    same(script)
