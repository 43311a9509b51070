"""``--network container:X`` on an in-process engine (either kernel): the
joining container is in X's network namespace, with X's hostname."""

from __future__ import annotations

import pytest
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.errors import Conflict, NoSuchContainer

from tests.conftest import IS_LINUX_ROOT
from tests.core.engines import runtime_on

BACKENDS = ["sim", pytest.param("linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason="needs root"))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_joiner_sees_the_same_network_namespace(backend):
    runtime, cleanup = runtime_on(backend)
    try:
        web = runtime.run(ContainerConfig("busybox", ("sleep", "30"), network="none"), "web", detach=True)
        joiner = runtime.run(
            ContainerConfig(
                "busybox", ("sh", "-c", "readlink /proc/self/ns/net; hostname"), network="container:web"
            )
        )
        out, _ = runtime.logs(joiner)
        ns, hostname = out.decode().split()
        assert hostname == web.hostname
        own = runtime.run(ContainerConfig("busybox", ("readlink", "/proc/self/ns/net"), network="none"))
        assert runtime.logs(own)[0].decode().strip() != ns
        with pytest.raises(NoSuchContainer):
            runtime.run(ContainerConfig("busybox", ("true",), network="container:nosuch"))
        stopped = runtime.create(ContainerConfig("busybox", ("true",), network="none"), "stopped")
        assert stopped.state == "created"
        with pytest.raises(Conflict, match="cannot join network of a non running container: stopped"):
            runtime.run(ContainerConfig("busybox", ("true",), network="container:stopped"))
    finally:
        cleanup()


def test_conflicting_options_are_refused_by_name():
    for options, message in (
        ({"hostname": "x"}, "conflicting options: hostname and the network mode"),
        ({"dns": ("1.1.1.1",)}, "conflicting options: dns and the network mode"),
        ({"extra_hosts": ("a:1.2.3.4",)}, "custom host-to-IP mapping"),
        ({"mac_address": "02:42:ac:11:00:09"}, "mac-address and the network mode"),
        ({"publish_all": True}, "port publishing and the container type network mode"),
        ({"exposed_ports": ("80/tcp",)}, "port exposing and the container type network mode"),
    ):
        config = ContainerConfig("busybox", network="container:web", **options)
        with pytest.raises(ValueError, match=message):
            config.check_network_mode()
    with pytest.raises(ValueError, match="invalid container format"):
        ContainerConfig("busybox", network="container:")
