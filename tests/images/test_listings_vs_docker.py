"""``stepbox images``, ``history`` and ``inspect`` read like docker's.

The same commands go to both CLIs -- ``docker`` on the private dockerd and
``stepbox`` (the real command, with its own state directory and so its own
daemon) -- starting from the same busybox: a classic build of a small
Dockerfile, a commit on top of it, a second tag.  Then the tables are
compared cell by cell, except what legitimately differs: image IDs (the
images were made at other moments, so their configs differ) and how long
ago they were made.  Where an ID is shown and where ``<missing>`` is, sizes,
names, the intermediate images ``-a`` adds and the fields of ``inspect``
must agree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile

import pytest

from tests.cli.conftest import Stepbox, leftovers
from tests.support.dockerd import load_stepbox_busybox, private_dockerd

from .interop import INTEROP

pytestmark = INTEROP

DOCKERFILE = """FROM busybox
ENV GREETING=hello
RUN echo built > /built && mkdir /app && echo 'a line long enough to be cut by docker history' > /app/long
COPY payload /app/
WORKDIR /app
CMD ["sh", "-c", "echo $GREETING"]
"""

# The same commands for both CLIs (after the build, which each runs itself).
COMMANDS = [
    ("run", "--name", "c1", "--network", "none", "app:1", "sh", "-c", "echo changed > /app/payload"),
    ("commit", "-m", "a message", "c1", "app:2"),
    ("tag", "app:1", "app:other"),
]


@pytest.fixture(scope="module")
def dockerd():
    """This module's own dockerd: it compares whole listings, so no other
    module's images (xdist runs modules side by side on one worker) may show."""
    with private_dockerd() as daemon:
        yield daemon


@pytest.fixture(scope="module")
def busybox_in_docker(dockerd) -> str:
    return load_stepbox_busybox(dockerd)


@pytest.fixture(scope="module", params=["sim", "linux"])
def stepbox_cli(request, dockerd):
    root = tempfile.mkdtemp(prefix=f"stepbox-listings-{request.param}-")
    box = Stepbox(request.param, root)
    try:
        pulled = box("pull", "busybox")
        assert pulled.code == 0, pulled.err
        yield box
    finally:
        try:
            box.cleanup()
        finally:
            # A daemon that did not stop is ended by its pid (it names our root).
            for pid in leftovers(root, [])["processes"]:
                os.kill(int(pid), signal.SIGKILL)
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def both(stepbox_cli, dockerd, busybox_in_docker):
    """Run the story in both CLIs; a function that runs a command in each."""
    context = tempfile.mkdtemp(prefix="stepbox-listings-ctx-")
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    with open(os.path.join(context, "payload"), "w") as f:
        f.write("x" * 300)

    def docker(*args: str) -> str:
        return dockerd.docker(*args).stdout.decode()

    def stepbox(*args: str) -> str:
        result = stepbox_cli(*args)
        assert result.code == 0, f"stepbox {' '.join(args)}: {result.err}"
        return result.out

    try:
        for run in (docker, stepbox):
            run("build", "-t", "app:1", context)
            for command in COMMANDS:
                run(*command)
        yield lambda *args: (docker(*args), stepbox(*args))
    finally:
        shutil.rmtree(context, ignore_errors=True)
        dockerd.docker("rm", "-f", "c1", check=False)
        dockerd.docker("rmi", "-f", "app:1", "app:2", "app:other", check=False)


def cells(table: str) -> list[dict[str, str]]:
    """A docker table as rows of {column: cell}, columns cut where the header's
    names start (cells may hold single spaces: "2 years ago")."""
    header, *lines = table.rstrip("\n").split("\n")
    names = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(name) for name in names]
    ends = starts[1:] + [None]
    return [
        {name: line[start:end].strip() for name, start, end in zip(names, starts, ends, strict=True)}
        for line in lines
    ]


def without(rows: list[dict], *columns: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in columns} for row in rows]


def test_the_tables_have_dockers_columns(both):
    # The same names, and the same layout up to CREATED (whose width
    # depends on how long ago "Less than a second" was).
    for args in (("images",), ("history", "app:2")):
        docker, ours = (text.split("\n")[0] for text in both(*args))
        assert re.split(r"\s{2,}", ours) == re.split(r"\s{2,}", docker), args
        assert ours.split("CREATED")[0] == docker.split("CREATED")[0], args


def test_images_lists_what_docker_lists(both):
    docker, ours = both("images")
    key = lambda row: (row["REPOSITORY"], row["TAG"])  # noqa: E731  (same-second rows: any order)
    expected, actual = sorted(cells(docker), key=key), sorted(cells(ours), key=key)
    assert without(actual, "IMAGE ID", "CREATED") == without(expected, "IMAGE ID", "CREATED")
    assert {row["SIZE"] for row in actual} == {"1.98MB"}  # the files, not the tars
    assert not any(row["REPOSITORY"] == "<none>" for row in actual)  # the build's steps are hidden


