"""unshare and nsenter in whole containers: the simulator against the real kernel.

A default container may neither unshare nor setns: Docker's seccomp
profile refuses both (EPERM) before the kernel looks, so busybox's unshare
and nsenter fail with their own words.  With CAP_SYS_ADMIN the kernel
makes and joins mount, UTS, IPC, network and PID namespaces; what each
shows (hostname, interfaces, PIDs, mounts, /proc after --mount-proc) is
compared.  (User namespaces from inside are not modelled: SIMPLIFICATIONS.md.)"""

from __future__ import annotations

import pytest
from stepbox.core.confinement.policy import ConfinementFlags

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

REFUSED = """
unshare true; echo "-> $?"; unshare -m true; echo "-> $?"; unshare -Ur true; echo "-> $?"
unshare -p -f true; echo "-> $?"; unshare -n -u -i true; echo "-> $?"
nsenter -t 1 -m true; echo "-> $?"; nsenter -t 1 -n -- true; echo "-> $?"; nsenter -t 1 -U true; echo "-> $?"
nsenter -a -t 1 true; echo "-> $?"; nsenter true; echo "-> $?"; nsenter -t 99 -u true; echo "-> $?"
nsenter -u true; echo "-> $?"; unshare -m --propagation bad true; echo "-> $?"
unshare --setgroups x true; echo "-> $?"; unshare -r --setgroups allow true; echo "-> $?"; unshare -x; echo "-> $?"
"""


def test_refused_in_a_default_container(runtimes):  # noqa: F811
    result = agree(runtimes, REFUSED)
    assert "unshare: unshare(0x20000): Operation not permitted" in result["stderr"]
    assert (
        "nsenter: setns(): can't reassociate to namespace 'mnt': Operation not permitted" in result["stderr"]
    )


WITH_SYS_ADMIN = """
unshare -u sh -c 'hostname in; hostname; nsenter -t 1 -u hostname'; hostname
[ "$(readlink /proc/self/ns/uts)" = "$(unshare -u readlink /proc/self/ns/uts)" ]; echo "-> $?"
unshare -i true; echo "-> $?"; unshare -n ip link; unshare -n cat /proc/net/dev
unshare -n --fork sh -c 'ip link set lo up; ping -c1 -W1 127.0.0.1 | head -1'
mkdir /mnt; unshare -m sh -c 'mount -t tmpfs t /mnt; grep -c " /mnt tmpfs " /proc/mounts'; grep -c /mnt /proc/mounts
unshare -m --propagation shared true; echo "-> $?"; unshare -m --propagation unchanged true; echo "-> $?"
unshare -p true; echo "-> $?"; unshare -p sh -c 'unshare -p true'; echo "-> $?"
unshare -p -f sh -c 'echo $$; ps -o pid,comm'; echo "-> $?"
unshare -p -f --mount-proc sh -c 'echo $$; ps -o pid,comm'; echo "-> $?"
unshare -p -f sh -c 'kill -9 $$'; echo "-> $?"; unshare -f sh -c 'exit 3'; echo "-> $?"
nsenter -t 1 -m -u -i -n -p true; echo "-> $?"; nsenter -t 1 -U true; echo "-> $?"
nsenter -u/proc/1/ns/uts hostname; nsenter --uts=/proc/1/ns/net true; echo "-> $?"
cd /tmp; nsenter -t 1 -m pwd; nsenter -t 1 -G 5 id; nsenter -t 1 -S 5 id; nsenter -t 1 -r -w ls -d /etc
"""


def test_namespaces_with_cap_sys_admin(runtimes):  # noqa: F811
    result = agree(runtimes, WITH_SYS_ADMIN, security=ConfinementFlags(cap_add=("SYS_ADMIN",)))
    assert result["stdout"].startswith("in\nbox\nbox\n")
    assert "PID   COMMAND\n    1 ps\n" in result["stdout"]
