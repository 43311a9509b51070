"""In-process engines for tests: a runtime on a fresh kernel and state dir."""

from __future__ import annotations

import shutil
import tempfile

from stepbox.core.session import open_session


def runtime_on(backend: str, *, persistent: bool = False):
    """A Runtime on ``backend`` in its own temp state dir, and its clean-up.
    ``persistent``: container records on disk, as the daemon keeps them."""
    root = tempfile.mkdtemp(prefix=f"stepbox-test-{backend}-")
    session = open_session(backend, root, records_in_memory=not persistent)
    runtime = session.runtime

    def cleanup():
        try:
            for record in runtime.containers.all():
                try:
                    runtime.remove(runtime.refresh(record), force=True)
                except Exception:
                    pass
            session.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    return runtime, cleanup


def sim_runtime(**kw):
    return runtime_on("sim", **kw)
