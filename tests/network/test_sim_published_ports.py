"""A port published by a simulated container is a real port on loopback.

``stepbox --backend sim run -d -p PORT:80 busybox httpd ...``: the engine's
userland proxy holds a real TCP port, and carries each connection into the
simulated container, so a real ``wget`` reaches a simulated ``httpd`` -- and
stops reaching it once the container is removed.  The simulator needs no
root; as root the daemon still runs inside a network namespace the test
makes (the networking-safety rule), without root on the host's loopback.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.conftest import IS_LINUX_ROOT
from tests.engine.daemon_process import TestDaemon

from .sandbox import Netns, stepbox, wait_for


@pytest.fixture(scope="module")
def simd():
    netns = Netns() if IS_LINUX_ROOT else None
    daemon = TestDaemon("sim", prefix=tuple(netns.enter) if netns else (), args=("--bridge", "stepbox0"))
    try:
        daemon.start()
        daemon.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield daemon, netns
    finally:
        daemon.remove_all_containers()
        daemon.cleanup()
        if netns is not None:
            netns.delete()


def free_port(netns: Netns | None) -> int:
    if netns is not None:  # a namespace of our own: nothing else listens there
        return random.randrange(20000, 60000)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(netns: Netns | None, url: str) -> tuple[int, str]:
    """A real wget (busybox's or GNU's, whichever the host has) -- in the
    test's namespace when there is one; Python's urllib otherwise."""
    if netns is not None:
        wget = shutil.which("wget") or shutil.which("busybox")
        argv = [wget, "-q", "-O", "-", url] if wget and wget.endswith("wget") else [wget, "wget", "-qO-", url]
        r = netns.run(["timeout", "10", *argv], timeout=20)
        return r.returncode, r.stdout
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return 0, reply.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return 1, str(e)


def test_a_real_wget_reaches_a_simulated_httpd_until_the_container_goes(simd):
    daemon, netns = simd
    port = free_port(netns)
    r = stepbox(
        daemon, "run", "-d", "--name", "web", "-p", f"{port}:80", "busybox",
        "sh", "-c", "mkdir /www; echo hello from the simulator > /www/index.html; httpd -f -p 80 -h /www",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert stepbox(daemon, "port", "web").stdout.split("\n")[0] == f"80/tcp -> 0.0.0.0:{port}"
    got = wait_for(
        lambda: (lambda res: res if res[0] == 0 else None)(fetch(netns, f"http://127.0.0.1:{port}/"))
    )
    assert got == (0, "hello from the simulator\n")
    # twice more: each connection is carried on its own
    for _ in range(2):
        assert fetch(netns, f"http://127.0.0.1:{port}/index.html") == (0, "hello from the simulator\n")
    # a container reaches it through the host's address as well (hairpin through the proxy)
    r = stepbox(daemon, "run", "--rm", "busybox", "wget", "-qO-", f"http://172.17.0.1:{port}/")
    assert (r.returncode, r.stdout) == (0, "hello from the simulator\n"), r.stderr
    assert stepbox(daemon, "rm", "-f", "web").returncode == 0
    code, _ = fetch(netns, f"http://127.0.0.1:{port}/")
    assert code != 0  # the real port is closed with the container
    if netns is not None:
        assert f":{port} " not in netns.listening()


def test_a_port_already_taken_on_the_host_is_refused(simd):
    daemon, netns = simd
    port = free_port(netns)
    holder = None
    if netns is None:
        holder = socket.socket()
        holder.bind(("127.0.0.1", port))
        holder.listen()
    else:  # a real listener inside the namespace holds it
        holder = subprocess.Popen(
            [*netns.enter, "python3", "-c", _LISTEN.format(port=port)], stdout=subprocess.PIPE
        )
        assert holder.stdout is not None and holder.stdout.readline()
    try:
        r = stepbox(daemon, "run", "-d", "--name", "late", "-p", f"{port}:80", "busybox", "sleep", "30")
        assert r.returncode == 125
        assert "address already in use" in r.stderr or "already allocated" in r.stderr, r.stderr
    finally:
        if isinstance(holder, socket.socket):
            holder.close()
        else:
            holder.kill()
            holder.wait()
        stepbox(daemon, "rm", "-f", "late")


_LISTEN = (
    "import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    "s.bind(('0.0.0.0', {port})); s.listen(); print('ready', flush=True); time.sleep(60)"
)
