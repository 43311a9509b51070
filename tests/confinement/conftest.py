"""Fixtures of the confinement tests: stepbox runtimes on both backends next
to the session's private dockerd, all three starting from the same busybox."""

from __future__ import annotations

import pytest
from stepbox.core.image.bootstrap import ensure_busybox
from stepbox.core.kernel.backend_lookup import load_backend
from stepbox.core.kernel.backend_lookup import unavailable_reason as backend_unavailable

from tests.core.engines import runtime_on


def _runtime(backend: str):
    reason = backend_unavailable(load_backend(backend))
    if reason:
        pytest.skip(f"{backend} backend: {reason}")
    rt, cleanup = runtime_on(backend)
    ensure_busybox(rt.images, rt.kernel)
    return rt, cleanup


@pytest.fixture(scope="module")
def linux():
    rt, cleanup = _runtime("linux")
    try:
        yield rt
    finally:
        cleanup()


@pytest.fixture(scope="module")
def sim():
    rt, cleanup = _runtime("sim")
    try:
        yield rt
    finally:
        cleanup()
