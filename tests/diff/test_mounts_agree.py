"""Volumes, bind mounts, tmpfs and --read-only: the simulator against the real
kernel, in-process, the same container config and script on both.

A bind source is a real directory on both backends (the simulator shows
the real files); each backend gets its own, so the paths are named alike
before comparing.  What the mount table shows of a bind is the host
filesystem that holds the source, on both.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from stepbox.core.confinement.policy import ConfinementFlags
from stepbox.core.container.config import ContainerConfig

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]


@pytest.fixture
def hosts():
    """One host directory per backend, as bind sources."""
    dirs = [tempfile.mkdtemp(prefix="sbx-mounts-sim-"), tempfile.mkdtemp(prefix="sbx-mounts-linux-")]
    try:
        yield dirs
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def run(runtime, host: str, script: str, **config) -> dict:
    for key in ("binds", "mounts"):
        if key in config:
            config[key] = tuple(
                b.replace("HOST", host)
                if isinstance(b, str)
                else {k: str(v).replace("HOST", host) if k == "Source" else v for k, v in b.items()}
                for b in config[key]
            )
    record = runtime.run(ContainerConfig(image="busybox", cmd=("sh", "-c", script), hostname="box", **config))
    out, err = runtime.logs(record)
    result = {
        "exit": record.exit_code,
        "stdout": out.decode(errors="replace").replace(host, "HOST"),
        "stderr": err.decode(errors="replace").replace(host, "HOST"),
        "diff": runtime.diff(record),
    }
    runtime.remove(record, force=True, volumes=True)
    return result


def agree(runtimes, hosts, script: str, **config) -> dict:
    sim, real = (
        run(runtime, host, script, **dict(config)) for runtime, host in zip(runtimes, hosts, strict=True)
    )
    assert sim == real, f"script:\n{script}\nsim:  {sim}\nreal: {real}"
    return real


# Only the mount point, type and the ro/rw word: the rest of the options are
# the host filesystem's (ext4's on the disk, the tmpfs of /dev/shm ...).
MOUNTS_OF = "grep -E ' (/d|/d/sub|/t|/etc/host[a-z]*|/etc/resolv.conf) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1 | sort"


def test_binds_read_write_and_read_only(runtimes, hosts):
    for host in hosts:
        os.makedirs(os.path.join(host, "src"))
        with open(os.path.join(host, "src", "seed"), "w") as f:
            f.write("seed\n")
    result = agree(
        runtimes,
        hosts,
        "cat /d/seed; echo new > /d/new; ls -n /d | cut -c1-10; " + MOUNTS_OF,
        binds=("HOST/src:/d",),
    )
    assert result["diff"] == [("A", "/d")] and "/d rw" in result["stdout"]
    for host in hosts:
        with open(os.path.join(host, "src", "new")) as f:
            assert f.read() == "new\n"
    result = agree(runtimes, hosts, "echo x > /d/y; " + MOUNTS_OF, binds=("HOST/src:/d:ro",))
    assert result["stderr"] == "sh: can't create /d/y: Read-only file system\n"
    agree(runtimes, hosts, "ls /d", mounts=({"Type": "bind", "Source": "HOST/src/seed", "Target": "/d"},))


@pytest.mark.parametrize("recursive", [True, False], ids=["api-1.44-rro", "api-1.41-ro"])
def test_read_only_all_the_way_down_or_only_on_top(runtimes, hosts, recursive):
    """A tmpfs the host mounted inside the bind source: a ``:ro`` bind makes
    it read-only too with API 1.44 (mount_setattr), not with dockerd
    20.10's API -- on both kernels."""
    for runtime, host in zip(runtimes, hosts, strict=True):
        os.makedirs(os.path.join(host, "src", "sub"))
        runtime.kernel.host_mounts.mount("tmpfs", os.path.join(host, "src", "sub"), "tmpfs", "size=1m")
    try:
        result = agree(
            runtimes,
            hosts,
            "echo a > /d/sub/x && echo wrote; " + MOUNTS_OF,
            binds=("HOST/src:/d:ro",),
            recursive_readonly=recursive,
        )
    finally:
        for runtime, host in zip(runtimes, hosts, strict=True):
            runtime.kernel.host_mounts.unmount(os.path.join(host, "src", "sub"))
    if recursive and runtimes[1].kernel.host_mounts.recursive_readonly:
        assert "/d/sub ro" in result["stdout"] and "Read-only file system" in result["stderr"]
    else:
        assert "/d/sub rw" in result["stdout"] and "wrote" in result["stdout"]


