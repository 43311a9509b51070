"""``docker diff``: what a container changed, read from its read-write layer.

Only the read-write layer is looked at -- that is where every change lands
(copy-up).  Each entry is Added (not in any layer below), Changed (it was
there) or Deleted (a whiteout).  A directory that holds a change was copied
up too, so it shows as changed: ``echo hi > /tmp/x`` gives ``C /tmp`` and
``A /tmp/x``.
"""

from __future__ import annotations

from stepbox.core.kernel import EntryKind, Kernel

from .record import ContainerRecord


def container_changes(kernel: Kernel, record: ContainerRecord) -> list[tuple[str, str]]:
    unionfs = kernel.unionfs
    below = [unionfs.layer_files(layer) for layer in [record.init_layer, *record.lowers]
             if unionfs.has_layer(layer)]

    def existed(path: str) -> bool:
        for files in below:                  # top-most first, like a lookup
            try:
                stat = files.lstat(path)
            except OSError:
                continue
            return not (stat.is_device and stat.size == 0)   # a char 0/0 whiteout hides it
        return False

    changes = []
    for entry in unionfs.changes(record.rw_layer):
        path = "/" + entry.path
        if entry.kind is EntryKind.WHITEOUT:
            changes.append(("D", path))
        else:
            changes.append(("C" if existed(path) else "A", path))
    return sorted(changes, key=lambda change: change[1])
