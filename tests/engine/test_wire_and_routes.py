"""The daemon's HTTP layer on its own: framing, routing, frames (no daemon)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.engine.routes import Router
from stepbox.core.engine.streams import frame, read_frames
from stepbox.core.engine.wire import BodyReader, BodyTooLarge, ProtocolError, read_head
from stepbox.core.http_server.headers import Headers
from stepbox.core.http_server.messages import Request, Response


def headers(**items) -> Headers:
    return Headers([(k.replace("_", "-"), v) for k, v in items.items()])


def test_read_head_parses_start_line_and_headers():
    start, h = read_head(
        io.BytesIO(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n\r\n")
    )
    assert start == "GET /_ping HTTP/1.1"
    assert h.get("host") == "x" and h.has_token("Connection", "upgrade")
    assert read_head(io.BytesIO(b"")) is None


def test_read_head_refuses_garbage():
    with pytest.raises(ProtocolError):
        read_head(io.BytesIO(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"))
    with pytest.raises(ProtocolError) as info:
        read_head(io.BytesIO(b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n"))
    assert info.value.status == 431


@given(st.binary(max_size=5000), st.lists(st.integers(1, 700), min_size=1, max_size=20))
def test_chunked_bodies_round_trip(data, sizes):
    encoded, pos, i = b"", 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        encoded += b"%x\r\n%s\r\n" % (len(data[pos : pos + n]), data[pos : pos + n])
        pos, i = pos + n, i + 1
    encoded += b"0\r\n\r\nNEXT"
    stream = io.BytesIO(encoded)
    body = BodyReader(stream, headers(Transfer_Encoding="chunked"))
    assert body.read() == data and body.exhausted
    assert stream.read() == b"NEXT"  # the next request starts right after


def test_body_limits():
    with pytest.raises(BodyTooLarge):
        BodyReader(io.BytesIO(b""), headers(Content_Length="100"), limit=10)
    body = BodyReader(
        io.BytesIO(b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"), headers(Transfer_Encoding="chunked"), limit=7
    )
    with pytest.raises(BodyTooLarge):
        body.read()


def test_frames_round_trip():
    data = frame(1, b"hi\n") + frame(2, b"oops\n")
    assert data[:8] == b"\x01\x00\x00\x00\x00\x00\x00\x03"
    assert list(read_frames(io.BytesIO(data).read)) == [(1, b"hi\n"), (2, b"oops\n")]


def _request(method: str, target: str) -> Request:
    from urllib.parse import unquote, urlsplit

    split = urlsplit(target)
    return Request(method, target, unquote(split.path), {}, Headers())


def test_router_strips_versions_and_matches_names_with_slashes():
    router = Router()
    router.add("GET", "/images/json", lambda r: Response.json("list"))
    router.add("GET", "/images/{name*}/json", lambda r: Response.json(r.params["name"]))
    router.add("POST", "/images/{name*}/push", lambda r: Response.json(["push", r.params["name"]]))
    router.add("DELETE", "/images/{name*}", lambda r: Response.json(["rm", r.params["name"]]))
    assert router(_request("GET", "/v1.44/images/json")).body == b'"list"\n'
    assert (
        router(_request("GET", "/v1.41/images/localhost:5000/team/app:1.0/json")).body
        == b'"localhost:5000/team/app:1.0"\n'
    )
    assert (
        router(_request("POST", "/images/localhost:5000/foo/push")).body
        == b'["push", "localhost:5000/foo"]\n'
    )
    assert router(_request("DELETE", "/images/a/b:c")).body == b'["rm", "a/b:c"]\n'
    assert router(_request("GET", "/v1.45/images/json")).status == 400  # newer than ours
    assert router(_request("GET", "/v1.12/images/json")).status == 400  # older than the minimum
    assert router(_request("GET", "/nothing")).status == 404
    assert router(_request("PUT", "/images/json")).status == 405


def test_endpoints_and_listen_addresses(monkeypatch):
    from stepbox.core.engine.endpoints import BadEndpoint, SSHEndpoint, TCPEndpoint, UnixEndpoint, endpoint_of
    from stepbox.core.engine.locations import default_socket_path
    from stepbox.core.http_server.listeners import BadAddress, parse_address

    assert endpoint_of("unix:///tmp/x/stepbox.sock").path == "/tmp/x/stepbox.sock"
    assert isinstance(endpoint_of("/tmp/y.sock"), UnixEndpoint)
    tcp = endpoint_of("tcp://127.0.0.1:2376")
    assert isinstance(tcp, TCPEndpoint) and (tcp.host, tcp.port) == ("127.0.0.1", 2376)
    assert endpoint_of("tcp://[::1]").port == 2375
    ssh = endpoint_of("ssh://me@lab:2222")
    assert isinstance(ssh, SSHEndpoint)
    argv = ssh.argv()
    assert argv[0] == "ssh" and argv[-5:] == ["--", "lab", "stepbox", "system", "dial-stdio"]
    assert argv[argv.index("-l") + 1] == "me" and argv[argv.index("-p") + 1] == "2222"
    for bad in ("tcp://", "http://x", "ssh://u:pw@h", "tcp://h:99999", "relative.sock", "tcp://h/path"):
        with pytest.raises(BadEndpoint):
            endpoint_of(bad)
    assert str(parse_address("tcp://:2375")) == "tcp://127.0.0.1:2375"
    assert parse_address("tcp://0.0.0.0", tls=True).port == 2376
    assert parse_address("tcp://127.0.0.1:0").port == 0
    assert parse_address("tcp://127.0.0.1:1").is_loopback and not parse_address("tcp://0.0.0.0:1").is_loopback
    for bad in ("fd://", "ssh://h", "tcp://h:x", ""):
        with pytest.raises(BadAddress):
            parse_address(bad)
    import os

    if os.geteuid() == 0:
        assert default_socket_path() == "/run/stepbox/stepbox.sock"
    else:
        monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
        assert default_socket_path() == "/run/user/1000/stepbox.sock"
