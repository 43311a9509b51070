"""setpriv in whole containers: the simulator against the real kernel.

busybox's setpriv reads and changes what the simulated process model keeps
per task: uid/gid and groups, no_new_privs, the inheritable, ambient and
bounding capability sets (capget, capset, prctl).  A default container's
root has Docker's 14 capabilities, bounding set included: an inheritable
capability outside them is refused (capset: EPERM), an ambient one must be
permitted and inheritable, and the sets survive execve (and su, which keeps
the inheritable ones only).  Hypothesis writes the capability lists."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.core.confinement.policy import ConfinementFlags

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

SCRIPT = """
setpriv -d; setpriv --nnp setpriv --dump; grep NoNewPrivs /proc/self/status
setpriv --inh-caps +net_raw,-chown,+cap_5 --ambient-caps +net_raw,+kill,+chown,-sys_admin setpriv -d
setpriv --inh-caps=+kill --ambient-caps=+kill grep -E 'Cap(Inh|Prm|Amb)' /proc/self/status
setpriv --inh-caps +net_raw --ambient-caps +net_raw su nobody -s /bin/sh -c 'grep Cap /proc/self/status'
setpriv --inh-caps +sys_admin true; echo "-> $?"; setpriv --inh-caps net_raw true; echo "-> $?"
setpriv --inh-caps +nosuch true; setpriv --inh-caps +cap_41 true; setpriv --inh-caps +CAP_5 true
setpriv --inh-caps +NET_RAW,,+cap_-1 true; echo "-> $?"; setpriv --inh-caps +cap_38 true; echo "-> $?"
setpriv -d x; echo "-> $?"; setpriv -d --nnp; echo "-> $?"; setpriv --nnp; echo "-> $?"
setpriv; echo "-> $?"; setpriv --bogus; echo "-> $?"; setpriv nosuch; echo "-> $?"
"""


def test_setpriv_in_a_default_container(runtimes):  # noqa: F811
    result = agree(runtimes, SCRIPT)
    assert "Ambient capabilities: kill,net_raw\n" in result["stdout"]
    assert "setpriv: capset: Operation not permitted" in result["stderr"]


def test_setpriv_with_more_capabilities(runtimes):  # noqa: F811
    script = "setpriv -d; setpriv --inh-caps +sys_admin,+sys_boot --ambient-caps +sys_boot setpriv -d"
    agree(runtimes, script, security=ConfinementFlags(cap_add=("SYS_ADMIN",), cap_drop=("KILL",)))


CAP = st.sampled_from(
    [
        "chown",
        "kill",
        "net_raw",
        "NET_RAW",
        "sys_admin",
        "setpcap",
        "mknod",
        "cap_13",
        "cap_40",
        "cap_7x",
        "nosuch",
    ]
)
LIST = st.lists(st.tuples(st.sampled_from(["+", "-", ""]), CAP).map("".join), max_size=3).map(",".join)


@settings(max_examples=4, deadline=None)
@given(cases=st.lists(st.tuples(LIST, LIST), min_size=4, max_size=4))
def test_generated_capability_lists(runtimes, cases):  # noqa: F811
    lines = [
        f"setpriv --inh-caps '{inh}' --ambient-caps '{amb}' grep -E 'Cap(Inh|Amb)' /proc/self/status; echo \"-> $?\""
        for inh, amb in cases
    ]
    agree(runtimes, "\n".join(lines))
