"""``commit`` of a container that changed no file adds no layer -- as dockerd's.

moby's commit (daemon/images/image_commit.go) registers the container's
diff and appends it to ``rootfs.diff_ids`` only if it is not the empty tar
(``layer.IsEmpty``); the history entry says ``empty_layer: true``.  Compared
here on both backends, from the same busybox: the committed image's config
as each engine stores it (Docker's read from ``docker save``), and Docker's
own reading of stepbox's image once loaded (``docker history``'s sizes).

The builder's side of it (``RUN true`` makes no layer in Docker's classic
builder either) is the corpus's ``run`` Dockerfile in
tests/dockerfile/test_vs_docker.py, which compares the layer counts.
"""

from __future__ import annotations

import io
import json
import tarfile

from .interop import INTEROP, contents, docker_commit, stepbox_commit, stepbox_to_docker

pytestmark = INTEROP


def docker_image_config(dockerd, ref: str) -> dict:
    """The image config as dockerd stores it (``docker save``'s config blob)."""
    with tarfile.open(fileobj=io.BytesIO(dockerd.docker("save", ref).stdout)) as archive:
        [entry] = json.loads(contents(archive, "manifest.json"))
        return json.loads(contents(archive, entry["Config"]))


def test_a_commit_that_changed_nothing_adds_no_layer(runtime, dockerd, busybox_in_docker):
    theirs, ours = "unchanged-by-docker:1", f"unchanged-by-stepbox-{runtime.kernel.name}:1"
    try:
        docker_commit(dockerd, "busybox", "true", theirs)
        docker = docker_image_config(dockerd, theirs)
        stepbox_commit(runtime, "busybox", "true", ours)
        stepbox = runtime.images.resolve(ours).config
        busybox = runtime.images.resolve("busybox").config
        assert docker["rootfs"] == stepbox["rootfs"] == busybox["rootfs"]
        top = [
            (h["created_by"], h.get("empty_layer")) for h in (docker["history"][-1], stepbox["history"][-1])
        ]
        assert top == [("sh -c true", True)] * 2
        assert len(docker["history"]) == len(stepbox["history"]) == len(busybox["history"]) + 1

        stepbox_to_docker(runtime, dockerd, ours)  # Docker reads stepbox's image as its own
        sizes = [
            dockerd.docker("history", "--format", "{{.Size}}", ref).stdout.decode().split()
            for ref in (theirs, ours)
        ]
        assert sizes[0] == sizes[1] and sizes[0][0] == "0B"
    finally:
        dockerd.docker("rmi", "-f", theirs, ours, check=False)
        runtime.remove_image(ours, force=True)


def test_a_commit_that_changed_a_file_adds_one_layer(runtime):
    """The other side of the same decision: a change is a layer of its own."""
    ref = f"changed-by-stepbox-{runtime.kernel.name}:1"
    try:
        stepbox_commit(runtime, "busybox", "touch /made", ref)
        image, busybox = runtime.images.resolve(ref), runtime.images.resolve("busybox")
        assert (
            list(image.diff_ids[:-1]) == list(busybox.diff_ids)
            and len(image.diff_ids) == len(busybox.diff_ids) + 1
        )
        assert "empty_layer" not in image.config["history"][-1]
    finally:
        runtime.remove_image(ref, force=True)
