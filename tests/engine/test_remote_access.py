"""The daemon as a network service: tcp:// with mutual TLS, as Docker does it.

The real docker CLI and docker-py connect with client certificates; a client
without one is refused; the stepbox CLI gets there by flags, by Docker's
environment variables and by a context.  Every listener is on 127.0.0.1
(the daemon's simulated kernel: the network part is what is tested).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import docker
import pytest

from tests.support.certs import make_certs

from .conftest import DOCKER, needs_docker_cli
from .daemon_process import TestDaemon


@pytest.fixture(scope="module")
def certs():
    directory = tempfile.mkdtemp(prefix="sbx-certs-")
    try:
        yield make_certs(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_daemon(certs):
    d = TestDaemon(
        "sim",
        args=(
            "-H",
            "tcp://127.0.0.1:0",
            "--tlsverify",
            "--tlscacert",
            certs.ca,
            "--tlscert",
            certs.server_cert,
            "--tlskey",
            certs.server_key,
        ),
    )
    try:
        d.start()
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield d
    finally:
        d.cleanup()


@pytest.fixture
def tcp_host(tls_daemon) -> str:
    host, port = tls_daemon.tcp_address()
    assert host == "127.0.0.1"
    return f"tcp://{host}:{port}"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "STEPBOX_"))}
    return {**env, "DOCKER_CLI_HINTS": "false", **extra}


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)


# -------------------------------------------------------------- docker CLI


@needs_docker_cli
def test_docker_cli_over_mutual_tls(tls_daemon, tcp_host, certs, tmp_path):
    env = clean_env(DOCKER_CONFIG=str(tmp_path))
    tls = [
        "--tlsverify",
        "--tlscacert",
        certs.ca,
        "--tlscert",
        certs.client_cert,
        "--tlskey",
        certs.client_key,
    ]
    ps = run([DOCKER, *tls, "-H", tcp_host, "ps"], env)
    assert ps.returncode == 0, ps.stderr + tls_daemon.log()[-3000:]
    assert ps.stdout.startswith("CONTAINER ID")
    hello = run([DOCKER, *tls, "-H", tcp_host, "run", "--rm", "busybox", "echo", "over TLS"], env)
    assert (hello.returncode, hello.stdout) == (0, "over TLS\n"), hello.stderr
    # The same through docker's environment variables.
    by_env = run(
        [DOCKER, "ps", "-a"],
        clean_env(
            DOCKER_CONFIG=str(tmp_path),
            DOCKER_HOST=tcp_host,
            DOCKER_TLS_VERIFY="1",
            DOCKER_CERT_PATH=certs.directory,
        ),
    )
    assert by_env.returncode == 0, by_env.stderr


@needs_docker_cli
def test_docker_cli_without_a_client_certificate_is_refused(tls_daemon, tcp_host, certs, tmp_path):
    env = clean_env(DOCKER_CONFIG=str(tmp_path))
    no_cert = run([DOCKER, "--tlsverify", "--tlscacert", certs.ca, "-H", tcp_host, "ps"], env)
    assert no_cert.returncode != 0
    rogue = run([DOCKER, "--tlsverify", "-H", tcp_host, "ps"], {**env, "DOCKER_CERT_PATH": certs.rogue_dir})
    assert rogue.returncode != 0
    plain = run([DOCKER, "-H", tcp_host, "ps"], env)
    assert plain.returncode != 0
    assert "certificate" in (no_cert.stderr + rogue.stderr).lower() or "tls" in no_cert.stderr.lower()
    # ... and the daemon is still there for those who have one.
    assert run([DOCKER, "-H", tls_daemon.host, "ps"], env).returncode == 0


# --------------------------------------------------------------- docker-py


def test_docker_sdk_over_mutual_tls(tls_daemon, tcp_host, certs, monkeypatch):
    # requests lets these override the CA docker-py gives it (requests#3829)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    port = tcp_host.rsplit(":", 1)[1]
    tls = docker.tls.TLSConfig(
        client_cert=(certs.client_cert, certs.client_key), ca_cert=certs.ca, verify=True
    )
    client = docker.DockerClient(base_url=f"https://127.0.0.1:{port}", tls=tls, version="1.44")
    try:
        assert client.ping()
        assert client.containers.run("busybox", ["echo", "sdk over TLS"], remove=True) == b"sdk over TLS\n"
        container = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], detach=True)
        assert container.wait()["StatusCode"] == 0
        assert container.logs() == b"out\nerr\n"
        exit_code, output = client.containers.run("busybox", ["sleep", "30"], detach=True).exec_run(
            ["echo", "x"]
        )
        assert (exit_code, output) == (0, b"x\n")
    finally:
        for c in client.containers.list(all=True):
            c.remove(force=True)
        client.close()
    with pytest.raises(docker.errors.DockerException):  # no client certificate: refused
        docker.DockerClient(
            base_url=f"https://127.0.0.1:{port}", tls=docker.tls.TLSConfig(ca_cert=certs.ca, verify=True)
        ).ping()


# ----------------------------------------------------------- stepbox CLI


def stepbox(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "stepbox", *args], env, timeout)


def test_stepbox_cli_by_flags_environment_and_context(tls_daemon, tcp_host, certs, tmp_path):
    env = clean_env(STEPBOX_CONFIG=str(tmp_path / "config"))
    tls = [
        "--tlsverify",
        "--tlscacert",
        certs.ca,
        "--tlscert",
        certs.client_cert,
        "--tlskey",
        certs.client_key,
    ]
    flags = stepbox("-H", tcp_host, *tls, "run", "--rm", "busybox", "echo", "flags", env=env)
    assert (flags.returncode, flags.stdout) == (0, "flags\n"), flags.stderr
    for names in (
        ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"),
        ("STEPBOX_HOST", "STEPBOX_TLS_VERIFY", "STEPBOX_CERT_PATH"),
    ):
        by_env = stepbox("ps", env={**env, **dict(zip(names, (tcp_host, "1", certs.directory), strict=True))})
        assert by_env.returncode == 0, (names, by_env.stderr)
        assert by_env.stdout.startswith("CONTAINER ID")
    refused = stepbox("-H", tcp_host, "--tlsverify", "--tlscacert", certs.ca, "ps", env=env)
    assert refused.returncode == 1 and "Error" in refused.stderr  # docker 28: 1 for all but run
    # A context carries the address and copies of the certificates.
    spec = f"host={tcp_host},ca={certs.ca},cert={certs.client_cert},key={certs.client_key}"
    created = stepbox("context", "create", "lab", "--description", "over TLS", "--docker", spec, env=env)
    assert created.returncode == 0, created.stderr
    assert stepbox("context", "use", "lab", env=env).returncode == 0
    listed = stepbox("context", "ls", env=env).stdout
    assert "lab *" in listed and tcp_host in listed and "default" in listed
    via_context = stepbox("run", "--rm", "busybox", "echo", "context", env=env)
    assert (via_context.returncode, via_context.stdout) == (0, "context\n"), via_context.stderr
    assert stepbox("context", "rm", "lab", env=env).returncode != 0  # in use
    assert stepbox("context", "use", "default", env=env).returncode == 0
    assert stepbox("context", "rm", "lab", env=env).returncode == 0
    both = stepbox("-H", tcp_host, "--context", "lab", "ps", env=env)
    assert both.returncode == 1 and "not both" in both.stderr  # docker: "Failed to initialize", 1


# --------------------------------------------------------- the listen rules


def test_plain_tcp_on_loopback_with_dockers_warning(tmp_path):
    d = TestDaemon("sim", args=("-H", "tcp://127.0.0.1:0"))
    try:
        d.start()
        host, port = d.tcp_address()
        assert "without --tlsverify is insecure" in d.log()
        reply = stepbox(
            "-H", f"tcp://{host}:{port}", "run", "--rm", "busybox", "echo", "plain", env=clean_env()
        )
        assert (reply.returncode, reply.stdout) == (0, "plain\n"), reply.stderr
    finally:
        d.cleanup()


def test_plain_tcp_off_loopback_is_refused_unless_forced(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: even if the rule
    # failed, nothing could listen there.
    root = str(tmp_path / "root")
    refused = stepbox(
        "--root", root, "--backend", "sim", "daemon", "-H", "tcp://192.0.2.1:2375", env=clean_env()
    )
    assert refused.returncode == 1
    assert "refusing to listen on tcp://192.0.2.1:2375 without --tlsverify" in refused.stderr
    assert "Binding to IP address without --tlsverify is insecure" in refused.stderr
    forced = stepbox(
        "--root",
        root,
        "--backend",
        "sim",
        "daemon",
        "-H",
        "tcp://192.0.2.1:2375",
        "--tls=false",
        env=clean_env(),
    )
    assert forced.returncode == 1 and "refusing" not in forced.stderr
    assert "cannot listen" in forced.stderr  # it tried: the address is not ours
    tls_alone = stepbox(
        "--root", root, "--backend", "sim", "daemon", "-H", "tcp://192.0.2.1:2376", "--tls", env=clean_env()
    )
    assert tls_alone.returncode == 1 and "cert.pem" in tls_alone.stderr  # no default certificate here
    for bad in ("ssh://me@host", "fd://", "tcp://h:port"):
        reply = stepbox("--root", root, "--backend", "sim", "daemon", "-H", bad, env=clean_env())
        assert reply.returncode == 1 and "stepbox daemon:" in reply.stderr, (bad, reply.stderr)
