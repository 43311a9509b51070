"""A UDP port published from a container, probed from the host's loopback.

Run by ``test_udp_publish.py`` as a program of its own -- inside a network
namespace the test made when it runs as root (the networking-safety rule),
on the host's loopback with a free port when it does not (the simulator
needs no root)::

    python tests/network/udp_publish_probe.py sim|linux HOST_PORT

An in-process engine with a default bridge runs ``busybox sleep`` with
``-p 127.0.0.1:HOST_PORT:53/udp``.  Busybox 1.35 has no UDP server applet
(its ``nc`` has no ``-u``), so the server in the container is the kernel's
own ``Network.open_socket`` in the container's namespace -- the call the
embedded DNS server is bound with: a real socket in the container's network
namespace on the real kernel, a real socket whose simulated twin is bound at
0.0.0.0:53 inside the simulated container on the simulator.  A real UDP
client then sends to 127.0.0.1:HOST_PORT: the datagrams go through the
engine's userland proxy, across the bridge into the container and back.
What happened is printed as JSON for the test to compare between kernels.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import tempfile
import threading
import time


def serve_echo(server: socket.socket, stop: threading.Event, seen: list[bytes]) -> None:
    """Answer each datagram with ``answer:`` and what it said."""
    server.settimeout(0.1)
    while not stop.is_set():
        try:
            data, peer = server.recvfrom(65536)
        except (TimeoutError, BlockingIOError, InterruptedError):
            continue
        except OSError:
            return
        seen.append(data)
        server.sendto(b"answer:" + data, peer)


def ask(port: int, data: bytes, timeout: float) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(timeout)
        client.sendto(data, ("127.0.0.1", port))
        try:
            return client.recv(65536)
        except (TimeoutError, ConnectionRefusedError):
            return None


def probe(backend: str, port: int) -> dict:
    from stepbox.core.container.config import ContainerConfig
    from stepbox.core.kernel.serialised import SerialisedKernel, serialised
    from stepbox.core.network.manager import BridgeSettings
    from stepbox.core.session import open_session

    root = tempfile.mkdtemp(prefix=f"stepbox-udp-{backend}-")
    session = open_session(backend, root, records_in_memory=True, network=BridgeSettings())
    runtime = session.runtime
    # As the daemon does: several threads (the proxy's, the driver's, ours)
    # use the kernel, so a simulated one is called under its lock.
    runtime.kernel = serialised(runtime.kernel)
    assert runtime.networks is not None
    runtime.networks.kernel = runtime.kernel.network
    runtime.networks.start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    result: dict = {}
    try:
        bindings = {"53/udp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
        record = runtime.run(
            ContainerConfig("busybox", ("sleep", "120"), port_bindings=bindings), "dns", detach=True
        )
        record = runtime.refresh(record)
        result["ports"] = record.ports
        kernel = runtime.kernel
        if isinstance(kernel, SerialisedKernel):
            # The simulation runs only while someone waits on it (the
            # daemon's exit monitors): wait in short slices, as they do.
            ctx = runtime.context(record)

            def drive() -> None:
                while not stop.is_set():
                    with kernel.lock:
                        ctx.wait_for_exit(0.02)
                    time.sleep(0.002)

            threads.append(threading.Thread(target=drive, daemon=True))
        assert runtime.kernel.network is not None
        server = runtime.kernel.network.open_socket("udp", "0.0.0.0", 53, netns=record.pid)
        server.setblocking(True)
        seen: list[bytes] = []
        threads.append(threading.Thread(target=serve_echo, args=(server, stop, seen), daemon=True))
        for thread in threads:
            thread.start()
        # The first datagram waits for the proxy's flow into the container.
        answers = [ask(port, b"q%d" % i, 10) for i in range(3)]
        result["answers"] = [None if a is None else a.decode() for a in answers]
        result["seen"] = [data.decode() for data in seen]
        runtime.remove(runtime.refresh(record), force=True)
        result["after_removal"] = ask(port, b"again", 1.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
            again.bind(("127.0.0.1", port))  # the proxy's port is free again
        result["port_freed"] = True
        server.close()
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for left in runtime.containers.all():
            try:
                runtime.remove(runtime.refresh(left), force=True)
            except Exception:
                pass
        runtime.networks.close()
        session.close()
        shutil.rmtree(root, ignore_errors=True)
    return result


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], int(sys.argv[2]))))
