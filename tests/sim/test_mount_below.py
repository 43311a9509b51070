"""MountTable.below (the mounts an rbind takes along) against the whole scan
of ``children`` it replaces, on generated tables: mounts stacked on the same
spot, unmounted in any order, tables copied."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs
from stepbox.backends.sim.mounts import Mount, MountTable

POINTS = ("/", "/a", "/a/b", "/ab", "/c", "/a/b/c")
PATHS = ("/", "/a", "/a/", "/a/b", "/c", "/x")

OPS = hs.lists(
    hs.tuples(hs.sampled_from(("add", "add", "remove", "copy")), hs.integers(0, 50), hs.sampled_from(POINTS)),
    max_size=40,
)


def _whole_scan(table: MountTable, mid: int, path: str) -> list[int]:
    base = path.rstrip("/") + "/"
    return [cid for (pid, mp), cid in table.children.items() if pid == mid and mp.startswith(base)]


@settings(max_examples=300)
@given(OPS)
def test_below_finds_what_the_whole_scan_finds(ops):
    table = MountTable()
    ids = iter(range(1, 1000))
    root = Mount(next(ids), 0, "/", None, "/", "root", "ext4")
    table.add(root)
    table.root_id = root.id
    for op, pick, point in ops:
        live = sorted(table.mounts)
        if op == "add":
            parent = live[pick % len(live)]
            table.add(Mount(next(ids), parent, point, None, "/", "x", "tmpfs"))
        elif op == "remove":
            leaves = [mid for mid in live if mid != table.root_id and not table.nkids.get(mid)]
            if leaves:
                table.remove(table.mounts[leaves[pick % len(leaves)]])
        else:
            table = table.copy()
        for mid in table.mounts:
            for path in PATHS:
                assert table.below(mid, path) == _whole_scan(table, mid, path)
