"""What the differential tests share: the same engine on both kernels."""

from __future__ import annotations

import pytest

from tests.core.engines import runtime_on


@pytest.fixture(scope="module")
def runtimes():
    """A runtime on the simulated kernel and one on the real one, for a module."""
    made = [runtime_on("sim"), runtime_on("linux")]
    try:
        yield [runtime for runtime, _cleanup in made]
    finally:
        for _runtime, cleanup in made:
            cleanup()
