"""Fixtures for the userland tests: a simulated kernel with the busybox
image (``box``), and the oracle -- real busybox on the real kernel
(``host``) -- with ``same(script)``, which runs a script on both and
asserts they agree."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from host_busybox import HostBusybox, compare, unavailable_reason  # noqa: E402
from userland_box import BusyboxBox  # noqa: E402


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> BusyboxBox:
    """One kernel per test module; every ``box.sh(...)`` is a new container."""
    return BusyboxBox(tmp_path_factory.mktemp("userland"))


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> HostBusybox:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    return HostBusybox(tmp_path_factory.mktemp("oracle"))


@pytest.fixture(scope="module")
def same(host, box):
    """``same(script, files=..., stdin=..., normalise=...)``: busybox and
    the simulator print the same and exit the same; returns busybox's result."""
    return functools.partial(compare, host, box)
