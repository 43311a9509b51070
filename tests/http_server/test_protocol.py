"""The HTTP layer against hostile bytes: framing, limits, timeouts, faults.

Every case is the server's own behaviour (an application in this process,
see conftest.py); the daemon's and the registry's tests then check their
endpoints on top of it.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stepbox.core.http_server.limits import Limits

from .conftest import body_json, read_all, statuses

POST = b"POST /echo HTTP/1.1\r\nHost: x\r\n"


def chunked(*chunks: bytes) -> bytes:
    return POST + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(chunks)


# ------------------------------------------------------------- chunk sizes


def test_a_chunked_body_is_read(server):
    data = server.raw(chunked(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"))
    assert statuses(data) == [200]
    assert body_json(data)["sha256"] == hashlib.sha256(b"hello world").hexdigest()


@pytest.mark.parametrize(
    "size_line",
    [
        b"-1",  # negative: once read "until the peer closes", past every limit
        b"-0",
        b"0x10",
        b"+5",
        b" 5",
        b"5 5",
        b"g",
        b"",
        b"1" * 21,  # more hex digits than any real body needs
    ],
)
def test_bad_chunk_sizes_are_400(server, size_line):
    data = server.raw(chunked(size_line + b"\r\nhello\r\n0\r\n\r\n"))
    assert statuses(data) == [400], data[:200]
    assert b"Connection: close" in data


def test_a_chunk_must_end_with_crlf(server):
    data = server.raw(chunked(b"5\r\nhelloXX0\r\n\r\n"))
    assert statuses(data) == [400]


def test_a_huge_chunk_size_is_413_not_a_wait(serve):
    served = serve(Limits(max_body_bytes=1000, body_timeout=5))
    started = time.monotonic()
    data = served.raw(chunked(b"ffffffffffffffff\r\n" + b"x" * 2000), half_close=False)
    assert statuses(data) == [413]
    assert time.monotonic() - started < 4


# ------------------------------------------------------------------- heads


def test_content_length_with_transfer_encoding_is_refused(server):
    data = server.raw(
        POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    assert statuses(data) and statuses(data)[0] == 400


@pytest.mark.parametrize("length", [b"-1", b"1e3", b"5, 6", b"0x5", b" "])
def test_bad_content_lengths_are_400(server, length):
    data = server.raw(POST + b"Content-Length: " + length + b"\r\n\r\nhello")
    assert statuses(data) == [400]


def test_a_head_past_the_limit_is_431(serve):
    served = serve(Limits(max_head_bytes=4096))
    data = served.raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
    assert statuses(data) == [431]


def test_a_declared_body_past_the_limit_is_413_before_it_is_read(serve):
    served = serve(Limits(max_body_bytes=100))
    data = served.raw(POST + b"Content-Length: 1099511627776\r\n\r\n", half_close=False)
    assert statuses(data) == [413]


def test_missing_host_and_garbage_are_400(server):
    for junk in [
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x00\x01\x02 not http\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    ]:
        assert statuses(server.raw(junk)) == [400], junk


def test_an_unknown_transfer_encoding_is_refused(server):
    data = server.raw(POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    assert statuses(data) and 400 <= statuses(data)[0] < 500


# ---------------------------------------------------------------- timeouts


def test_a_slow_head_is_408(serve):
    served = serve(Limits(head_timeout=0.5))
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHo")  # ... and nothing more
        started = time.monotonic()
        data = read_all(sock)
    assert statuses(data) == [408]
    assert time.monotonic() - started < 3


def test_a_body_that_stops_coming_is_408(serve):
    served = serve(Limits(body_timeout=0.5))
    with served.connect() as sock:
        sock.sendall(POST + b"Content-Length: 100\r\n\r\nonly a part")
        data = read_all(sock)
    assert statuses(data) == [408]


def test_an_idle_connection_is_closed_silently(serve):
    served = serve(Limits(idle_timeout=0.3))
    with served.connect() as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_all(sock)  # the answer, then the close after the idle time
    assert statuses(data) == [200]


def test_a_stream_is_not_cut_by_the_timeouts(serve):
    served = serve(Limits(idle_timeout=0.1, head_timeout=0.1, body_timeout=0.1, send_timeout=0.1))
    data = served.raw(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert statuses(data) == [200] and b"late" in data


# -------------------------------------------------------------- keep-alive


def test_keep_alive_and_pipelining(server):
    get = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    post = POST + b"Content-Length: 5\r\n\r\nhello"
    data = server.raw(get + post + get + b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert statuses(data) == [200, 200, 200, 200]


def test_an_unread_small_body_is_skipped_for_the_next_request(server):
    ignored = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
    data = server.raw(ignored + b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses(data) == [200, 200] and b'"/b"' in data


def test_http_1_0_closes_after_the_answer(server):
    with server.connect() as sock:
        sock.sendall(b"GET /a HTTP/1.0\r\n\r\n")
        assert statuses(read_all(sock)) == [200]


def test_head_gets_no_body(server):
    data = server.raw(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses(data) == [200] and data.endswith(b"\r\n\r\n")


def test_expect_100_continue(server):
    with server.connect() as sock:
        sock.sendall(POST + b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(1000).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"hello")
        sock.shutdown(socket.SHUT_WR)
        assert statuses(read_all(sock)) == [200]


# ------------------------------------------------------------------ faults


def test_a_fault_is_500_with_a_reference_and_no_details(server):
    data = server.raw(b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses(data) == [500]
    message = body_json(data)["message"]
    assert "secret" not in message and "RuntimeError" not in message and "Traceback" not in message
    reference = message.split("reference ")[1].split(":")[0]
    assert reference in server.logged() and "a secret detail" in server.logged()
    assert "Traceback" in server.logged()  # the daemon log has it all


def test_a_bad_query_value_is_400(server):
    data = server.raw(b"GET /int?n=9x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert statuses(data) == [400] and "not an integer" in body_json(data)["message"]


# ----------------------------------------------------------------- upgrade


def test_upgrade_hands_over_the_raw_connection_with_early_bytes(server):
    with server.connect() as sock:
        # stdin sent together with the request must not be lost
        sock.sendall(
            b"POST /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            b"Content-Length: 0\r\n\r\nearly bytes "
        )
        sock.sendall(b"and more")
        sock.shutdown(socket.SHUT_WR)
        data = read_all(sock)
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 UPGRADED") and b"Upgrade: tcp" in head
    assert rest == b"EARLY BYTES AND MORE"


def test_an_old_client_gets_200_and_a_stream_until_close(server):
    data = server.raw(b"POST /upgrade HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert statuses(data) == [200] and b"Connection: close" in data


# ------------------------------------------------------------ connections


def test_connections_past_the_cap_wait_rather_than_fail(serve):
    served = serve(Limits(max_connections=2))
    results = []

    def one(i: int) -> None:
        data = served.raw(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=30)
        results.append(statuses(data))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[200]] * 8
    # 8 answers of 0.3 s each, two at a time: at least 4 rounds
    assert time.monotonic() - started >= 1.1


# ------------------------------------------------------------- fuzzing

hostile_sizes = st.sampled_from(
    [
        b"0",
        b"1",
        b"5",
        b"-1",
        b"-5",
        b"ff",
        b"FFFFFFFFFFFFFFFFFFFF",
        b"1" * 30,
        b"0x5",
        b" 5",
        b"5;x",
        b"5;",
        b"z",
    ]
)
header_values = st.one_of(
    st.sampled_from([b"0", b"5", b"-1", b"99999999999999999999", b"chunked", b"gzip", b"close", b"Upgrade"]),
    st.binary(max_size=12),
)
header_names = st.sampled_from(
    [
        b"Host",
        b"Content-Length",
        b"Transfer-Encoding",
        b"Connection",
        b"Expect",
        b"Upgrade",
        b"X-Y",
        b"Bad Name",
        b"",
    ]
)
request_lines = st.one_of(
    st.sampled_from(
        [
            b"GET / HTTP/1.1",
            b"POST /echo HTTP/1.1",
            b"HEAD /stream HTTP/1.1",
            b"GET /int?n=x HTTP/1.1",
            b"POST /upgrade HTTP/1.1",
            b"GET / HTTP/1.0",
            b"GET / HTTP/2.0",
            b"GET /\x00 HTTP/1.1",
            b"GET",
        ]
    ),
    st.binary(max_size=30),
)


@st.composite
def raw_requests(draw) -> bytes:
    line = draw(request_lines)
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=5))
    head = line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"
    if draw(st.booleans()):
        body = b"".join(
            size + b"\r\n" + data + draw(st.sampled_from([b"\r\n", b"", b"\n", b"xx"]))
            for size, data in draw(st.lists(st.tuples(hostile_sizes, st.binary(max_size=20)), max_size=4))
        )
    else:
        body = draw(st.binary(max_size=60))
    return head + body + draw(st.sampled_from([b"", b"0\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=raw_requests() | st.binary(max_size=200))
def test_any_bytes_get_4xx_or_an_answer_never_a_5xx(server, data):
    started = time.monotonic()
    answer = server.raw(data, timeout=15)
    assert time.monotonic() - started < 10, "the server sat on a request that had ended"
    codes = statuses(answer)
    assert all(code < 500 for code in codes), (data, answer[:300])
    # still serving
    assert statuses(server.raw(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == [200]
