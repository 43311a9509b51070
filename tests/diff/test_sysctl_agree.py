"""sysctl in whole containers: the simulator against the real kernel.

busybox's sysctl reads and writes /proc/sys; a container sees its own UTS
namespace there and a read-only /proc/sys.  The keys compared are those
the simulated kernel models with the same value as the real one (pid_max,
osrelease and version are the simulator's own: SIMPLIFICATIONS.md)."""

from __future__ import annotations

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

SCRIPT = """
sysctl kernel.hostname kernel.domainname kernel.ostype; echo "-> $?"
sysctl -n kernel/hostname; sysctl kernel.nosuch; echo "-> $?"
sysctl -w kernel.hostname=other; echo "-> $?"; hostname
sysctl kernel.domainname=x kernel.nosuch=1 nosuch.key=2; echo "-> $?"
sysctl -e -q kernel.nosuch=1; echo "-> $?"
printf 'kernel.hostname = a\\nkernel.nosuch = b\\nbad\\n' > /tmp/c; sysctl -p /tmp/c; echo "-> $?"
sysctl -n kernel.pid_max | grep -c '^[0-9][0-9]*$'
"""


def test_sysctl_in_containers(runtimes):  # noqa: F811
    agree(runtimes, SCRIPT)