def test_volumes_named_and_anonymous(runtimes, hosts):
    for runtime in runtimes:
        runtime.volumes.create("shared")
    agree(
        runtimes,
        hosts,
        "echo f > /v/f; echo a > /a/a; " + "ls -ln /v /a | cut -c1-10",
        binds=("shared:/v",),
        volumes=("/a",),
    )
    result = agree(runtimes, hosts, "cat /v/f", binds=("shared:/v",))
    assert result["stdout"] == "f\n"
    for runtime in runtimes:
        assert [v.name for v in runtime.volumes.list()] == [
            "shared"
        ]  # the anonymous one went with the container
        runtime.remove_volume("shared")


def test_tmpfs(runtimes, hosts):
    show = "grep ' /t ' /proc/mounts | cut -d' ' -f1-3; grep ' /t ' /proc/mounts | cut -d' ' -f4 | tr , '\\n' | grep -v inode64; stat -c %a /t"
    agree(runtimes, hosts, show, tmpfs={"/t": "size=1m,mode=700"})
    agree(runtimes, hosts, show + "; touch /t/x", tmpfs={"/t": "ro"})
    agree(
        runtimes,
        hosts,
        show,
        mounts=({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 4096}},),
    )
    result = agree(
        runtimes,
        hosts,
        "grep -c ' /dev/shm ' /proc/mounts; stat -c %a /dev/shm",
        tmpfs={"/dev/shm": "mode=700"},
    )
    assert result["stdout"] == "1\n700\n"  # the user's /dev/shm replaces Docker's


def test_read_only_root(runtimes, hosts):
    script = (
        "touch /x; touch /tmp/x; touch /dev/x /dev/shm/x /v/x && echo writable; "
        "echo h >> /etc/hosts; " + MOUNTS_OF + "; grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1"
    )
    result = agree(runtimes, hosts, script, readonly_rootfs=True, volumes=("/v",))
    assert result["stdout"].endswith("writable\n/etc/hostname ro\n/etc/hosts ro\n/etc/resolv.conf ro\nro\n")
    assert result["stderr"].count("Read-only file system") == 3


def test_read_only_paths_that_are_mount_points(runtimes, hosts):
    """ReadonlyPaths naming a mount point: runc binds it on itself (with
    what is mounted below, copied *before* the bind lands) and remounts the
    top read-only -- /dev with its pts, mqueue and shm; a masked /proc/acpi."""
    dev = "grep -E ' /(dev|proc/acpi)[ /]' /proc/mounts | cut -d' ' -f1,2,3,4 | cut -d, -f1; "
    result = agree(
        runtimes,
        hosts,
        dev + "touch /dev/x; echo $?; touch /dev/shm/x; echo $?",
        security=ConfinementFlags(readonly_paths=("/dev", "/proc/acpi")),
    )
    assert (
        result["stdout"].count("tmpfs /dev tmpfs ro") == 1 and result["stdout"].count("devpts /dev/pts") == 2
    )


def test_etc_files_are_the_containers_own(runtimes, hosts):
    result = agree(
        runtimes,
        hosts,
        "cat /etc/hostname; echo 10.0.0.1 extra >> /etc/hosts; tail -1 /etc/hosts; " + MOUNTS_OF,
    )
    assert result["stdout"].startswith("box\n10.0.0.1 extra\n") and result["diff"] == []


def test_propagation_the_host_mount_does_not_allow(runtimes, hosts):
    where, propagation = runtimes[1].kernel.host_mounts.propagation(hosts[1])
    for runtime, host in zip(runtimes, hosts, strict=True):
        config = ContainerConfig(image="busybox", cmd=("true",), binds=(f"{host}:/d:rshared",))
        record = runtime.create(config)
        try:
            if runtime.kernel.name == "linux" and propagation == "shared":
                runtime.start(record)  # this host's mount is shared: allowed
                continue
            with pytest.raises(Exception, match="is mounted on .* but it is not a shared mount"):
                runtime.start(record)
            assert runtime.get(record.id).state == "created"
        finally:
            runtime.remove(runtime.get(record.id), force=True)


def test_a_running_container_sees_its_etc_files_change(runtimes):
    """Networking rewrites /etc/hosts of a running container (network
    connect, --add-host): the file is changed in place, so the bind mount
    -- which shows one inode -- shows the new contents."""
    from stepbox.core.container.etc_files import HOSTS, write_etc_file

    for runtime in runtimes:
        script = "while ! grep -q extra /etc/hosts; do sleep 0.05; done; tail -1 /etc/hosts"
        record = runtime.create(ContainerConfig(image="busybox", cmd=("sh", "-c", script)))
        try:
            runtime.start(record)
            write_etc_file(record, "hosts", HOSTS + "10.0.0.9\textra\n")
            assert runtime.wait(record) == 0
            assert runtime.logs(record)[0] == b"10.0.0.9\textra\n", runtime.kernel.name
        finally:
            runtime.remove(runtime.get(record.id), force=True)
