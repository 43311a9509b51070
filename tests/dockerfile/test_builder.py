"""The builder on the simulated kernel: layers, history, config, the cache,
failures that leave nothing behind, and stepping through a build."""

from __future__ import annotations

import os
import textwrap

import pytest
from click.testing import CliRunner
from stepbox.core.dockerfile.builder import Builder, BuildOptions
from stepbox.core.dockerfile.cache import BuildCache
from stepbox.core.dockerfile.errors import BuildError, DockerfileError, RunFailed
from stepbox.core.image.bootstrap import ensure_busybox
from stepbox.core.image.flatten import flatten
from stepbox.core.image.store import ImageNotFound, ImageStore
from stepbox.core.kernel import EntryKind

from tests.core.engines import runtime_on


@pytest.fixture
def sim(tmp_path):
    runtime, cleanup = runtime_on("sim")
    yield runtime
    cleanup()


def write(directory, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
    return str(directory)


def build(runtime, context: str, *, cache_dir: str, out=None, **options):
    lines = [] if out is None else out
    builder = Builder(
        runtime.images if runtime is not None else options.pop("images"),
        runtime,
        BuildCache(cache_dir),
        lines.append,
    )
    return builder.build(BuildOptions(context, **options)), lines


def files_of(images, image_id: str) -> dict:
    image = images.resolve(image_id)
    return {e.path: e for e in flatten(images.layer_entries(b) for b in image.layers)}


DOCKERFILE = """\
FROM busybox
ENV GREETING=hello
RUN echo $GREETING > /greeting.txt
COPY app.txt /app/
WORKDIR /srv/www
CMD ["cat", "/greeting.txt"]
"""


def test_one_layer_per_filesystem_change_and_history(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "app.txt": "app\n"})
    result, out = build(sim, ctx, cache_dir=str(tmp_path / "cache"), tags=("demo",))
    image = sim.images.resolve("demo")
    base = sim.images.resolve("busybox")
    history = image.config["history"][len(base.config["history"]) :]
    assert [("empty_layer" in h) for h in history] == [True, False, False, False, True]
    assert history[0]["created_by"] == "/bin/sh -c #(nop)  ENV GREETING=hello"
    assert history[1]["created_by"] == "/bin/sh -c echo $GREETING > /greeting.txt"
    assert len(image.layers) == len(base.layers) + 3  # RUN, COPY, WORKDIR (new dir)
    config = image.config["config"]
    assert config["Cmd"] == ["cat", "/greeting.txt"] and config["WorkingDir"] == "/srv/www"
    assert "GREETING=hello" in config["Env"]
    files = files_of(sim.images, image.id)
    assert files["greeting.txt"].data == b"hello\n"
    assert files["app/app.txt"].data == b"app\n" and files["srv/www"].kind is EntryKind.DIR
    assert out[0] == "Step 1/6 : FROM busybox" and out[-1] == "Successfully tagged demo:latest"
    assert any(line.startswith(" ---> Running in ") for line in out)
    assert sim.containers.all() == []


def test_rebuild_is_entirely_cached(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "app.txt": "app\n"})
    first, _ = build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    second, out = build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    assert second.image_id == first.image_id
    assert second.cached == 5 and out.count(" ---> Using cache") == 5  # every step but FROM
    assert second.built == 0
    assert not any("Running in" in line for line in out)


def test_no_cache_rebuilds_everything(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "app.txt": "app\n"})
    first, _ = build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    again, out = build(sim, ctx, cache_dir=str(tmp_path / "cache"), no_cache=True)
    assert again.cached == 0 and " ---> Using cache" not in out
    assert any(line.startswith(" ---> Running in ") for line in out)  # RUN ran again


def test_changed_file_invalidates_its_copy_and_what_follows(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "app.txt": "app\n"})
    build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    write(tmp_path / "ctx", {"app.txt": "changed\n"})
    result, out = build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    assert result.cached == 2  # ENV and RUN only
    assert files_of(sim.images, result.image_id)["app/app.txt"].data == b"changed\n"


