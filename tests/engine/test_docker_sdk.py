"""The ``docker`` Python SDK drives the stepbox daemon through the same API."""

from __future__ import annotations

import io
import tarfile

import docker as docker_sdk
import pytest

LONG = ["sleep", "1000"]


@pytest.fixture
def sdk(daemon):
    client = docker_sdk.DockerClient(base_url=daemon.host, version="auto", timeout=120)
    try:
        yield client
    finally:
        client.close()


def test_ping_version_info(sdk):
    assert sdk.ping() is True
    assert sdk.version()["ApiVersion"] == "1.44"
    assert "Containers" in sdk.info()


def test_containers_run_returns_the_output(sdk):
    assert sdk.containers.run("busybox", ["echo", "hi"], remove=True) == b"hi\n"


def test_containers_run_raises_on_a_failing_command(sdk):
    with pytest.raises(docker_sdk.errors.ContainerError) as info:
        sdk.containers.run("busybox", ["sh", "-c", "echo oops >&2; exit 3"], remove=True, stderr=True)
    assert info.value.exit_status == 3


def test_detached_container_logs_exec_and_lifecycle(sdk):
    container = sdk.containers.run("busybox", LONG, detach=True, name="sdk-svc")
    try:
        assert sdk.containers.get("sdk-svc").status == "running"
        result = container.exec_run(["sh", "-c", "echo from-exec; exit 2"])
        assert (result.exit_code, result.output) == (2, b"from-exec\n")
        out = container.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True).output
        assert out == (b"o\n", b"e\n")
        container.pause()
        container.reload()
        assert container.status == "paused"
        container.unpause()
        assert [p[-1] for p in container.top()["Processes"]] == ["sleep 1000"]
        container.kill()
        container.reload()
        assert container.attrs["State"]["ExitCode"] == 137
    finally:
        container.remove(force=True)
    assert "sdk-svc" not in [c.name for c in sdk.containers.list(all=True)]


def test_logs_and_wait(sdk):
    container = sdk.containers.run("busybox", ["sh", "-c", "echo a; echo b >&2"], detach=True)
    assert container.wait()["StatusCode"] == 0
    assert container.logs(stdout=True, stderr=False) == b"a\n"
    assert container.logs(stdout=False, stderr=True) == b"b\n"
    streamed = b"".join(container.logs(stream=True, follow=True))  # exited: follow ends at once
    assert sorted(streamed.splitlines()) == [b"a", b"b"]
    container.remove()


def test_images_list_get_tag_history_remove(sdk):
    busybox = sdk.images.get("busybox")
    assert "busybox:latest" in busybox.tags
    assert busybox.tag("sdk/tagged", "v1")
    assert "sdk/tagged:v1" in sdk.images.get("sdk/tagged:v1").tags
    assert any("sdk/tagged:v1" in image.tags for image in sdk.images.list())
    assert sdk.images.get("sdk/tagged:v1").history()[0]["Id"] == busybox.id
    sdk.images.remove("sdk/tagged:v1")
    with pytest.raises(docker_sdk.errors.ImageNotFound):
        sdk.images.get("sdk/tagged:v1")


def test_commit_diff_export(sdk):
    container = sdk.containers.run("busybox", ["sh", "-c", "echo x > /made"], detach=True)
    container.wait()
    assert {"Path": "/made", "Kind": 1} in container.diff()
    image = container.commit("sdk/committed", "1", message="made a file")
    assert sdk.containers.run(image.id, ["cat", "/made"], remove=True) == b"x\n"
    data = b"".join(container.export())
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert any(name.lstrip("./") == "made" for name in archive.getnames())
    container.remove()
    sdk.images.remove("sdk/committed:1")


def test_save_and_load(sdk):
    data = b"".join(sdk.images.get("busybox").save())
    loaded = sdk.images.load(data)
    assert any("busybox:latest" in image.tags for image in loaded)


def test_errors_are_typed(sdk):
    with pytest.raises(docker_sdk.errors.NotFound):
        sdk.containers.get("nope-not-here")
    sdk.containers.create("busybox", name="sdk-dup")
    try:
        with pytest.raises(docker_sdk.errors.APIError) as info:
            sdk.containers.create("busybox", name="sdk-dup")
        assert info.value.status_code == 409
    finally:
        sdk.containers.get("sdk-dup").remove()


def test_images_build_and_pull(sdk, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN echo from-sdk > /made\nCMD [\"cat\", \"/made\"]\n"
    )
    image, log = sdk.images.build(path=str(tmp_path), tag="sdk/built:1", rm=True)
    assert any("Successfully built" in entry.get("stream", "") for entry in log)
    assert sdk.containers.run("sdk/built:1", remove=True) == b"from-sdk\n"
    sdk.images.remove("sdk/built:1")
    assert "busybox:latest" in sdk.images.pull("busybox", tag="latest").tags
