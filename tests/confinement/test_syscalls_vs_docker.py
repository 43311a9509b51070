"""Every system call number, answered as in a dockerd container.

``syscall_probe.c`` (built static here with gcc) calls each syscall number
of x86_64 with arguments no call can use and reports how it went -- errno,
success, or the signal that ended it.  Run in a default container of
dockerd (its seccomp profile compiled by runc) and of stepbox (Docker's
default profile as stepbox's own data, compiled by libseccomp through our
binding), and with capabilities that switch the profile's conditional rules
on, the two reports must agree -- except where runc deliberately differs
from libseccomp's plain output (see ``KNOWN``).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
from stepbox.core.container.config import ContainerConfig
from stepbox.core.image.archive import save
from stepbox.core.image.commit import commit_layer
from stepbox.core.kernel.unionfs import EntryKind, LayerEntry

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .compare import config_for, docker_args

pytestmark = [
    pytest.mark.linux,
    pytest.mark.slow,
    pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON),
    pytest.mark.skipif(os.uname().machine != "x86_64", reason="the probe's range is x86_64's syscall table"),
]

PROBE_SOURCE = os.path.join(os.path.dirname(__file__), "syscall_probe.c")
IMAGE = "stepbox-syscall-probe:1"
LAST = 462  # beyond the newest syscall of a 6.x kernel


@pytest.fixture(scope="module")
def probe_image(dockerd, busybox_in_docker, linux, tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.fail(
            "gcc is needed to build the syscall probe (apt-get install gcc libc6-dev; see scripts/install.sh)"
        )
    binary = tmp_path_factory.mktemp("probe") / "probe"
    subprocess.run(
        ["gcc", "-static", "-O1", "-o", str(binary), PROBE_SOURCE], check=True, capture_output=True
    )
    parent = linux.images.resolve("busybox")
    image = commit_layer(
        linux.images,
        parent,
        [LayerEntry("probe", EntryKind.FILE, mode=0o755, data=binary.read_bytes())],
        container_config={},
        created_by="COPY probe /probe",
        ref=IMAGE,
    )
    buf = io.BytesIO()
    save(linux.images, [(image, [IMAGE])], buf)
    dockerd.load(buf.getvalue())
    try:
        yield IMAGE
    finally:
        # The dockerd is the session's, shared with the image listing tests:
        # it must hold only what they expect once this module is done.
        dockerd.docker("rmi", "-f", IMAGE, check=False)
        linux.remove_image(IMAGE, force=True)


def report(text: str) -> dict[int, str]:
    lines = (line.split(" ", 1) for line in text.splitlines() if line.strip())
    return {int(nr): outcome for nr, outcome in lines}


def in_docker(dockerd, flags: dict) -> dict[int, str]:
    result = dockerd.docker("run", "--rm", *docker_args(flags), IMAGE, "/probe", "0", str(LAST), check=False)
    assert result.returncode == 0, result.stderr.decode()
    return report(result.stdout.decode())


def in_stepbox(runtime, flags: dict) -> dict[int, str]:
    base = config_for(flags, ["/probe", "0", str(LAST)])
    config = ContainerConfig(**{**base.__dict__, "image": IMAGE})
    record = runtime.run(config)
    try:
        out, err = runtime.logs(record)
        assert record.exit_code == 0, err.decode()
        return report(out.decode())
    finally:
        runtime.remove(record, force=True)


def known_differences(theirs: dict[int, str], ours: dict[int, str]) -> dict[int, tuple[str, str]]:
    """runc 1.1 patches libseccomp's program so that a syscall *newer than
    every syscall the profile names* answers ENOSYS instead of the default
    action ("patchbpf": a newer program's fallback then works).  stepbox
    loads libseccomp's program as it is (no hand-assembled BPF), so those
    numbers answer EPERM here.  Only such numbers may differ."""
    return {
        nr: (theirs[nr], ours[nr])
        for nr in theirs
        if theirs[nr] != ours.get(nr) and not (theirs[nr] == "errno 38" and ours.get(nr) == "errno 1")
    }


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"cap_add": ["SYS_ADMIN", "SYS_PTRACE", "SYS_TIME", "SYS_NICE"]},
        {"security_opt": ["no-new-privileges"]},
    ],
    ids=["default", "cap-add SYS_ADMIN,SYS_PTRACE,SYS_TIME,SYS_NICE", "no-new-privileges"],
)
def test_every_syscall_is_answered_as_in_docker(probe_image, dockerd, linux, flags):
    theirs = in_docker(dockerd, flags)
    ours = in_stepbox(linux, flags)
    assert sorted(ours) == sorted(theirs) == list(range(LAST + 1))
    assert known_differences(theirs, ours) == {}
    # The profile did refuse things (or the test would prove nothing) ...
    assert sum(outcome == "errno 1" for outcome in ours.values()) > 40
    # ... and the ENOSYS-for-unknown difference is confined to numbers past
    # every syscall the profile allows (450 and up on Linux 6.x: the profile
    # of 20.10 ends with futex_waitv, 449).
    differing = [nr for nr in theirs if theirs[nr] != ours[nr]]
    newest_allowed = max(nr for nr in theirs if theirs[nr] == ours[nr] and ours[nr] != "errno 1")
    assert all(nr > newest_allowed for nr in differing), differing
