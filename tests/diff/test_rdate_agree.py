"""rdate setting the clock, in whole containers: the simulator against the real
kernel.  Docker's capability set has no CAP_SYS_TIME, so settimeofday fails
(the container's clock is the host's and stays as it is); ``-s`` alone
prints nothing.  The time server is ``nc -l`` on the container's own
loopback (network "none": no traffic leaves the container)."""

from __future__ import annotations

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

SCRIPT = """
serve() { printf '\\350\\000\\000\\000' | nc -l -p 3737 & sleep 1; }
serve; rdate 127.0.0.1:3737; echo "-> $?"; wait
serve; rdate -s 127.0.0.1:3737; echo "-> $?"; wait
serve; rdate -ps 127.0.0.1:3737; echo "-> $?"; wait
"""


def test_rdate_may_not_set_the_clock_in_containers(runtimes):  # noqa: F811
    real = agree(runtimes, SCRIPT, network="none")
    assert "rdate: settimeofday: Operation not permitted" in real["stderr"], real
