"""The daemon's HTTP layer on its own: framing, routing, frames (no daemon)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.engine.http import Request, Response
from stepbox.core.engine.routes import Router
from stepbox.core.engine.streams import frame, read_frames
from stepbox.core.engine.wire import BodyReader, BodyTooLarge, Headers, ProtocolError, read_head


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
    return Request(method, target, unquote(split.path), {}, Headers(), BodyReader(io.BytesIO(b""), Headers()))


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


def test_socket_paths(monkeypatch):
    from stepbox.core.engine.locations import default_socket_path, socket_path_of

    assert socket_path_of("unix:///tmp/x/stepbox.sock") == "/tmp/x/stepbox.sock"
    assert socket_path_of("/tmp/y.sock") == "/tmp/y.sock"
    with pytest.raises(ValueError):
        socket_path_of("tcp://127.0.0.1:2375")
    assert socket_path_of(None) == default_socket_path()
    import os

    if os.geteuid() == 0:
        assert default_socket_path() == "/run/stepbox/stepbox.sock"
    else:
        monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
        assert default_socket_path() == "/run/user/1000/stepbox.sock"
