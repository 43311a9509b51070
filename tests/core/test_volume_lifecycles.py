"""Hypothesis over sequences of create / write / cp / rm with volumes, on the
simulator and (fewer examples, as root) on the real kernel: nothing written to a volume is lost while the volume lives, and
nothing outlives what owns it -- no anonymous volume after ``rm -v`` or
``run --rm``, no volume nobody asked for, no mount left behind."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.container_files import opened
from stepbox.core.container.copying import archive_path, extract_to
from stepbox.core.volumes.errors import VolumeInUse

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.core.engines import runtime_on

NAMES = st.sampled_from(["alpha", "beta", "gamma"])
FILES = st.sampled_from(["f1", "f2", "sub/f3"])
DATA = st.binary(min_size=0, max_size=64)


def _tar(path: str, data: bytes) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(path)
        info.size, info.mode = len(data), 0o640
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


class VolumeLifecycles(RuleBasedStateMachine):
    containers = Bundle("containers")
    backend = "sim"

    def __init__(self):
        super().__init__()
        self.runtime, self._cleanup = runtime_on(self.backend)
        self.named: dict[str, dict[str, bytes]] = {}  # volume -> file -> content (the model)
        self.kept: dict[str, tuple[str, str]] = {}  # container id -> (volume name, "named"|"anonymous")

    def teardown(self):
        self._cleanup()

    def _volume_files(self, name: str) -> dict[str, bytes]:
        files = self.runtime.volumes.files(self.runtime.volumes.get(name))
        found = {}
        stack = ["/"]
        while stack:
            directory = stack.pop()
            for entry in files.listdir(directory):
                path = directory.rstrip("/") + "/" + entry
                if files.lstat(path).kind.value == "dir":
                    stack.append(path)
                else:
                    found[path.lstrip("/")] = files.read(path)
        return found

    @rule(name=NAMES)
    def create_volume(self, name):
        self.runtime.volumes.create(name)
        self.named.setdefault(name, {})

    @rule(name=NAMES, path=FILES, data=DATA, remove=st.booleans())
    def write_from_a_container(self, name, path, data, remove):
        script = f"mkdir -p $(dirname /d/{path}); printf '%s' \"$1\" > /d/{path}"
        config = ContainerConfig(
            image="busybox",
            cmd=("sh", "-c", script, "sh", data.hex()),
            binds=(f"{name}:/d",),
            auto_remove=remove,
        )
        record = self.runtime.run(config)
        assert record.exit_code == 0, self.runtime.logs(record)
        self.named.setdefault(name, {})[path] = data.hex().encode()
        if not remove:
            self.kept[record.id] = (name, "named")

    @rule(target=containers, remove=st.booleans())
    def anonymous_volume(self, remove):
        record = self.runtime.run(
            ContainerConfig(
                image="busybox", cmd=("sh", "-c", "echo x > /a/x"), volumes=("/a",), auto_remove=remove
            )
        )
        if remove:
            return None
        anon = next(m["name"] for m in record.mounts if m["anonymous"])
        self.kept[record.id] = (anon, "anonymous")
        return record.id

    @rule(name=NAMES, path=FILES, data=DATA)
    def copy_into_a_stopped_container(self, name, path, data):
        record = self.runtime.create(ContainerConfig(image="busybox", cmd=("true",), binds=(f"{name}:/d",)))
        self.named.setdefault(name, {})
        with opened(self.runtime.kernel, self.runtime.volumes, record) as files:
            extract_to(files, "/d", record.id, _tar(path, data))
            out = io.BytesIO()
            archive_path(files, f"/d/{path}", record.id, out)
        out.seek(0)
        with tarfile.open(fileobj=out) as tar:
            member = tar.next()
            assert tar.extractfile(member).read() == data and member.mode == 0o640
        self.named[name][path] = data
        self.kept[record.id] = (name, "named")

    @rule(cid=consumes(containers), with_volumes=st.booleans())
    def remove_a_container(self, cid, with_volumes):
        if cid is None or cid not in self.kept:
            return
        self.runtime.remove(self.runtime.get(cid), volumes=with_volumes)
        volume, kind = self.kept.pop(cid)
        if kind == "anonymous" and not with_volumes:
            self.named[volume] = {"x": b"x\n"}  # left behind: now a dangling volume like any other

    @rule()
    def remove_every_container(self):
        for cid in list(self.kept):
            self.runtime.remove(self.runtime.get(cid), volumes=True)
            self.kept.pop(cid)

    @rule(name=NAMES)
    def remove_volume(self, name):
        users = self.runtime.volume_users(name)
        if not self.runtime.volumes.exists(name):
            return
        if users:
            with pytest.raises(VolumeInUse):
                self.runtime.remove_volume(name)
        else:
            self.runtime.remove_volume(name)
            self.named.pop(name, None)

    @invariant()
    def nothing_lost(self):
        for name, files in self.named.items():
            assert self.runtime.volumes.exists(name), f"volume {name} disappeared"
            on_disk = self._volume_files(name)
            for path, data in files.items():
                if path == "x":
                    assert on_disk.get("x") == data
                else:
                    assert on_disk.get(path) == data, (name, path)

    @invariant()
    def nothing_leaked(self):
        expected = set(self.named) | {volume for volume, _kind in self.kept.values()}
        assert {v.name for v in self.runtime.volumes.list()} == expected
        assert self.runtime.kernel.unionfs.mounted() == []
        host_mounts = self.runtime.kernel.host_mounts
        if self.backend == "sim":
            assert host_mounts.table == {}
        else:  # the real mount table: nothing mounted under the volumes' directory
            volumes_dir = self.runtime.volumes.root
            with open("/proc/self/mounts") as f:
                targets = [line.split()[1] for line in f]
            assert [t for t in targets if t.startswith(volumes_dir + "/")] == []


TestVolumeLifecycles = VolumeLifecycles.TestCase
TestVolumeLifecycles.settings = settings(max_examples=25, stateful_step_count=12, deadline=None)


class VolumeLifecyclesOnLinux(VolumeLifecycles):
    backend = "linux"


# Each real container costs ~0.1 s: a few short sequences (~1 minute).
TestVolumeLifecyclesOnLinux = pytest.mark.linux(
    pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)(VolumeLifecyclesOnLinux.TestCase)
)
TestVolumeLifecyclesOnLinux.settings = settings(max_examples=6, stateful_step_count=8, deadline=None)
