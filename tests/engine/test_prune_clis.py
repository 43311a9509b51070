"""``stepbox builder prune`` and ``stepbox image prune`` say what docker 28's
commands say: the same daemon (a stepbox daemon on the simulator) answers
both CLIs, so their prompts, outputs and exit statuses are compared
line by line -- and what the daemon reclaimed is counted (not 0)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile

import pytest

from .conftest import DOCKER, needs_docker_cli
from .daemon_process import TestDaemon

pytestmark = needs_docker_cli
STEPBOX = os.path.join(os.path.dirname(sys.executable), "stepbox")


@pytest.fixture(scope="module")
def daemon():
    d = TestDaemon("sim")
    try:
        d.start()
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield d
    finally:
        d.cleanup()


def _cli(daemon, tool: str, *args: str, answer: bytes = b"") -> tuple[int, str, str]:
    env = {**os.environ, "DOCKER_HOST": daemon.host, "DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"}
    env.pop("DOCKER_CONTEXT", None)
    assert DOCKER is not None  # (needs_docker_cli)
    argv = [DOCKER, *args] if tool == "docker" else [STEPBOX, "-H", daemon.host, *args]
    done = subprocess.run(argv, env=env, input=answer, capture_output=True, timeout=120)
    # docker's warning that DOCKER_BUILDKIT=0 is deprecated is docker's own
    err = done.stderr.decode().split("environment-variable.\n\n")[-1]
    return done.returncode, done.stdout.decode(), err


def _build(daemon, dockerfile: str) -> None:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile.encode()))
    context.seek(0)
    with daemon.client().stream("POST", "/build", upload=context) as reply:
        reply.body.read()


def _dangling_image(daemon) -> None:
    """An untagged commit with a layer of its own (a container that changed
    nothing would commit none, as in dockerd)."""
    client = daemon.client()
    cid = client.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo d > /d"]})
    client.request("POST", f"/containers/{cid}/start")
    client.request("POST", f"/containers/{cid}/wait")
    client.request("POST", "/commit", query={"container": cid})
    client.request("DELETE", f"/containers/{cid}")


@pytest.mark.parametrize(
    "args, answer",
    [
        (("builder", "prune"), b"n\n"),
        (("builder", "prune", "-a"), b""),
        (("builder", "prune", "-f", "--filter", "bogus=1"), b""),
        (("builder", "prune", "-f", "--keep-storage", "1m"), b""),
        (("image", "prune"), b"n\n"),
        (("image", "prune", "-a"), b"no\n"),
        (("image", "prune", "-f", "--filter", "bogus=1"), b""),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else repr(v),
)
def test_prompts_and_refusals_as_docker(daemon, args, answer):
    assert _cli(daemon, "stepbox", *args, answer=answer) == _cli(daemon, "docker", *args, answer=answer)


@pytest.mark.parametrize(
    "args", [("builder", "prune", "--filter", "bogus"), ("builder", "prune", "--keep-storage", "zz")]
)
def test_bad_flags_are_usage_errors(daemon, args):
    assert _cli(daemon, "stepbox", *args)[0] == _cli(daemon, "docker", *args)[0] == 125


def test_what_was_pruned_and_reclaimed_as_docker_says_it(daemon):
    """The same story told by each CLI in turn: a failed build leaves a
    dangling cache entry, a tagged one's are removed by -a, an untagged
    commit is a dangling image."""
    said = {}
    for tool in ("docker", "stepbox"):
        _build(daemon, "FROM busybox\nRUN echo a > /a\nRUN exit 3\n")
        dangling = _cli(daemon, tool, "builder", "prune", "-f")
        nothing = _cli(daemon, tool, "builder", "prune", "-f")
        _build(daemon, "FROM busybox\nRUN echo b > /b\n")
        everything = _cli(daemon, tool, "builder", "prune", "-a", answer=b"y\n")
        _dangling_image(daemon)
        images = _cli(daemon, tool, "image", "prune", "-f")
        said[tool] = [dangling, nothing, everything, images]
    assert said["stepbox"] == said["docker"] or _same_but_ids(said["stepbox"], said["docker"])
    dangling, nothing, everything, images = said["stepbox"]
    assert re.fullmatch(
        r"Deleted build cache objects:\n[0-9a-f]{64}\n\nTotal reclaimed space: [0-9.]+kB\n", dangling[1]
    )
    assert nothing == (0, "Total reclaimed space: 0B\n", "")
    assert (
        "Deleted build cache objects:" in everything[1] and "Total reclaimed space: 0B" not in everything[1]
    )
    assert re.fullmatch(
        r"Deleted Images:\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: [0-9.]+kB\n", images[1]
    ), images  # the blobs of the image's layer and config: not 0 any more


def _same_but_ids(ours: list, theirs: list) -> bool:
    """Each run made its own images: their IDs differ, the rest may not."""

    def plain(results):
        return [(code, re.sub(r"[0-9a-f]{64}", "ID", out), err) for code, out, err in results]

    return plain(ours) == plain(theirs)
