"""``-p HOST:53/udp``: a published UDP port carries datagrams both ways.

The simulator's published UDP port is a real loopback port, as its TCP ones
are: the engine's userland proxy takes a real datagram, sends it from the
engine's namespace across the simulated bridge to the container, and the
answer comes back to the real client.  The real kernel does the same with
real namespaces; both must tell the same story (three answers, the server
saw three questions, nothing answers once the container is gone, the port
is free again).  Each backend runs in a program of its own
(``udp_publish_probe.py``) -- as root inside a network namespace the test
makes; without root only the simulator runs, on a free loopback port.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .sandbox import Netns

PROBE = os.path.join(os.path.dirname(__file__), "udp_publish_probe.py")
EXPECTED_ANSWERS = ["answer:q0", "answer:q1", "answer:q2"]


def run_probe(backend: str, netns: Netns | None) -> dict:
    if netns is not None:  # a namespace of our own: nothing else listens there
        port = random.randrange(20000, 60000)
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    argv = [sys.executable, PROBE, backend, str(port)]
    if netns is not None:
        argv = [*netns.enter, *argv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["ports"] == {"53/udp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    result["ports"] = "checked"
    return result


@pytest.fixture
def netns():
    made = Netns() if IS_LINUX_ROOT else None
    yield made
    if made is not None:
        made.delete()


def test_a_published_udp_port_answers_through_the_simulator(netns):
    result = run_probe("sim", netns)
    assert result == {
        "ports": "checked",
        "answers": EXPECTED_ANSWERS,
        "seen": ["q0", "q1", "q2"],
        "after_removal": None,
        "port_freed": True,
    }


@pytest.mark.linux
@pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)
def test_udp_publishing_agrees_with_the_real_kernel(netns):
    assert netns is not None
    real = run_probe("linux", netns)
    sim = run_probe("sim", netns)
    assert real["answers"] == EXPECTED_ANSWERS
    assert sim == real
