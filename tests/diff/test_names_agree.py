"""dnsdomainname (and hostname -d -f -s) in whole containers: the simulator against the real
kernel.  It takes the container's own hostname (its UTS namespace, which the
host oracle of tests/sim/userland does not have) and asks gethostbyname for
its canonical name: /etc/hosts first, then the nameservers.  The script
writes both files itself; the only nameserver it names is the container's
own loopback, where nobody answers (no traffic leaves the container, whose
network is "none")."""

from __future__ import annotations

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

SCRIPT = """
echo 'nameserver 127.0.0.1' > /etc/resolv.conf
printf '127.0.0.1 localhost\\n10.1.2.3 box.example.org box\\n' > /etc/hosts; dnsdomainname; echo "-> $?"
printf '10.1.2.3 Other.Sub.Domain.test box.example.org\\n' > /etc/hosts; dnsdomainname; echo "-> $?"
printf '10.1.2.3 plain box.example.org\\n' > /etc/hosts; dnsdomainname; echo "-> $?"
: > /etc/hosts; dnsdomainname; echo "-> $?"
dnsdomainname -x; echo "-> $?"; dnsdomainname -F; echo "-> $?"
hostname short; printf '10.1.2.3 short.lan short\\n' > /etc/hosts; dnsdomainname -s ignored; echo "-> $?"
ipcalc -h 10.1.2.3
printf '10.1.2.3 Box.Example.org box.example.org\\n' > /etc/hosts
hostname -d; hostname -f; hostname -s; hostname -fs; hostname -is; hostname -di; echo "-> $?"
: > /etc/hosts; hostname -d; echo "-> $?"; hostname -f; echo "-> $?"
"""


def test_dnsdomainname_in_containers(runtimes):  # noqa: F811
    agree(runtimes, SCRIPT, hostname="box.example.org", network="none")
