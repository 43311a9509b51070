"""The simulator's overlay against the real overlayfs.

Hypothesis makes a stack of lower layers and a sequence of file operations.
Both run: on the simulator (``SimUnionFS`` + ``OverlayFS``) and on the Linux
kernel (the same layers written to temp dirs, mounted with ``mount -t
overlay``, the operations run by a child process chroot-ed into the merged
dir so that absolute symlinks and ".." stay inside it).  Compared:

* every operation's result or errno;
* the merged view at the end (names, types, modes, owners, link counts,
  contents, symlink targets -- not directory order, which is the
  filesystem's business);
* the upper layer read back as a changeset: the real upper dir read here
  (char 0/0 = whiteout, xattr ``trusted.overlay.opaque=y`` = opaque) against
  ``SimUnionFS.changes``.

Known, documented differences (``backends/sim/SIMPLIFICATIONS.md``) are
normalised away explicitly in :func:`real_changeset` and nowhere else.
"""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import stat as st
import subprocess
import sys
import tempfile

import pytest
from hypothesis import event, given
from hypothesis import strategies as hs
from stepbox.backends.sim.layers import tree_from_entries
from stepbox.backends.sim.memfs import InodeKind, MemFS
from stepbox.backends.sim.overlay import OPAQUE_XATTR, is_opaque, is_whiteout
from stepbox.backends.sim.unionfs import SimUnionFS
from stepbox.core.kernel import EntryKind, FileOps, LayerEntry, StatResult
from stepbox.core.kernel.errors import KernelError

pytestmark = [
    pytest.mark.linux,
    pytest.mark.skipif(
        sys.platform != "linux" or not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="mounts a real overlayfs: needs Linux and root",
    ),
]

NAMES = ["a", "b", "c"]


# -- generating layer stacks -----------------------------------------------------------------

rel_paths = hs.lists(hs.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
symlink_targets = hs.builds(
    lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
    hs.booleans(),
    hs.lists(hs.sampled_from(NAMES + [".."]), min_size=1, max_size=3),
)
modes = hs.sampled_from([0o644, 0o755, 0o600, 0o4755])
dir_modes = hs.sampled_from([0o755, 0o700, 0o1777])
owners = hs.sampled_from([0, 1])

raw_entries = hs.one_of(
    hs.builds(LayerEntry, rel_paths, hs.just(EntryKind.DIR), mode=dir_modes),
    hs.builds(
        LayerEntry, rel_paths, hs.just(EntryKind.FILE), mode=modes, uid=owners, data=hs.binary(max_size=3)
    ),
    hs.builds(
        LayerEntry, rel_paths, hs.just(EntryKind.DIR), mode=dir_modes, gid=owners, opaque=hs.booleans()
    ),
    hs.builds(LayerEntry, rel_paths, hs.just(EntryKind.SYMLINK), link=symlink_targets),
    hs.builds(LayerEntry, rel_paths, hs.just(EntryKind.WHITEOUT), mode=hs.just(0)),
    hs.builds(LayerEntry, rel_paths, hs.just(EntryKind.HARDLINK), link=rel_paths),
)


def well_formed(entries: list[LayerEntry]) -> list[LayerEntry]:
    """Keep the last entry per path, parents first, and drop what cannot be
    in a layer: entries below a non-directory, hard links to no file."""
    last = {e.path: e for e in entries}
    kept: dict[str, LayerEntry] = {}
    for path in sorted(last):
        e = last[path]
        parents = ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
        if any(p in kept and kept[p].kind is not EntryKind.DIR for p in parents):
            continue
        if e.kind is EntryKind.HARDLINK:
            target = kept.get(e.link)
            if target is None or target.kind is not EntryKind.FILE:
                continue
        kept[path] = e
    return list(kept.values())


layer_stacks = hs.lists(hs.lists(raw_entries, max_size=10).map(well_formed), min_size=1, max_size=3)


# -- generating operations -----------------------------------------------------------------------

# Mostly plain names, so that most calls reach an existing file; now and
# then "." / ".." and a trailing "/" for the path-walk corner cases.
component = hs.sampled_from(NAMES * 6 + [".", ".."])
paths = hs.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash else ""),
    hs.lists(component, min_size=1, max_size=3),
    hs.sampled_from([False] * 7 + [True]),
)
ops = hs.one_of(
    hs.tuples(hs.just("rename"), paths, paths),
    hs.tuples(hs.just("unlink"), paths),
    hs.tuples(hs.just("rmdir"), paths),
    hs.tuples(hs.just("write"), paths, hs.binary(max_size=3)),
    hs.tuples(hs.just("append"), paths, hs.binary(max_size=3)),
    hs.tuples(hs.just("truncate"), paths, hs.integers(0, 4)),
    hs.tuples(hs.just("mkdir"), paths),
    hs.tuples(hs.just("rmdir"), paths),
    hs.tuples(hs.just("unlink"), paths),
    hs.tuples(hs.just("rename"), paths, paths),
    hs.tuples(hs.just("link"), paths, paths),
    hs.tuples(hs.just("symlink"), symlink_targets, paths),
    hs.tuples(hs.just("chmod"), paths, hs.sampled_from([0o755, 0o600, 0o4755, 0o2775])),
    hs.tuples(hs.just("chown"), paths, owners, owners),
    hs.tuples(hs.just("read"), paths),
    hs.tuples(hs.just("readlink"), paths),
    hs.tuples(hs.just("listdir"), paths),
    hs.tuples(hs.just("lstat"), paths),
    hs.tuples(hs.just("stat"), paths),
)


