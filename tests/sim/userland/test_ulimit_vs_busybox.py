"""``ulimit`` and the limits under it: the simulator against the real thing.

One side is the host's busybox sh, started with CAP_SYS_RESOURCE out of its
bounding set (as in a Docker container: raising a hard limit is refused);
the other the simulator's sh in a container whose limits were set, with
``set_rlimits`` (the ``--ulimit`` step), to the ones the real shell starts
with.  Hypothesis writes the ulimit commands -- print or set, soft, hard or
both, in busybox's units, bad numbers and options -- and stdout, stderr and
the status must be the same.  Limits that would stop the real shell itself
(address space, data, stack, cpu time) are left out.
"""

from __future__ import annotations

import resource
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stepbox.backends.linux.libc import RLIMIT_NUMBERS
from stepbox.core.kernel import RLIMIT_NAMES, Rlimit

BUSYBOX = shutil.which("busybox") or "busybox"
SETPRIV = shutil.which("setpriv") or "setpriv"
pytestmark = pytest.mark.skipif(
    not shutil.which("busybox") or not shutil.which("setpriv"),
    reason="needs busybox and setpriv (util-linux) on the host",
)

SAFE_LETTERS = "cefilnqrux"  # not -d -m -s -t -v: those could stop the shell itself


def host_limits() -> tuple[Rlimit, ...]:
    return tuple(Rlimit(name, *resource.getrlimit(RLIMIT_NUMBERS[name])) for name in RLIMIT_NAMES)


def real_sh(script: str) -> tuple[str, str, int]:
    done = subprocess.run(
        [
            SETPRIV,
            "--bounding-set",
            "-sys_resource",
            "--inh-caps",
            "-sys_resource",
            BUSYBOX,
            "sh",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout, done.stderr, done.returncode


def sim_sh(box, script: str) -> tuple[str, str, int]:
    result = box.sh(script, rlimits=host_limits())
    return result.stdout, result.stderr, result.status


COMMANDS = st.one_of(
    st.just("ulimit -a"),
    st.just("ulimit -Ha"),
    st.just("ulimit"),
    st.builds(
        lambda which, letters, value: " ".join(
            part
            for part in (
                "ulimit",
                which,
                "".join(f"-{c}" for c in letters[:1]),
                *[f"-{c}" for c in letters[1:]],
                value,
            )
            if part
        ),
        st.sampled_from(["", "-H", "-S"]),
        st.lists(st.sampled_from(SAFE_LETTERS), min_size=1, max_size=2),
        st.sampled_from(["", "", "0", "3", "64", "1000", "unlimited", "12x", "99999999"]),
    ),
    st.just("ulimit -z"),
)


def test_a_known_session(box):
    script = "ulimit -n; ulimit -Hn; ulimit -Sn 100; ulimit -n; ulimit -Hn; ulimit -n 50; ulimit -Hn; " \
        "ulimit -n -c; ulimit -a; ulimit -n foo; echo $?; ulimit -Hn 60; echo $?; ulimit -z; echo $?"  # fmt: skip
    assert sim_sh(box, script) == real_sh(script)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(COMMANDS, min_size=1, max_size=5))
def test_generated_ulimit_commands(box, commands):
    script = "; ".join(f"{command}; echo status $?" for command in commands)
    assert sim_sh(box, script) == real_sh(script)


def test_open_files_stop_at_nofile(box):
    """The one limit the simulator enforces: EMFILE past the soft nofile limit."""
    script = "ulimit -n 4; exec 3</dev/null; echo three; exec 4</dev/null; echo four"
    sim, real = sim_sh(box, script), real_sh(script)
    assert sim[0] == real[0] == "three\n"
    assert sim[2] == real[2] != 0