def test_failing_run_reports_and_leaves_nothing(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nRUN echo about to fail && exit 3\n"})
    ensure_busybox(sim.images, sim.kernel)
    before = {i.id for i in sim.images.list()}
    with pytest.raises(RunFailed) as info:
        build(sim, ctx, cache_dir=str(tmp_path / "cache"), tags=("never",))
    assert info.value.exit_code == 3
    assert "returned a non-zero code: 3" in str(info.value) and "about to fail" in info.value.output
    with pytest.raises(ImageNotFound):
        sim.images.resolve("never")
    assert sim.containers.all() == []
    assert {i.id for i in sim.images.list()} == before


def test_build_args_reach_run_and_its_history(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nARG WHO=world\nRUN echo hi $WHO > /who\n"})
    result, out = build(sim, ctx, cache_dir=str(tmp_path / "cache"), build_args={"WHO": "you", "UNUSED": "x"})
    image = sim.images.resolve(result.image_id)
    assert image.config["history"][-1]["created_by"] == "|1 WHO=you /bin/sh -c echo hi $WHO > /who"
    assert files_of(sim.images, result.image_id)["who"].data == b"hi you\n"
    assert not any(e.startswith("WHO=") for e in image.config["config"]["Env"])  # args are not ENV
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in out


def test_exec_form_run(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": 'FROM busybox\nRUN ["/bin/sh", "-c", "echo exec > /e"]\n'})
    result, _ = build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    assert files_of(sim.images, result.image_id)["e"].data == b"exec\n"


def test_onbuild_triggers_run_in_the_child(sim, tmp_path):
    ctx = write(
        tmp_path / "ctx",
        {"Dockerfile": "FROM busybox AS base\nONBUILD ENV FROM_TRIGGER=1\nFROM base\nLABEL child=1\n"},
    )
    result, out = build(sim, ctx, cache_dir=str(tmp_path / "cache"))
    config = sim.images.resolve(result.image_id).config["config"]
    assert "FROM_TRIGGER=1" in config["Env"] and "OnBuild" not in config
    assert "# Executing 1 build trigger" in out


def test_stepping_through_a_build(sim, tmp_path):
    ctx = write(tmp_path / "ctx", {"Dockerfile": DOCKERFILE, "app.txt": "app\n"})
    stepper = Builder(sim.images, sim, BuildCache(str(tmp_path / "cache")), lambda line: None).stepper(
        BuildOptions(ctx)
    )
    titles = []
    while not stepper.done:
        result = stepper.step()
        titles.append(result.step.title)
        assert result.state is not None
    assert titles[:2] == ["FROM busybox", "ENV GREETING=hello"] and titles[-1] == "Tag the image"
    assert stepper.ctx.result is not None


def test_build_without_a_kernel_from_scratch(tmp_path):
    images = ImageStore(str(tmp_path / "images"))
    ctx = write(
        tmp_path / "ctx",
        {
            "Dockerfile": "FROM scratch\nCOPY --chmod=700 bin/ /bin/\nENTRYPOINT [\"/bin/tool\"]\n",
            "bin/tool": "#!\n",
        },
    )
    result, _ = build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)
    files = files_of(images, result.image_id)
    assert files["bin/tool"].mode == 0o700 and files["bin"].mode == 0o755
    assert images.resolve(result.image_id).config["config"]["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    ]


def test_run_without_a_kernel_says_so(tmp_path):
    images = ImageStore(str(tmp_path / "images"))
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM scratch\nCOPY a /\nRUN x\n", "a": "a"})
    with pytest.raises(BuildError, match="RUN needs a container runtime"):
        build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)


def test_copy_errors(tmp_path):
    images = ImageStore(str(tmp_path / "images"))
    cases = {
        "COPY missing.txt /": "file not found in build context",
        "COPY ../outside /": "Forbidden path outside the build context",
        "COPY a b /dest": "must be a directory and end with a /",
        "COPY nomatch* /": "no source files were specified",
        "COPY --from=nostage a /": "pull access denied for nostage",
        "COPY --chown=nosuchuser a /": "no such user: nosuchuser",
    }
    for line, message in cases.items():
        ctx = write(tmp_path / "ctx", {"Dockerfile": f"FROM scratch\n{line}\n", "a": "a", "b": "b"})
        with pytest.raises(BuildError, match=message):
            build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)


def test_add_url_offline_is_a_clear_error(tmp_path):
    images = ImageStore(str(tmp_path / "images"))
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM scratch\nADD http://127.0.0.1:9/file.tgz /x/\n"})
    with pytest.raises(BuildError, match="cannot download it .* use COPY"):
        build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)


def test_substitution_error_names_the_line(tmp_path):
    images = ImageStore(str(tmp_path / "images"))
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM scratch\nENV A=1\nENV B=${A\n"})
    with pytest.raises(DockerfileError, match=r'Dockerfile:3: .*substitution \(line: "ENV B=\$\{A"\)'):
        build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)


def test_cli_build(tmp_path):
    from stepbox.core.cli import build as _register  # noqa: F401  (adds the command)
    from stepbox.core.cli.main import cli

    from tests.support.daemons import stopping_daemons

    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nCOPY a.txt /\nLABEL x=1\n", "a.txt": "a"})
    root = str(tmp_path / "state")
    runner = CliRunner()
    try:
        with stopping_daemons(root):  # the first build starts the root's daemon
            first = runner.invoke(cli, ["--backend", "sim", "--root", root, "build", "-t", "cli:1", ctx])
            assert first.exit_code == 0, first.output
            assert "Successfully tagged cli:1" in first.output
            quiet = runner.invoke(cli, ["--backend", "sim", "--root", root, "build", "-q", ctx])
            assert quiet.exit_code == 0 and quiet.output.strip().startswith("sha256:")
            bad = runner.invoke(cli, ["--backend", "sim", "--root", root, "build", "-f", "nope", ctx])
            assert bad.exit_code == 1 and "Cannot locate specified Dockerfile: nope" in bad.output
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def test_add_url_downloads_with_mode_0600(tmp_path):
    import functools
    import http.server
    import threading

    served = tmp_path / "www"
    served.mkdir()
    (served / "remote.txt").write_text("from the web\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        images = ImageStore(str(tmp_path / "images"))
        url = f"http://127.0.0.1:{server.server_address[1]}/remote.txt"
        ctx = write(tmp_path / "ctx", {"Dockerfile": f"FROM scratch\nADD {url} /dl/\n"})
        result, _ = build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)
        entry = files_of(images, result.image_id)["dl/remote.txt"]
        assert entry.data == b"from the web\n" and entry.mode == 0o600
        again, _ = build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)
        assert again.cached == 1  # same content: cached
        (served / "remote.txt").write_text("changed\n")
        changed, _ = build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)
        assert changed.cached == 0  # new content: rebuilt
    finally:
        server.shutdown()
        server.server_close()


def test_symlink_source_cannot_leave_the_context(tmp_path):
    """An absolute symlink named as a source is followed inside the context
    (like Docker): /etc/passwd means CONTEXT/etc/passwd, which is not there."""
    images = ImageStore(str(tmp_path / "images"))
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM scratch\nCOPY evil /\n"})
    os.symlink("/etc/passwd", os.path.join(ctx, "evil"))
    with pytest.raises(BuildError, match="file not found in build context"):
        build(None, ctx, cache_dir=str(tmp_path / "cache"), images=images)