# -- one body for both kernels -----------------------------------------------------------------------


class HostOps(FileOps):
    """FileOps with the real ``os`` calls, run inside the chroot."""

    def lstat(self, path):
        return _stat_result(os.lstat(path))

    def stat(self, path):
        return _stat_result(os.stat(path))

    def listdir(self, path):
        return os.listdir(path)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def write(self, path, data, *, append=False, mode=0o644):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def truncate(self, path, size):
        os.truncate(path, size)

    def mkdir(self, path, mode=0o755):
        os.mkdir(path, mode)

    def rmdir(self, path):
        os.rmdir(path)

    def unlink(self, path):
        os.unlink(path)

    def rename(self, src, dst):
        os.rename(src, dst)

    def symlink(self, target, path):
        os.symlink(target, path)

    def link(self, src, dst):
        os.link(src, dst, follow_symlinks=False)

    def readlink(self, path):
        return os.readlink(path)

    def chmod(self, path, mode):
        os.chmod(path, mode)

    def chown(self, path, uid, gid):
        os.lchown(path, uid, gid)


def _stat_result(s: os.stat_result) -> StatResult:
    fmt = st.S_IFMT(s.st_mode)
    kind = {st.S_IFDIR: EntryKind.DIR, st.S_IFLNK: EntryKind.SYMLINK}.get(fmt, EntryKind.FILE)
    return StatResult(
        kind, st.S_IMODE(s.st_mode), s.st_uid, s.st_gid, s.st_size, s.st_nlink, is_device=fmt == st.S_IFCHR
    )


def observe(s: StatResult) -> tuple:
    # A directory's size is the filesystem's business (ext4 4096, tmpfs ...).
    return (
        s.kind.value,
        s.mode,
        s.uid,
        s.gid,
        0 if s.kind is EntryKind.DIR else s.size,
        s.nlink,
        s.is_device,
    )


def run_op(fs: FileOps, op: tuple):
    name, *args = op
    try:
        if name == "append":
            fs.write(args[0], args[1], append=True)
            return "ok"
        if name == "listdir":
            return sorted(fs.listdir(args[0]))
        if name in ("lstat", "stat"):
            return observe(getattr(fs, name)(args[0]))
        result = getattr(fs, name)(*args)
        return "ok" if result is None else result
    except OSError as e:
        return errno.errorcode[e.errno] if e.errno is not None else str(e)


def merged_view(fs: FileOps, path: str = "/") -> dict:
    """Everything visible, by path (sorted names: order is not compared)."""
    view: dict[str, object] = {}
    for name in sorted(fs.listdir(path)):
        child = path.rstrip("/") + "/" + name
        try:
            s = fs.lstat(child)
        except FileNotFoundError:
            # A whiteout in a directory that is not merged: listed, not there.
            view[child] = "listed, but ENOENT"
            continue
        if s.kind is EntryKind.DIR:
            view[child] = observe(s)
            view.update(merged_view(fs, child))
        elif s.kind is EntryKind.SYMLINK:
            view[child] = observe(s) + (fs.readlink(child),)
        else:
            view[child] = observe(s) + (fs.read(child),)
    return view


