"""``--device`` into a directory the container's /dev does not have: the
simulator against the real kernel, the same container on both.

runc's createDeviceNode makes the node's missing directories first
(MkdirAll, 0755, umask 0), so ``docker run --device /dev/null:/dev/snd/x``
works: /dev/snd is made, root's, 0755.  Nested ones too (/dev/a/b/c), and a
second node in a directory the first one made.
"""

from __future__ import annotations

import pytest
from stepbox.core.confinement.devices import parse_device
from stepbox.core.confinement.policy import ConfinementFlags
from stepbox.core.container.config import ContainerConfig

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]


# ls -la without what differs between two runs or two tmpfs implementations
# (sizes, times): type and mode, links, owner, group, a device's numbers,
# name (and a symlink's target).
LISTED = (
    "ls -lan {dirs} | awk '/^total/ {{next}} "
    "/^[cb]/ {{print $1, $2, $3, $4, $5 $6, $NF; next}} "
    "/^l/ {{print $1, $2, $3, $4, $(NF-2), $(NF-1), $NF; next}} "
    "NF > 2 {{print $1, $2, $3, $4, $NF; next}} {{print}}'; "
    "stat -c '%n %F %t:%T %a %u:%g' {nodes}"
)


def run(runtime, script: str, devices: tuple[str, ...], tmpfs: dict[str, str] | None = None) -> dict:
    """The container as ``docker run [--tmpfs DEST] --device SPEC ...`` gives it (the CLI's parsing)."""
    flags = ConfinementFlags(devices=tuple(parse_device(spec) for spec in devices))
    config = ContainerConfig(image="busybox", cmd=("sh", "-c", script), security=flags, tmpfs=tmpfs or {})
    record = runtime.run(config)
    out, err = runtime.logs(record)
    result = {"exit": record.exit_code, "stdout": out.decode(), "stderr": err.decode()}
    runtime.remove(record, force=True)
    return result


def agree(runtimes, script: str, devices: tuple[str, ...], tmpfs: dict[str, str] | None = None) -> dict:
    sim, real = (run(runtime, script, devices, tmpfs) for runtime in runtimes)
    assert sim == real, f"devices: {devices}\nsim:  {sim}\nreal: {real}"
    return real


def test_a_device_whose_directory_is_missing(runtimes):
    script = LISTED.format(dirs="/dev /dev/snd", nodes="/dev/snd /dev/snd/x")
    result = agree(runtimes, script, ("/dev/null:/dev/snd/x",))
    assert result["exit"] == 0, result
    assert (
        "/dev/snd directory 0:0 755 0:0\n/dev/snd/x character special file 1:3 666 0:0\n" in result["stdout"]
    )


def test_nested_missing_directories(runtimes):
    script = LISTED.format(
        dirs="/dev /dev/a /dev/a/b", nodes="/dev/a /dev/a/b /dev/a/b/c /dev/a/z /dev/a/b/r"
    )
    result = agree(
        runtimes, script, ("/dev/null:/dev/a/b/c", "/dev/zero:/dev/a/z:r", "/dev/random:/dev/a/b/r")
    )
    assert result["exit"] == 0, result
    assert (
        "/dev/a/b directory 0:0 755 0:0\n/dev/a/b/c character special file 1:3 666 0:0\n" in result["stdout"]
    )


def test_a_device_below_a_users_mount_lands_in_it(runtimes):
    # runc makes the device nodes after every mount: the node goes in the
    # user's tmpfs at /dev/snd, not in /dev's tmpfs under it (hidden).
    script = "awk '$2 == \"/dev/snd\" {print $2, $3}' /proc/mounts; " + LISTED.format(
        dirs="/dev/snd", nodes="/dev/snd/x"
    )
    result = agree(runtimes, script, ("/dev/null:/dev/snd/x",), tmpfs={"/dev/snd": ""})
    assert result["exit"] == 0, result
    assert result["stdout"].startswith("/dev/snd tmpfs\n"), result
    assert "/dev/snd/x character special file 1:3 666 0:0\n" in result["stdout"], result
