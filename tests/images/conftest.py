"""Fixtures of the image interop tests: one private dockerd for the session,
and a stepbox runtime per backend, each in its own temp state dir.

Both sides start from the same ``busybox`` image: stepbox bootstraps it from
the host's static busybox (the same image ID on both backends) and
``docker load`` reads it from stepbox's ``save`` -- no registry needed.
"""

from __future__ import annotations

import io

import pytest
from stepbox.core.image.archive import save
from stepbox.core.image.bootstrap import ensure_busybox
from stepbox.core.kernel.backend_lookup import load_backend
from stepbox.core.kernel.backend_lookup import unavailable_reason as backend_unavailable

from tests.core.engines import runtime_on
from tests.support.dockerd import DockerDaemon, unavailable_reason


@pytest.fixture(scope="session")
def dockerd():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    daemon = DockerDaemon()
    try:
        daemon.start()
    except Exception as e:
        daemon.stop()
        pytest.fail(f"could not start dockerd: {e}")
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def busybox_in_docker(dockerd) -> str:
    """stepbox's busybox, loaded into dockerd once; its image ID."""
    runtime, cleanup = runtime_on("sim")
    try:
        image = ensure_busybox(runtime.images, runtime.kernel)
        buf = io.BytesIO()
        save(runtime.images, [(image, ["busybox:latest"])], buf)
        dockerd.load(buf.getvalue())
        return image.id
    finally:
        cleanup()


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