def test_images_all_shows_the_steps_of_the_build(both):
    docker, ours = both("images", "-a")
    untagged = lambda rows: [r for r in rows if r["TAG"] == "<none>"]  # noqa: E731
    assert len(untagged(cells(ours))) == len(untagged(cells(docker))) == 4  # ENV, RUN, COPY, WORKDIR


def test_history_shows_local_steps_and_missing_ones(both):
    def normal(rows):
        # Docker and stepbox hash a COPY's files each their own way.
        return [
            {
                **row,
                "IMAGE": "<missing>" if row["IMAGE"] == "<missing>" else "an ID",
                "CREATED BY": re.sub(r"file:[0-9a-f]+…?", "file:<sum>", row["CREATED BY"]),
            }
            for row in without(rows, "CREATED")
        ]

    for image in ("app:2", "busybox"):
        docker, ours = both("history", image)
        assert normal(cells(ours)) == normal(cells(docker)), image
    docker, ours = both("history", "app:2")
    # The files' bytes: "changed\n", nothing (CMD, WORKDIR), the payload, /built and /app/long, ...
    assert [r["SIZE"] for r in cells(ours)] == ["8B", "0B", "0B", "300B", "53B", "0B", "1.98MB"]


def test_history_quiet_and_no_trunc(both):
    docker, ours = both("history", "-q", "app:2")
    assert len(ours.split()) == len(docker.split()) == 7
    assert all(re.fullmatch(r"[0-9a-f]{12}", line) for line in ours.split())
    docker, ours = both("history", "--no-trunc", "app:1")
    assert re.match(r"sha256:[0-9a-f]{64} ", ours.split("\n")[1])
    assert "> /app/long" in ours and "> /app/long" in docker


def test_inspect_names_the_parent_and_dockers_size(both):
    docker, ours = (json.loads(text)[0] for text in both("inspect", "app:2"))
    docker_app1, ours_app1 = (json.loads(text)[0] for text in both("inspect", "app:1"))
    assert (ours["Parent"], docker["Parent"]) == (ours_app1["Id"], docker_app1["Id"])
    for field in ("RepoTags", "Comment", "Size", "Architecture", "Os"):
        assert ours[field] == docker[field], field
    assert len(ours["RootFS"]["Layers"]) == len(docker["RootFS"]["Layers"])
    assert ours_app1["RepoTags"] == docker_app1["RepoTags"] == ["app:1", "app:other"]


def test_the_clis_save_and_load_each_others_images(both, stepbox_cli, dockerd):
    """The commands themselves (not only the archive functions): ``stepbox
    save -o`` read by ``docker load``, ``docker save -o`` by ``stepbox load``."""
    folder = tempfile.mkdtemp(prefix="stepbox-cli-archives-")
    try:
        ours, theirs = os.path.join(folder, "stepbox.tar"), os.path.join(folder, "docker.tar")
        assert stepbox_cli("tag", "app:2", "from-stepbox:1").code == 0
        assert stepbox_cli("save", "-o", ours, "from-stepbox:1").code == 0
        dockerd.docker("load", "-i", ours)
        dockerd.docker("tag", "app:2", "from-docker:1")
        dockerd.docker("save", "-o", theirs, "from-docker:1")
        loaded = stepbox_cli("load", "-i", theirs)
        assert loaded.out.strip() == "Loaded image: from-docker:1", loaded.err
        for name in ("from-stepbox:1", "from-docker:1"):
            docker_id, our_id = (json.loads(text)[0]["Id"] for text in both("inspect", name))
            assert docker_id == our_id, name
            ran = stepbox_cli("run", "--rm", "--network", "none", name, "cat", "/app/payload")
            assert (ran.code, ran.out) == (0, "changed\n"), ran.err
            assert (
                dockerd.docker("run", "--rm", "--network", "none", name, "cat", "/app/payload").stdout
                == b"changed\n"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        dockerd.docker("rmi", "-f", "from-stepbox:1", "from-docker:1", check=False)


def test_image_prune_says_what_dockerd_says(both):
    """A dangling image (an untagged commit with a layer of its own) pruned
    by each: the same lines, once the IDs and the sizes -- dockerd counts the
    files of the layers it released, stepbox the bytes of the blobs it
    deleted -- are set aside; neither says it reclaimed nothing."""
    both("run", "--name", "c2", "--network", "none", "app:1", "sh", "-c", "echo pruned > /pruned")
    both("commit", "c2")
    both("rm", "c2")
    docker, ours = both("image", "prune", "-f")

    def shape(text: str) -> str:
        text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:ID", text)
        return re.sub(r"Total reclaimed space: \S+", "Total reclaimed space: SIZE", text)

    assert (
        shape(ours)
        == shape(docker)
        == (
            "Deleted Images:\ndeleted: sha256:ID\ndeleted: sha256:ID\n\nTotal reclaimed space: SIZE\n"
        )  # the image, then the layer it alone stood on (its ChainID)
    )
    assert not ours.endswith(" 0B\n") and not docker.endswith(" 0B\n")
