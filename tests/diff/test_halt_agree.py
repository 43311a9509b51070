"""halt, poweroff and reboot in whole containers: the simulator against the
real kernel.

Without -f they signal PID 1 (the container's init: only a trapped signal
reaches it) and succeed; with -f they call reboot(2), which a default
container may not (no CAP_SYS_BOOT: seccomp and the kernel say EPERM).
With CAP_SYS_BOOT, reboot(2) inside a PID namespace ends its init, dead of
SIGHUP (reboot) or SIGINT (halt, poweroff): the container's exit status
is 129 or 130.  (On Linux the init dies a moment after the call returns,
so nothing is printed after it: the simulator ends the namespace at once.)"""

from __future__ import annotations

import pytest
from stepbox.core.confinement.policy import ConfinementFlags

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

SCRIPT = """
halt -f; echo "-> $?"; reboot -n -f; echo "-> $?"; poweroff -f; echo "-> $?"
halt -w; echo "-> $?"; halt; echo "-> $?"; poweroff; echo "-> $?"; reboot; echo "-> $?"
halt -d x; echo "-> $?"; halt -x; echo "-> $?"; halt -d 1; echo "-> $?"
su nobody -s /bin/sh -c 'reboot; echo "-> $?"; reboot -f; echo "-> $?"'
trap 'echo TERM' TERM; trap 'echo USR1' USR1; trap 'echo USR2' USR2; halt; poweroff; reboot -i
mkdir -p /var/log; touch /var/log/wtmp; halt -w; reboot -nw; wc -c < /var/log/wtmp
"""


def test_halt_in_a_default_container(runtimes):  # noqa: F811
    result = agree(runtimes, SCRIPT)
    assert result["stdout"].count("-> 0") == 5 and "USR1\nUSR2\nTERM\n768\n" in result["stdout"]
    assert "reboot: (null): Operation not permitted" in result["stderr"]


@pytest.mark.parametrize(
    "script, status",
    [
        ("echo before; reboot -f; echo after", 129),
        ("sleep 100 & exec sh -c 'exec poweroff -f'", 130),
        ("exec halt -f", 130),
        ("reboot -f -d 1 -n", 129),
    ],
)
def test_reboot_with_cap_sys_boot_ends_the_container(runtimes, script, status):  # noqa: F811
    result = agree(runtimes, script, security=ConfinementFlags(cap_add=("SYS_BOOT",)))
    assert result["exit"] == status
