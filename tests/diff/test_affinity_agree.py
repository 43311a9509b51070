"""CPU affinity in whole containers: the simulator against the real kernel.

sched_getaffinity/sched_setaffinity (busybox's taskset and nproc) and
Cpus_allowed in /proc/PID/status.  The simulated machine has the host's
online CPUs and starts its tasks with the host process's mask
(backends/sim/affinity.py), so both kernels answer with the same masks;
a mask with no online CPU is refused (EINVAL) by both, another user's task
needs CAP_SYS_NICE, which a container lacks.  Hypothesis writes the masks
and CPU lists, several per container."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

SCRIPT = """
taskset -p 1; taskset -pc 1; nproc; nproc --all; nproc --ignore=1
grep Cpus_allowed /proc/self/status
taskset 1 sh -c 'taskset -p $$; nproc; grep Cpus_allowed_list /proc/$$/status'; echo "-> $?"
taskset -p 1 $$; sh -c 'taskset -pc $$'; taskset -p 3 $$
taskset -c 0 sleep 100 & until read comm < /proc/$!/comm && [ $comm = sleep ]; do :; done
taskset -p $!; kill $!; wait
taskset -p 0; taskset -p 99; taskset -p x; taskset -ap 1 1; echo "-> $?"
su nobody -s /bin/sh -c 'taskset -p 1; taskset -p 1 1; echo "-> $?"; taskset -p 1 $$'
taskset 1 nosuch; echo "-> $?"; taskset -p; echo "-> $?"
"""


def test_affinity_in_containers(runtimes):  # noqa: F811
    result = agree(runtimes, SCRIPT)
    assert "can't set pid 1's affinity: Operation not permitted" in result["stderr"]


HEX = st.builds(
    lambda prefix, digits: prefix + digits,
    st.sampled_from(["", "0x", "0X"]),
    st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=18)
    | st.text(alphabet="0123fFxg-", max_size=4),
)
RANGE = st.one_of(
    st.integers(0, 70).map(str),
    st.tuples(st.integers(0, 70), st.integers(0, 70)).map(lambda r: f"{r[0]}-{r[1]}"),
    st.tuples(st.integers(0, 70), st.integers(0, 70), st.integers(0, 5)).map(
        lambda r: f"{r[0]}-{r[1]}:{r[2]}"
    ),
    st.sampled_from(["", "a", "1a", "-1", "1-", "0-1:"]),
)
CPULIST = st.lists(RANGE, min_size=1, max_size=3).map(",".join)


@settings(max_examples=4, deadline=None)
@given(
    masks=st.lists(
        st.one_of(HEX.map(lambda m: ("", m)), CPULIST.map(lambda m: ("-c", m))), min_size=6, max_size=6
    )
)
def test_generated_masks_in_containers(runtimes, masks):  # noqa: F811
    # Each line sets the shell's own mask (the last good one stays), prints
    # it, and starts a child under another mask: one container, six cases.
    lines = [
        f"taskset -p {flag} '{mask}' $$; echo \"-> $?\"; taskset {flag} '{mask}' nproc; taskset -pc $$"
        for flag, mask in masks
    ]
    agree(runtimes, "\n".join(lines))
