"""``PUT /containers/{id}/archive`` (docker cp into a container) at the
edges, on the simulator: what counts as an archive and what is refused."""

from __future__ import annotations

import io
import tarfile

import pytest
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.container_files import opened
from stepbox.core.container.copying import extract_to
from stepbox.core.container.errors import BadRequest

from tests.core.engines import runtime_on


@pytest.fixture
def stopped():
    runtime, cleanup = runtime_on("sim")
    try:
        yield runtime, runtime.create(ContainerConfig(image="busybox", cmd=("true",)))
    finally:
        cleanup()


def _tar(name: str, data: bytes) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def test_an_empty_body_is_an_empty_archive(stopped):
    # Go's tar reader ends at once on an empty stream: dockerd answers 200.
    runtime, record = stopped
    with opened(runtime.kernel, runtime.volumes, record) as files:
        before = sorted(files.listdir("/tmp"))
        extract_to(files, "/tmp", record.id, io.BytesIO(b""))
        assert sorted(files.listdir("/tmp")) == before


def test_a_small_archive_arrives_whole(stopped):
    runtime, record = stopped
    with opened(runtime.kernel, runtime.volumes, record) as files:
        extract_to(files, "/tmp", record.id, _tar("f", b"x" * 3000))
        assert files.read("/tmp/f") == b"x" * 3000


@pytest.mark.parametrize("body", [b"garbage", _tar("../../escape", b"x").getvalue()])
def test_a_non_tar_or_a_name_outside_is_refused(stopped, body):
    runtime, record = stopped
    with opened(runtime.kernel, runtime.volumes, record) as files:
        with pytest.raises(BadRequest):
            extract_to(files, "/tmp", record.id, io.BytesIO(body))
