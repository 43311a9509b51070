"""The kernel log in whole containers: the simulator against the real kernel.

The log is the machine's, not the container's: a Docker container may not
read it -- the seccomp profile refuses syslog(2) without CAP_SYSLOG, so
busybox's dmesg says "klogctl: Operation not permitted" and klogd, whose
errors go to syslog, exits 1 without a word.  With --cap-add SYSLOG the
container reads the host's log: its lines differ between the kernels, so
what is compared is their form ("[seconds.micros] text", "<N>" with -r)
and the errors of bad levels.  Nothing here changes the host's log (no -c,
no valid -n level, no klogd reading it)."""

from __future__ import annotations

import pytest
from stepbox.core.confinement.policy import ConfinementFlags

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

WITHOUT_SYSLOG = """
dmesg; echo "-> $?"; dmesg -c; echo "-> $?"; dmesg -r -s 10; echo "-> $?"
dmesg -n 3; echo "-> $?"; dmesg -n 9; echo "-> $?"
klogd -n; echo "-> $?"; klogd -n -c 3; echo "-> $?"; klogd; echo "-> $?"
"""

WITH_SYSLOG = r"""
dmesg | head -n 1 | grep -c '^\[ *[0-9]*\.[0-9]\{6\}\] .'
dmesg -r | head -n 1 | grep -c '^<[0-9]*>\[ *[0-9]*\.[0-9]\{6\}\] .'
dmesg -s 1 -r | tail -n 1 | grep -c '^<[0-9]*>\['
dmesg -n 0; echo "-> $?"; dmesg -n 9; echo "-> $?"
"""


def test_the_log_is_closed_to_a_container(runtimes):  # noqa: F811
    result = agree(runtimes, WITHOUT_SYSLOG)
    assert result["stderr"].count("dmesg: klogctl: Operation not permitted") == 5


def test_cap_syslog_opens_the_log(runtimes):  # noqa: F811
    result = agree(runtimes, WITH_SYSLOG, security=ConfinementFlags(cap_add=("SYSLOG",)))
    assert result["stdout"] == "1\n1\n1\n-> 1\n-> 1\n"
