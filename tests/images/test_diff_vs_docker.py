"""``stepbox diff`` says what ``docker diff`` says, for the same commands run
in the same image (busybox), on both backends.

Docker is the oracle.  What it reports is its "naive diff": the container's
filesystem compared with the image's, so a file copied up unchanged (the
target of a new hardlink) is no change, a directory is changed only by its
mode or owner (or by holding a change), and a directory deleted and made
again lists what it lost (see ``core/container/changes.py``).  Docker's
order of the lines is its Go maps' order, which is random, so the lines are
compared sorted.

Hand-picked scripts cover each rule once; Hypothesis then generates short
programs of file commands over a few paths (each example starts three
containers, so it makes few of them).
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stepbox.core.container.config import ContainerConfig

from .interop import INTEROP

pytestmark = INTEROP

SCRIPTS = {
    "append to a file": "echo x >> /etc/passwd",
    "new file": "touch /etc/newfile",
    "touch, same size": "touch /etc/group",
    "overwrite in place, same size": "printf Z | dd of=/etc/group conv=notrunc 2>/dev/null",
    "delete a file": "rm /bin/vi",
    "chmod a directory": "chmod 700 /tmp",
    "chown a file": "chown 1:2 /etc/passwd",
    "mtime of a directory is no change": "touch /var/spool/mail",
    "deleted and made again, other contents": "rm -r /var/spool; mkdir -p /var/spool/other",
    "deleted and made again, empty": "rm -r /var/spool; mkdir -p /var/spool",
    "deleted and made again, the same": "rm -r /home; mkdir /home",
    "nested new directories": "mkdir -p /a/b/c",
    "new file deep in the image": "echo x > /var/spool/mail/f",
    "made and removed": "mkdir /tmp/d; rmdir /tmp/d; echo x > /tmp/f; rm /tmp/f",
    "rename": "mv /etc/group /etc/group2",
    "hardlink to an image file (copied up, unchanged)": "ln /bin/cat /tmp/cat; ln -s x /tmp/l",
    "directory replaced by a file": "rm -r /var/spool/mail; touch /var/spool/mail",
    "file replaced by a directory, directory by a file": "rm /etc/passwd; mkdir /etc/passwd; rm -r /usr; echo > /usr",
    "symlink replaces a file": "rm /bin/vi; ln -s busybox /bin/vi",
    "truncate": ": > /etc/group",
}


def docker_diff(dockerd, script: str) -> list[str]:
    name = "diff-" + uuid.uuid4().hex[:12]
    try:
        dockerd.docker("run", "--name", name, "--network", "none", "busybox", "sh", "-c", script, check=False)
        return sorted(line for line in dockerd.docker("diff", name).stdout.decode().splitlines() if line)
    finally:
        dockerd.docker("rm", "-f", name, check=False)


def stepbox_diff(runtime, script: str) -> list[str]:
    record = runtime.run(ContainerConfig(image="busybox", cmd=("sh", "-c", script), network="none"))
    try:
        return sorted(f"{kind} {path}" for kind, path in runtime.diff(record))
    finally:
        runtime.remove(record, force=True)


def assert_same_diff(dockerd, runtimes, script: str) -> None:
    expected = docker_diff(dockerd, script)
    for backend, runtime in runtimes.items():
        assert stepbox_diff(runtime, script) == expected, f"stepbox diff on {backend} after:\n{script}"


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_diff_agrees_with_docker(dockerd, busybox_in_docker, runtimes, script):
    assert_same_diff(dockerd, runtimes, script)


# -- generated programs ------------------------------------------------------------------

# New names under /tmp, and names the image has: files, a hardlink of the
# busybox binary, directories with and without contents.  (Not /bin/sh: the
# simulator's shell runs its applets through it.)
PATHS = [
    "/tmp/a",
    "/tmp/b",
    "/tmp/d",
    "/tmp/d/f",
    "/etc/group",
    "/etc/passwd",
    "/bin/vi",
    "/var/spool/mail",
    "/var/spool/mail/m",
    "/var/www",
    "/home",
]
path = st.sampled_from(PATHS)
COMMANDS = st.one_of(
    st.builds("echo {} > {}".format, st.sampled_from(["x", "hello"]), path),
    st.builds("echo {} >> {}".format, st.sampled_from(["x", "more"]), path),
    st.builds("mkdir -p {}".format, path),
    st.builds("rm -rf {}".format, path),
    st.builds("touch {}".format, path),
    # `true >`, not `: >`: a failed redirection of a special builtin ends the
    # shell (POSIX, busybox ash), which the simulator's shell does not model.
    st.builds("true > {}".format, path),
    st.builds("chmod {} {}".format, st.sampled_from(["600", "755", "4755", "1777"]), path),
    st.builds("chown {} {}".format, st.sampled_from(["1:2", "0:0"]), path),
    st.builds("ln -s {} {}".format, st.sampled_from(["x", "/etc", "../etc/group"]), path),
    st.builds("ln {} {}".format, path, path),
    st.builds("mv {} {}".format, path, path),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=st.lists(COMMANDS, min_size=1, max_size=6))
def test_generated_programs_diff_like_docker(dockerd, busybox_in_docker, runtimes, program):
    # Each command may fail (rm of a missing name ...); the program goes on.
    assert_same_diff(dockerd, runtimes, "; ".join(f"{command} 2>/dev/null" for command in program) + "; true")
