"""``docker save`` -> ``stepbox load`` -> ``stepbox run``, on both backends.

Docker makes the images: the two-layer image of :mod:`.scripts` by ``docker
run`` + ``docker commit``, and one by the classic builder (``docker build``
with DOCKER_BUILDKIT=0: RUN, COPY --chown, ENV, WORKDIR, CMD).  stepbox loads
``docker save``'s archive and must show what Docker shows: the same output
of the same script, the same filesystem, the deletions still deleted, the
same image IDs.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from stepbox.core.container.config import ContainerConfig

from .interop import (
    INTEROP,
    describe_differences,
    docker_commit,
    docker_run,
    docker_to_stepbox,
    layer_members,
    listing,
    stepbox_export,
    stepbox_run,
)
from .scripts import CHECK, DELETED, LAYER_1, LAYER_2

pytestmark = INTEROP

COMMITTED = "made-by-docker:2"
BUILT = "built-by-docker:1"

DOCKERFILE = """FROM busybox
ENV GREETING=hello
RUN mkdir -p /app/conf && echo built > /app/built && rm /bin/vi && rm -r /var/spool
COPY --chown=1:2 files/ /app/files/
COPY secret /app/secret
WORKDIR /app
RUN chmod 600 /app/secret && ln -s files/a /app/link && rm -r /app/conf && mkdir /app/conf
CMD ["sh", "-c", "pwd; echo $GREETING; stat -c '%n %F %a %u %g %s' /app/files /app/files/a /app/files/sub/b /app/secret /app/link /app/conf; cat /app/files/a /app/built; ls /var; [ -e /bin/vi ] || echo vi absent"]
"""


def _build_context() -> str:
    root = tempfile.mkdtemp(prefix="stepbox-interop-ctx-")
    os.makedirs(os.path.join(root, "files", "sub"))
    for name, text, mode in (
        ("files/a", "A\n", 0o644),
        ("files/sub/b", "B\n", 0o755),
        ("secret", "S\n", 0o644),
    ):
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(root, name), mode)
    with open(os.path.join(root, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    return root


@pytest.fixture(scope="module")
def made_by_docker(dockerd, busybox_in_docker):
    """Docker's images and its ``docker save`` archive of them."""
    context = _build_context()
    try:
        docker_commit(dockerd, "busybox", LAYER_1, "made-by-docker:1", "-m", "layer one")
        docker_commit(
            dockerd, "made-by-docker:1", LAYER_2, COMMITTED, "-c", "ENV LAYER=two", "-c", "WORKDIR /data"
        )
        built = dockerd.build(context, BUILT)
        assert built.returncode == 0, built.stdout.decode() + built.stderr.decode()
        yield dockerd.docker("save", COMMITTED, BUILT).stdout
    finally:
        shutil.rmtree(context, ignore_errors=True)
        dockerd.docker("rmi", "-f", COMMITTED, "made-by-docker:1", BUILT, check=False)


@pytest.fixture(scope="module")
def loaded(runtime, dockerd, made_by_docker):
    lines = docker_to_stepbox(dockerd, runtime, COMMITTED, BUILT)
    assert sorted(lines) == sorted([f"Loaded image: {COMMITTED}", f"Loaded image: {BUILT}"])
    return runtime


def _docker_id(dockerd, ref: str) -> str:
    return json.loads(dockerd.docker("image", "inspect", ref).stdout)[0]["Id"]


def test_image_ids_and_layers_are_dockers(loaded, dockerd):
    for ref in (COMMITTED, BUILT):
        image = loaded.images.resolve(ref)
        info = json.loads(dockerd.docker("image", "inspect", ref).stdout)[0]
        assert image.id == info["Id"]
        assert list(image.diff_ids) == info["RootFS"]["Layers"]


def test_committed_image_runs_as_in_docker(loaded, dockerd):
    docker = docker_run(dockerd, COMMITTED, CHECK)
    assert docker[0] == 0, docker
    assert stepbox_run(loaded, COMMITTED, CHECK) == docker


def test_committed_image_has_dockers_filesystem(loaded, dockerd):
    docker, ours = listing(dockerd.export(COMMITTED)), listing(stepbox_export(loaded, COMMITTED))
    assert docker == ours, describe_differences(docker, ours)


def test_dockers_deletions_stay_deleted(loaded, dockerd, made_by_docker):
    # Docker's own layer tar has the whiteouts stepbox must honour.
    top = layer_members(made_by_docker, COMMITTED)
    for marker in ("data/.wh.gone", "bin/.wh.cp", "data/olddir/.wh..wh..opq", "var/spool/.wh..wh..opq"):
        assert marker in top, f"{marker} not in docker's top layer: {sorted(top)}"
    status, out, err = stepbox_run(
        loaded, COMMITTED, " ".join(f"[ -e {p} ] && echo {p};" for p in DELETED) + "true"
    )
    assert (status, out) == (0, ""), f"deleted paths are back in stepbox ({loaded.kernel.name}): {out}{err}"


def test_built_image_runs_its_cmd_as_in_docker(loaded, dockerd):
    docker = dockerd.docker("run", "--rm", "--network", "none", BUILT, check=False)
    assert docker.returncode == 0, docker.stderr.decode()
    record = loaded.run(ContainerConfig(image=BUILT, network="none"))
    try:
        out, err = loaded.logs(record)
        assert (record.exit_code, out.decode(), err.decode()) == (
            0,
            docker.stdout.decode(),
            docker.stderr.decode(),
        )
    finally:
        loaded.remove(record, force=True)
    assert "/app\nhello\n" in out.decode() and "vi absent" in out.decode()


def test_built_image_has_dockers_filesystem(loaded, dockerd):
    docker, ours = listing(dockerd.export(BUILT)), listing(stepbox_export(loaded, BUILT))
    assert docker == ours, describe_differences(docker, ours)
