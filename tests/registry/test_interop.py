"""Acceptance: the stepbox registry and client against the real tools.

(a) stepbox push/pull against the CNCF registry; (b) skopeo copy to and from
the stepbox registry; (c) the docker engine pushes to and pulls from the
stepbox registry, and runs what it pulled.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile

import pytest
from stepbox.core.image.archive import load
from stepbox.core.registry.layer_metadata import compress_layer

from .helpers import digest_of, layer, make_image
from .interop import busybox_image, cncf_registry, docker_daemon, needs_linux_root, require, saved_archive

pytestmark = [needs_linux_root, pytest.mark.slow]

BASE = layer({"usr/lib/base.so": os.urandom(64 * 1024)})
TOP_V1 = layer({"app/version": b"1"})
TOP_V2 = layer({"app/version": b"2"})


# -- (a) the CNCF registry --------------------------------------------------------


def test_stepbox_push_pull_through_cncf_registry(new_store, client_for):
    with cncf_registry() as netloc:
        source, target = new_store(), new_store()
        name = f"{netloc}/interop/app:v1"
        image = make_image(source, name, [BASE, TOP_V1])
        first = client_for(source).push(name)
        assert len(first.uploaded) == 3  # two layers and the config
        pulled = client_for(target).pull(name)
        assert pulled.image.id == image.id and pulled.image.diff_ids == image.diff_ids
        assert target.get_blob(image.id) == source.get_blob(image.id)

        # Only the changed layer travels, both ways.
        changed = make_image(source, name, [BASE, TOP_V2])
        second = client_for(source).push(name)
        assert sorted(second.uploaded) == sorted([digest_of(compress_layer(TOP_V2)), changed.id])
        again = client_for(target).pull(name)
        assert again.image.id == changed.id
        assert again.downloaded == [digest_of(compress_layer(TOP_V2))]


def test_busybox_through_cncf_registry_then_stepbox_registry(new_store, client_for, registry):
    """An image that went CNCF -> stepbox client -> stepbox registry -> stepbox client is the same image."""
    with cncf_registry() as netloc:
        source = new_store()
        image = busybox_image(source, f"{netloc}/library/busybox:latest")
        client_for(source).push(f"{netloc}/library/busybox:latest")
        middle = new_store()
        client_for(middle).pull(f"{netloc}/library/busybox:latest")
        middle.tag(middle.resolve(f"{netloc}/library/busybox:latest"), f"{registry.netloc}/bb:1")
        client_for(middle).push(f"{registry.netloc}/bb:1")
        assert client_for(new_store()).pull(f"{registry.netloc}/bb:1").image.id == image.id


# -- (b) skopeo ---------------------------------------------------------------------


def skopeo(*args):
    result = subprocess.run([require("skopeo"), *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"skopeo {' '.join(args)}: {result.stderr}"
    return result.stdout


def test_skopeo_copies_into_the_stepbox_registry(registry, new_store, client_for, tmp_path):
    store = new_store()
    image = busybox_image(store, "busybox:latest")
    archive = saved_archive(store, image, ["busybox:latest"], str(tmp_path / "busybox.tar"))
    skopeo(
        "copy",
        "--dest-tls-verify=false",
        f"docker-archive:{archive}",
        f"docker://{registry.netloc}/skopeo/busybox:1",
    )
    skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "oci",
        f"docker-archive:{archive}",
        f"docker://{registry.netloc}/skopeo/busybox-oci:1",
    )
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{registry.netloc}/skopeo/busybox"))
    assert tags["Tags"] == ["1"]
    pulled = client_for(new_store()).pull(f"{registry.netloc}/skopeo/busybox:1")
    assert pulled.image.id == image.id  # the config came through byte for byte
    oci = client_for(new_store()).pull(f"{registry.netloc}/skopeo/busybox-oci:1")
    assert oci.image.diff_ids == image.diff_ids
    # skopeo mounted the layer from the first repository instead of sending it again.
    assert any("mount=" in r.path and r.status == 201 for r in registry.app.log)


def test_skopeo_copies_out_of_the_stepbox_registry(registry, new_store, client_for, tmp_path):
    store = new_store()
    name = f"{registry.netloc}/team/app:v1"
    image = make_image(store, name, [BASE, TOP_V1])
    client_for(store).push(name)
    layout = tmp_path / "layout"
    skopeo("copy", "--src-tls-verify=false", f"docker://{name}", f"oci:{layout}:v1")
    # Read skopeo's OCI layout back with stepbox load: same image.
    archive = tmp_path / "layout.tar"
    with tarfile.open(archive, "w") as tar:
        for entry in os.listdir(layout):
            tar.add(layout / entry, arcname=entry)
    fresh = new_store()
    with open(archive, "rb") as f:
        load(fresh, f)
    [loaded] = fresh.list()
    # Converting to OCI, skopeo re-serialises the config (so the ID changes);
    # the layers and the settings are the same.
    assert loaded.diff_ids == image.diff_ids
    assert loaded.config["config"] == image.config["config"]
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{name}"))
    assert inspected["Layers"] == [digest_of(compress_layer(BASE)), digest_of(compress_layer(TOP_V1))]


def test_skopeo_between_stepbox_and_cncf_registries(registry, new_store, client_for):
    with cncf_registry() as netloc:
        store = new_store()
        image = make_image(store, f"{registry.netloc}/x/app:1", [BASE, TOP_V2])
        client_for(store).push(f"{registry.netloc}/x/app:1")
        skopeo(
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{registry.netloc}/x/app:1",
            f"docker://{netloc}/y/app:1",
        )
        skopeo(
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{netloc}/y/app:1",
            f"docker://{registry.netloc}/z/app:1",
        )
        assert client_for(new_store()).pull(f"{registry.netloc}/z/app:1").image.id == image.id


# -- (c) the docker engine -------------------------------------------------------------


@pytest.fixture(scope="module")
def docker():
    """One daemon for this module's tests (skipped with them off Linux/root)."""
    with docker_daemon() as cli:
        yield cli


