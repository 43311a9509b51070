"""Fixtures: a network namespace per test module, and a stepbox daemon inside it."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .sandbox import Netns, daemon_in, stepbox

needs_linux_root = pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)
needs_nft = pytest.mark.skipif(
    shutil.which("nft") is None, reason="nft is missing (apt-get install nftables)"
)


@pytest.fixture(scope="module")
def netns():
    if not IS_LINUX_ROOT:
        pytest.skip(LINUX_ONLY_REASON)
    ns = Netns()
    try:
        yield ns
    finally:
        ns.delete()


@pytest.fixture(scope="module")
def netd(netns):
    """A daemon with its default bridge, inside ``netns``; every container and
    network it made is removed afterwards, and the daemon stopped."""
    d = daemon_in(netns)
    try:
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield d
    finally:
        d.remove_all_containers()
        stepbox(d, "network", "prune", "-f")
        d.cleanup()
