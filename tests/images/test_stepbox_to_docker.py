"""``stepbox save`` -> ``docker load`` -> ``docker run``: Docker sees the
image stepbox made exactly as stepbox does.

The image (see :mod:`.scripts`) is made on each backend by running scripts
in stepbox containers and committing them.  Compared:

* the whole filesystem -- paths, types, modes, owners, symlink targets,
  contents and which names share an inode -- as ``docker export`` and
  stepbox's ``export`` of a created container list it;
* what a script run inside sees (``stat``, ``cat``, ``readlink``, running a
  file), in ``docker run`` and in ``stepbox run``;
* deletions: in the saved layer tars as ``.wh.`` whiteouts and opaque
  markers, and gone for Docker too;
* the image's config and history, as ``docker image inspect`` reads them.
"""

from __future__ import annotations

import json

import pytest

from .interop import (
    INTEROP,
    describe_differences,
    docker_run,
    layer_members,
    listing,
    stepbox_commit,
    stepbox_export,
    stepbox_run,
    stepbox_save,
)
from .scripts import CHECK, DELETED, LAYER_1, LAYER_2

pytestmark = INTEROP


@pytest.fixture(scope="module")
def made_by_stepbox(runtime, dockerd):
    """The two-layer image, committed by stepbox, saved and loaded into dockerd."""
    base = f"made-by-stepbox-{runtime.kernel.name}"
    stepbox_commit(runtime, "busybox", LAYER_1, f"{base}:1", message="layer one")
    stepbox_commit(runtime, f"{base}:1", LAYER_2, f"{base}:2", changes=["ENV LAYER=two", "WORKDIR /data"])
    ref = f"{base}:2"
    archive = stepbox_save(runtime, ref)
    dockerd.load(archive)
    try:
        yield ref, archive
    finally:
        dockerd.docker("rmi", "-f", ref, check=False)


def test_docker_has_the_same_filesystem(made_by_stepbox, runtime, dockerd):
    ref, _ = made_by_stepbox
    ours, docker = listing(stepbox_export(runtime, ref)), listing(dockerd.export(ref))
    assert "data/olddir/newer/f" in docker and "data/gone" not in docker  # the test sees the layers
    assert docker == ours, (
        f"docker export vs stepbox export ({runtime.kernel.name}) of {ref}:\n"
        + describe_differences(docker, ours)
    )


def test_docker_run_sees_what_stepbox_run_sees(made_by_stepbox, runtime, dockerd):
    ref, _ = made_by_stepbox
    docker, ours = docker_run(dockerd, ref, CHECK), stepbox_run(runtime, ref, CHECK)
    assert docker[0] == 0, docker
    assert ours == docker


def test_deletions_travel_as_whiteouts(made_by_stepbox, dockerd):
    ref, archive = made_by_stepbox
    top = layer_members(archive, ref)
    # A deleted file is a .wh. file; a directory deleted and made again is
    # opaque (one marker hides everything below it, however much that was).
    for marker in ("data/.wh.gone", "bin/.wh.cp", "data/olddir/.wh..wh..opq", "var/spool/.wh..wh..opq"):
        assert marker in top, f"{marker} not in the top layer: {sorted(top)}"
    assert not any(name.startswith("data/olddir/deep") for name in top)
    status, out, _ = docker_run(dockerd, ref, " ".join(f"[ -e {p} ] && echo {p};" for p in DELETED) + "true")
    assert (status, out) == (0, ""), f"deleted paths are back in docker: {out}"


def test_docker_reads_the_config_and_history(made_by_stepbox, runtime, dockerd):
    ref, _ = made_by_stepbox
    info = json.loads(dockerd.docker("image", "inspect", ref).stdout)[0]
    image = runtime.images.resolve(ref)
    assert info["Id"] == image.id  # the config travelled byte for byte
    assert info["RootFS"]["Layers"] == list(image.diff_ids)
    assert "LAYER=two" in info["Config"]["Env"] and info["Config"]["WorkingDir"] == "/data"
    rows = dockerd.docker("history", "--no-trunc", "--format", "{{json .}}", ref).stdout.decode().splitlines()
    assert [(json.loads(row)["CreatedBy"], json.loads(row)["Comment"]) for row in rows] == [
        (entry.get("created_by", ""), entry.get("comment", "")) for entry in reversed(image.config["history"])
    ]
    assert docker_run(dockerd, ref, "pwd; echo $LAYER")[1] == "/data\ntwo\n"