def test_docker_pushes_to_and_pulls_from_the_stepbox_registry(
    docker, registry, new_store, client_for, tmp_path
):
    store = new_store()
    image = busybox_image(store, "busybox:latest")
    archive = saved_archive(store, image, ["busybox:latest"], str(tmp_path / "busybox.tar"))
    docker("load", "-i", archive)
    name = f"{registry.netloc}/docker/busybox:1"
    docker("tag", "busybox:latest", name)
    docker("push", name)
    # docker streamed each blob as one chunked PATCH.
    assert any(r.method == "PATCH" and r.bytes_received > 0 for r in registry.app.log)
    docker("rmi", name, "busybox:latest")
    docker("pull", name)
    run = docker("run", "--rm", "--network", "none", name, "echo", "hello from the stepbox registry")
    assert run.stdout.decode().strip() == "hello from the stepbox registry"
    # What docker pushed, stepbox pulls: the same image ID.
    docker_id = docker("image", "inspect", "--format", "{{.Id}}", name).stdout.decode().strip()
    assert client_for(new_store()).pull(name).image.id == docker_id == image.id
    docker("rmi", name)


def test_docker_runs_an_image_stepbox_pushed(docker, registry, new_store, client_for):
    store = new_store()
    image = busybox_image(store, f"{registry.netloc}/stepbox/busybox:1")
    store.add_image(
        [image.layers[0], layer({"etc/motd": b"pushed by stepbox\n"})],
        {**image.config, "config": {**image.config["config"], "Cmd": ["cat", "/etc/motd"]}},
        tag=f"{registry.netloc}/stepbox/motd:1",
    )
    client_for(store).push(f"{registry.netloc}/stepbox/busybox:1")
    mark = len(registry.app.log)
    result = client_for(store).push(f"{registry.netloc}/stepbox/motd:1")
    assert result.mounted  # the busybox layer was mounted, not re-sent
    docker("pull", f"{registry.netloc}/stepbox/motd:1")
    run = docker("run", "--rm", "--network", "none", f"{registry.netloc}/stepbox/motd:1")
    assert run.stdout.decode() == "pushed by stepbox\n"
    # Only the small motd layer and the config were sent the second time.
    assert sum(r.bytes_received for r in registry.app.log[mark:] if r.method == "PATCH") < 10_000
    docker("rmi", f"{registry.netloc}/stepbox/motd:1")
