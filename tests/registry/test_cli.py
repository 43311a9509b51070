"""The registry verbs through the real ``stepbox`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import stepbox.core.cli.registry  # noqa: F401  (registers the verbs, as main() will)
from click.testing import CliRunner
from stepbox.core.cli.main import cli
from stepbox.core.image.store import ImageStore

from tests.support.daemons import daemon_pid, stopping_daemons

from .helpers import Http, layer, make_image


def run(*args, input=None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result


def test_push_pull_login_logout(start_registry, tmp_path):
    htpasswd = tmp_path / "htpasswd"
    line = run("registry", "hash-password", "carol", "--password-stdin", input="pa55\n").output.strip()
    assert line.startswith("carol:$5$")
    htpasswd.write_text(line + "\n")
    registry = start_registry(htpasswd=str(htpasswd))
    root_a, root_b = tmp_path / "a", tmp_path / "b"
    name = f"{registry.netloc}/cli/app:1"
    image = make_image(ImageStore(str(root_a / "images")), name, [layer({"f": b"cli"})])
    with stopping_daemons(str(root_a), str(root_b)):  # push and pull start each root's daemon
        _push_pull_login_logout(registry, name, image, root_a, root_b)


def _push_pull_login_logout(registry, name, image, root_a, root_b):

    denied = run("--root", str(root_a), "push", name)
    assert denied.exit_code == 1 and "stepbox login" in denied.output
    bad = run("login", registry.netloc, "-u", "carol", "--password-stdin", input="wrong\n")
    assert bad.exit_code == 1 and "refused" in bad.output
    good = run("login", registry.netloc, "-u", "carol", "--password-stdin", input="pa55\n")
    assert good.exit_code == 0 and "Login Succeeded" in good.output

    pushed = run("--root", str(root_a), "push", name)
    assert pushed.exit_code == 0, pushed.output
    assert "Pushed" in pushed.output and "digest: sha256:" in pushed.output
    again = run("--root", str(root_a), "push", name)
    assert "Layer already exists" in again.output

    pulled = run("--root", str(root_b), "pull", "-q", name)
    assert pulled.exit_code == 0 and pulled.stdout.strip() == image.id  # stderr: "started a daemon"
    assert ImageStore(str(root_b / "images")).resolve(name).id == image.id

    assert "Removing login credentials" in run("logout", registry.netloc).output
    assert run("--root", str(root_b), "pull", name).exit_code == 1


def test_pull_of_bad_reference_is_a_user_error(tmp_path):
    with stopping_daemons(str(tmp_path)):
        result = CliRunner().invoke(cli, ["--root", str(tmp_path), "pull", "UPPER/case"])
        assert result.exit_code == 1 and "invalid reference format" in result.output  # as docker pull
        assert daemon_pid(str(tmp_path)) is None  # refused before asking a daemon


def test_registry_serve_as_a_process(tmp_path):
    """`stepbox registry serve` in its own process, stopped by the test."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import sys; import stepbox.core.cli.registry; from stepbox.core.cli.main import cli; "
        "cli(prog_name='stepbox')"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "registry",
            "serve",
            "--addr",
            f"127.0.0.1:{port}",
            "--root",
            str(tmp_path / "reg"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                if Http(f"127.0.0.1:{port}")("GET", "/v2/").status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        assert Http(f"127.0.0.1:{port}")("GET", "/v2/_catalog").json() == {"repositories": []}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "GET /v2/_catalog 200" in proc.stderr.read()
    assert os.path.isdir(tmp_path / "reg" / "blobs")
