"""Fixtures for the userland tests: a simulated kernel with the busybox image."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from userland_box import BusyboxBox  # noqa: E402


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> BusyboxBox:
    """One kernel per test module; every ``box.sh(...)`` is a new container."""
    return BusyboxBox(tmp_path_factory.mktemp("userland"))
