"""busybox init in whole containers: the simulator against the real kernel.

Not PID 1, init refuses; ``init -q`` signals PID 1 (a shell that ignores
SIGHUP).  As PID 1 (the shell execs it) it reads the inittab the script
wrote: a comment, bad entries, sysinit and wait entries run in order and
waited for, a command with shell characters run by ``sh -c "exec ..."``
(so only its first command runs), a tty that does not exist, a command that
does not, a duplicate entry that moves to the end, then the once entries.
The last once entry sends PID 1 SIGTERM, SIGUSR2 or SIGUSR1 as
``docker stop``, ``poweroff`` or ``halt`` would: the shutdown entries run,
everyone else (a background sleep) is killed, reboot(2) is refused in a
default container, and init exits 0."""

from __future__ import annotations

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

INITTAB = r"""# a comment
::sysinit:echo sysinit 1
::sysinit:/bin/echo sysinit 2 $HOME
x::bogus:echo never
::wait
::wait:echo waited; echo not run
tty9::wait:echo no tty
::wait:/nonexistent arg
::wait:sh -c 'echo "wait $PATH $TERM $RUNLEVEL"; pwd'
::sysinit:echo sysinit 2 $HOME
::once:sleep 100
::shutdown:echo shutdown 1
::shutdown:sh -c 'echo shutdown 2 >&2'
::restart:/sbin/init
::once:sh -c 'echo once; kill -SIG 1'
"""

SCRIPT = """init; echo "-> $?"
trap '' HUP; init -q; echo "-> $?"
cd /tmp; printf '%s' "$INITTAB" | sed "s/-SIG/-$SIG/" > /etc/inittab; exec init
"""


@pytest.mark.parametrize("sig, what", [("TERM", "reboot"), ("USR2", "poweroff"), ("USR1", "halt")])
def test_init_in_a_container(runtimes, sig, what):  # noqa: F811
    result = agree(runtimes, SCRIPT, env={"INITTAB": INITTAB, "SIG": sig})
    assert result["exit"] == 0
    assert result["stderr"].endswith(
        "\rThe system is going down NOW!\n\rSent SIGTERM to all processes\n"
        f"\rSent SIGKILL to all processes\n\rRequesting system {what}\n"
    )