def in_chroot(root: str, sequence: list) -> tuple[list, dict]:
    """Run the operations in a child chroot-ed into ``root``; their results
    and the merged view come back pickled through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.chroot(root)
            os.chdir("/")
            os.umask(0)
            host = HostOps()
            results = [run_op(host, op) for op in sequence]
            answer: tuple[list, dict] | str = (results, merged_view(host))
        except BaseException:
            import traceback

            answer = traceback.format_exc()
        try:
            os.write(write_end, pickle.dumps(answer))
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    answer = pickle.loads(b"".join(chunks))
    if isinstance(answer, str):
        raise AssertionError("the child in the chroot failed:\n" + answer)
    return answer


# -- the real side: layers as directories ----------------------------------------------------------


def write_layer(fs: MemFS, directory: str) -> None:
    """Materialise a sim layer as a real overlayfs layer directory."""
    os.mkdir(directory, 0o755)
    first: dict[int, str] = {}
    for path, node in fs.walk():
        real = directory + path
        if is_whiteout(node):
            os.mknod(real, st.S_IFCHR | 0, os.makedev(0, 0))
        elif node.kind is InodeKind.DIR:
            os.mkdir(real)
            os.chown(real, node.uid, node.gid)
            os.chmod(real, node.mode)
            if is_opaque(node):
                os.setxattr(real, OPAQUE_XATTR, b"y")
        elif id(node) in first:
            os.link(first[id(node)], real, follow_symlinks=False)
        elif node.kind is InodeKind.SYMLINK:
            os.symlink(node.data, real)
            os.lchown(real, node.uid, node.gid)
        else:
            with open(real, "wb") as f:
                f.write(node.data)
            os.chown(real, node.uid, node.gid)
            os.chmod(real, node.mode)  # after chown, which drops setuid
            first[id(node)] = real
        if node.kind is InodeKind.SYMLINK:
            first[id(node)] = real


def real_changeset(upper: str) -> list[tuple]:
    """The real upper dir read as a changeset, the way ``changes`` reports it."""
    out: list[tuple] = []
    first: dict[tuple[int, int], str] = {}

    def visit(rel: str) -> None:
        for name in sorted(os.listdir(os.path.join(upper, rel) if rel else upper)):
            path = f"{rel}/{name}" if rel else name
            full = os.path.join(upper, path)
            s = os.lstat(full)
            fmt = st.S_IFMT(s.st_mode)
            if fmt == st.S_IFCHR and s.st_rdev == 0:
                out.append((path, "whiteout"))
            elif fmt == st.S_IFDIR:
                try:
                    opaque = os.getxattr(full, OPAQUE_XATTR, follow_symlinks=False) == b"y"
                except OSError:
                    opaque = False
                out.append((path, "dir", st.S_IMODE(s.st_mode), s.st_uid, s.st_gid, opaque))
                visit(path)
            elif s.st_nlink > 1 and (s.st_dev, s.st_ino) in first:
                out.append((path, "hardlink", first[(s.st_dev, s.st_ino)]))
            else:
                if s.st_nlink > 1:
                    first[(s.st_dev, s.st_ino)] = path
                if fmt == st.S_IFLNK:
                    out.append((path, "symlink", s.st_uid, os.readlink(full)))
                else:
                    with open(full, "rb") as f:
                        out.append((path, "file", st.S_IMODE(s.st_mode), s.st_uid, s.st_gid, f.read()))

    visit("")
    return out


def sim_changeset(entries) -> list[tuple]:
    out: list[tuple] = []
    for e in entries:
        if e.kind is EntryKind.WHITEOUT:
            out.append((e.path, "whiteout"))
        elif e.kind is EntryKind.DIR:
            out.append((e.path, "dir", e.mode, e.uid, e.gid, e.opaque))
        elif e.kind is EntryKind.HARDLINK:
            out.append((e.path, "hardlink", e.link))
        elif e.kind is EntryKind.SYMLINK:
            out.append((e.path, "symlink", e.uid, e.link))
        else:
            out.append((e.path, "file", e.mode, e.uid, e.gid, e.data))
    return out


def mount_overlay(lowers: list[str], upper: str, work: str, target: str) -> None:
    # The options the Linux backend fixes, so host module defaults do not matter.
    options = (
        f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work},index=off,redirect_dir=off,metacopy=off"
    )
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, target], check=True, capture_output=True
    )


# -- the test ----------------------------------------------------------------------------------------


@given(layer_stacks, hs.lists(ops, max_size=25))
def test_sim_overlay_behaves_like_the_kernels(stack, sequence):
    # The simulator: layers imported from the changesets, top-most first.
    union = SimUnionFS()
    lower_ids = []
    for i, entries in enumerate(stack):
        union.import_layer(f"lower{i}", entries)
        lower_ids.append(f"lower{i}")
    union.create_layer("rw")
    mount = union.mount(lower_ids, "rw", "c1")
    merged = union.merged(mount)
    sim_results = [run_op(merged, op) for op in sequence]
    for op, result in zip(sequence, sim_results, strict=True):  # --hypothesis-show-statistics
        event(f"{op[0]}: {result if isinstance(result, str) else 'a value'}")
    sim_view = merged_view(merged)
    sim_changes = sim_changeset(union.changes("rw"))

    # The kernel: the same layers as directories.
    top = tempfile.mkdtemp(prefix="ovl-diff-")
    target = os.path.join(top, "merged")
    mounted = False
    try:
        lower_dirs = []
        for i, layer_id in enumerate(lower_ids):
            d = os.path.join(top, f"l{i}")
            write_layer(union.layer_files(layer_id), d)
            lower_dirs.append(d)
        for d in ("upper", "work", "merged"):
            os.mkdir(os.path.join(top, d), 0o755)
        mount_overlay(lower_dirs, os.path.join(top, "upper"), os.path.join(top, "work"), target)
        mounted = True
        real_results, real_view = in_chroot(target, sequence)
        subprocess.run(["umount", target], check=True, capture_output=True)
        mounted = False
        real_changes = real_changeset(os.path.join(top, "upper"))
    finally:
        if mounted:
            subprocess.run(["umount", "-l", target], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)

    for op, sim, real in zip(sequence, sim_results, real_results, strict=True):
        assert sim == real, f"{op}: sim {sim!r}, kernel {real!r}"
    assert sim_view == real_view
    assert sim_changes == real_changes


def test_layer_generator_makes_importable_layers():
    # A guard for the strategy above: every generated layer must import.
    for entries in (
        [LayerEntry("a", EntryKind.FILE), LayerEntry("a/b", EntryKind.FILE)],
        [LayerEntry("h", EntryKind.HARDLINK, link="f"), LayerEntry("f", EntryKind.FILE)],
    ):
        try:
            tree_from_entries(well_formed(entries))
        except KernelError as e:  # pragma: no cover - would be a generator bug
            pytest.fail(str(e))


def test_documented_differences():
    """Exactly what SIMPLIFICATIONS.md ("Union filesystem") says differs:
    whiteout link counts and the kernel's private bookkeeping xattrs."""
    layer = [
        LayerEntry("d", EntryKind.DIR),
        LayerEntry("d/f", EntryKind.FILE, data=b"a"),
        LayerEntry("d/g", EntryKind.FILE),
        LayerEntry("d/h", EntryKind.FILE),
    ]
    sequence = [("append", "/d/f", b"b"), ("unlink", "/d/g"), ("unlink", "/d/h")]

    union = SimUnionFS()
    union.import_layer("low", layer)
    union.create_layer("rw")
    merged = union.merged(union.mount(["low"], "rw", "c1"))
    for op in sequence:
        assert run_op(merged, op) == "ok"
    upper = union.layer_files("rw")

    top = tempfile.mkdtemp(prefix="ovl-diff-")
    target = os.path.join(top, "merged")
    mounted = False
    try:
        write_layer(union.layer_files("low"), os.path.join(top, "low"))
        for d in ("upper", "work", "merged"):
            os.mkdir(os.path.join(top, d), 0o755)
        mount_overlay(
            [os.path.join(top, "low")], os.path.join(top, "upper"), os.path.join(top, "work"), target
        )
        mounted = True
        results, _view = in_chroot(target, sequence)
        assert results == ["ok"] * len(sequence)
        subprocess.run(["umount", target], check=True, capture_output=True)
        mounted = False
        real = os.path.join(top, "upper")
        # 1. whiteouts: the same char 0/0, mode 0, but the kernel's share one inode
        for name in ("g", "h"):
            s = os.lstat(os.path.join(real, "d", name))
            assert st.S_ISCHR(s.st_mode) and s.st_rdev == 0 and st.S_IMODE(s.st_mode) == 0
            assert s.st_nlink >= 1
            assert upper.lstat(f"/d/{name}").nlink == 1
        # 2. private xattrs: the kernel's bookkeeping, none in the simulator
        for rel in ("", "d", "d/f"):
            names = os.listxattr(os.path.join(real, rel), follow_symlinks=False)
            assert set(names) <= {"trusted.overlay.origin", "trusted.overlay.impure", "trusted.overlay.uuid"}
            assert upper.listxattr("/" + rel) == []
        # ... and everything else agrees
        assert real_changeset(real) == sim_changeset(union.changes("rw"))
    finally:
        if mounted:
            subprocess.run(["umount", "-l", target], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
