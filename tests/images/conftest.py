"""Fixtures of the image interop tests: a stepbox runtime per backend, each
in its own temp state dir, beside the session's private dockerd (the
``dockerd`` and ``busybox_in_docker`` fixtures of tests/conftest.py).
"""

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
    return runtime_on(backend)


@pytest.fixture(scope="module", params=["linux", "sim"])
def runtime(request, busybox_in_docker):
    """A runtime on each backend whose busybox is the one dockerd has."""
    rt, cleanup = _runtime(request.param)
    try:
        image = ensure_busybox(rt.images, rt.kernel)
        assert image.id == busybox_in_docker, "both backends must start from dockerd's busybox"
        yield rt
    finally:
        cleanup()


@pytest.fixture(scope="module")
def runtimes(busybox_in_docker):
    """One runtime per backend, side by side (for tests that compare all three)."""
    made = []
    try:
        for backend in ("linux", "sim"):
            made.append(_runtime(backend))
            ensure_busybox(made[-1][0].images, made[-1][0].kernel)
        yield {rt.kernel.name: rt for rt, _cleanup in made}
    finally:
        for _rt, cleanup in made:
            cleanup()
