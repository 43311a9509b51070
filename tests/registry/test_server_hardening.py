"""The registry as a network service: TLS, Basic auth only where it is safe,
the same work for unknown users, expiring uploads, a bounded log."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import time

import pytest
from stepbox.core.registry import htpasswd as htpasswd_module
from stepbox.core.registry.htpasswd import Htpasswd, hash_password
from stepbox.core.registry.server import RegistryConfigError, RequestLog, RequestRecord, make_server
from stepbox.core.registry.uploads import Uploads

from tests.support.certs import make_certs


@pytest.fixture
def htpasswd_file(tmp_path) -> str:
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('wonderland', rounds=1000)}\n")
    return str(path)


def test_basic_auth_over_plain_http_is_refused_off_loopback(tmp_path, htpasswd_file):
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: nothing could listen there anyway.
    with pytest.raises(RegistryConfigError, match="passwords would cross the network in clear"):
        make_server("192.0.2.1:5000", str(tmp_path / "r"), htpasswd_file)
    make_server("127.0.0.1:0", str(tmp_path / "r"), htpasswd_file).server_close()  # loopback: fine


def test_a_tls_registry_with_basic_auth(tmp_path, htpasswd_file):
    certs = make_certs(str(tmp_path / "certs"))
    server = make_server(
        "127.0.0.1:0",
        str(tmp_path / "r"),
        htpasswd_file,
        tls_cert=certs.server_cert,
        tls_key=certs.server_key,
    )
    server.serve_in_thread()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=certs.ca)
        auth = base64.b64encode(b"alice:wonderland").decode()
        with socket.create_connection(server.server_address, timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                sock.sendall(
                    f"GET /v2/ HTTP/1.1\r\nHost: r\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n".encode()
                )
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ") and b"Docker-Distribution-Api-Version" in answer.title()
    finally:
        server.close()
    with pytest.raises(RegistryConfigError, match="both"):
        make_server("127.0.0.1:0", str(tmp_path / "r"), tls_cert=certs.server_cert)


def test_an_unknown_user_costs_a_password_check_too(htpasswd_file, monkeypatch):
    users = Htpasswd.load(htpasswd_file)
    checked = []
    real = htpasswd_module.verify_password
    monkeypatch.setattr(
        htpasswd_module, "verify_password", lambda pw, stored: checked.append(stored) or real(pw, stored)
    )

    def basic(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    assert users.check_basic(basic("alice", "wonderland")) == "alice"
    assert users.check_basic(basic("alice", "wrong")) is None
    assert users.check_basic(basic("mallory", "wonderland")) is None
    assert len(checked) == 3
    # The decoy is a hash of the same kind and cost as alice's.
    assert checked[2].startswith("$5$rounds=1000$") and checked[2] != checked[0]


def test_idle_upload_sessions_expire(registry, http, tmp_path):
    uploads: Uploads = registry.app.uploads
    started = http("POST", "/v2/app/blobs/uploads/")
    location = started.headers["Location"]
    assert http("PATCH", location, body=b"part of a layer").status == 202
    uuid = location.rsplit("/", 1)[1]
    directory = os.path.join(registry.app.storage.uploads_dir, uuid)
    assert os.path.isdir(directory)
    uploads.ttl = 0.2
    time.sleep(0.3)
    assert uuid in uploads.expire(force=True)
    assert not os.path.exists(directory)
    gone = http("PATCH", location, body=b"more")
    assert gone.status == 404 and gone.error_codes == ["BLOB_UPLOAD_UNKNOWN"]
    # A session left on disk by an earlier run is judged by its files' age.
    stale = os.path.join(registry.app.storage.uploads_dir, "00000000-0000-4000-8000-000000000000")
    os.makedirs(stale)
    with open(os.path.join(stale, "data"), "wb") as f:
        f.write(b"x")
    os.utime(os.path.join(stale, "data"), (time.time() - 10, time.time() - 10))
    assert os.path.basename(stale) in uploads.expire(force=True)


def test_the_request_log_is_bounded_but_counts_everything():
    log = RequestLog(capacity=3)
    for i in range(5):
        log.append(RequestRecord("GET", f"/{i}", 200, 0, 0))
    assert len(log) == 5
    assert [r.path for r in log] == ["/2", "/3", "/4"]
    assert [r.path for r in log[3:]] == ["/3", "/4"]
    assert [r.path for r in log[0:]] == ["/2", "/3", "/4"]  # the dropped ones are gone
    assert log[4].path == "/4" and log[-1].path == "/4"
    with pytest.raises(IndexError):
        log[0]


def test_hostile_bytes_get_the_registry_error_json(registry):
    with socket.create_connection(registry.server_address, timeout=10) as sock:
        sock.sendall(
            b"PATCH /v2/a/blobs/uploads/x HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 4")
    assert json.loads(body)["errors"][0]["code"]
    # the registry still serves:
    with socket.create_connection(registry.server_address, timeout=10) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
