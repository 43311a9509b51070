"""``commit`` reads the container's read-write layer and nothing else.

What benchmarks/commit_cost.py times, checked without a clock: while a
container is committed, the union filesystem is asked for the changes of
the read-write layer only, and the image store hands out no blob -- the new
image refers to its parent's layers by digest.
"""

from stepbox.core.container.config import ContainerConfig
from stepbox.core.image.store import ImageStore

from tests.core.engines import sim_runtime


class Watched:
    """``target`` with a record of the calls to the methods named."""

    def __init__(self, target, *names: str):
        self._target = target
        self.calls: list[tuple] = []
        for name in names:
            setattr(self, name, self._recording(name))

    def _recording(self, name: str):
        method = getattr(self._target, name)

        def call(*args, **kwargs):
            self.calls.append((name, *args))
            return method(*args, **kwargs)

        return call

    def __getattr__(self, name):
        return getattr(self._target, name)


def test_commit_reads_only_the_rw_layer():
    runtime, cleanup = sim_runtime()
    try:
        record = runtime.run(ContainerConfig(image="busybox", cmd=("sh", "-c", "echo hi > /tmp/new")))
        unionfs = runtime.kernel.unionfs = Watched(runtime.kernel.unionfs, "changes", "layer_files")
        blobs = Watched(runtime.images, "get_blob", "layer_entries")
        runtime.images = blobs
        image = runtime.commit(record)
        assert unionfs.calls == [("changes", record.rw_layer)]
        assert blobs.calls == []
        assert isinstance(blobs._target, ImageStore) and len(image.layers) == 2
    finally:
        cleanup()
