"""In-process engines for tests: a runtime on a fresh kernel and state dir."""

from __future__ import annotations

import shutil
import tempfile

from stepbox.core.container.runtime import Runtime
from stepbox.core.container.store import ContainerStore
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import Tracer
from stepbox.core.kernel.backend_lookup import load_backend


def runtime_on(backend: str, *, persistent: bool = False):
    """A Runtime on ``backend`` in its own temp state dir, and its clean-up."""
    root = tempfile.mkdtemp(prefix=f"stepbox-test-{backend}-")
    kernel = load_backend(backend).create_kernel(f"{root}/kernel", Tracer())
    runtime = Runtime(
        kernel, ImageStore(f"{root}/images"), ContainerStore(f"{root}/containers" if persistent else None)
    )

    def cleanup():
        try:
            for record in runtime.containers.all():
                try:
                    runtime.remove(runtime.refresh(record), force=True)
                except Exception:
                    pass
            kernel.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    return runtime, cleanup


def sim_runtime(**kw):
    return runtime_on("sim", **kw)
