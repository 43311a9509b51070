"""``SimUnionFS``: the simulator's layer store and overlay mounts.

Layers are :class:`MemFS` trees kept in a dict by id; a mount is an
:class:`OverlayFS` over some of them.  Nothing here touches the disk unless
a ``state_dir`` is given -- then each layer is also a file
``state_dir/layers/<id>`` so that the next program (a new CLI call) finds the
same layers:

* ``import_layer`` writes the file once, atomically (temp file, fsync,
  rename), before the layer becomes visible;
* ``create_layer`` writes an empty one, so the layer exists for others at once;
* writable layers (made by ``create_layer``) are written back when a mount
  using them is unmounted, on :meth:`SimUnionFS.sync` and when the program
  exits normally;
* a layer is read from its file the first time it is used (lazily);
* ``remove_layer`` deletes the file.

The file is a pickle of the layer's root inode, which keeps hard links
(shared inodes), whiteouts and opaque flags exactly.  It is a private cache
of this backend, never exchanged: changesets (``changes``) are the exchange
format.

Kernel operations are recorded through the :class:`Tracer` with the names
of the calls the Linux backend makes for the same thing (``mkdir`` of a
layer dir, ``mknod`` of a whiteout, ``setxattr`` of an opaque dir, ``mount``,
``umount2``), with paths under ``/var/lib/stepbox/overlay``.  Removing a
layer is not a kernel operation of interest and is not recorded.
"""

from __future__ import annotations

import atexit
import errno
import os
import pickle
import time
import urllib.parse
import weakref
from collections.abc import Callable, Iterable, Iterator

from stepbox.core.kernel.atomic import atomic_file
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.trace import Tracer
from stepbox.core.kernel.unionfs import EntryKind, FileOps, LayerEntry, UnionFS, UnionMount

from .layers import entries_from_tree, tree_from_entries
from .memfs import MemFS, _err
from .overlay import OverlayFS

OVERLAY_ROOT = "/var/lib/stepbox/overlay"  # where the simulated host keeps layers
_FORMAT = 1  # bump when the pickled shape changes


# The same layout as the Linux backend's (backends/linux/unionfs.py), so both
# traces name the same places.
def diff_dir(layer_id: str) -> str:
    return f"{OVERLAY_ROOT}/layers/{layer_id}/diff"


def mount_target(name: str) -> str:
    return f"{OVERLAY_ROOT}/mounts/{name}/merged"


def work_dir(name: str) -> str:
    return f"{OVERLAY_ROOT}/mounts/{name}/work"


def overlay_options(lowers: Iterable[str], upper: str, name: str) -> str:
    """The options as /proc/mounts shows an overlay mount."""
    lowerdir = ":".join(diff_dir(layer) for layer in lowers)
    return f"rw,relatime,lowerdir={lowerdir},upperdir={diff_dir(upper)},workdir={work_dir(name)}"


class SimUnionFS(UnionFS):
    """Layers in memory (optionally persisted under ``state_dir``), mounted
    as :class:`OverlayFS` views."""

    def __init__(
        self,
        tracer: Tracer | None = None,
        state_dir: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tracer = tracer if tracer is not None else Tracer(enabled=False)
        self.state_dir = state_dir
        self.clock = clock  # file times in writable layers (the simulated kernel's wall clock)
        self._layers: dict[str, MemFS] = {}
        self._writable: set[str] = set()
        self._mounts: dict[str, tuple[UnionMount, OverlayFS]] = {}  # by target
        if state_dir is not None:
            # A program that wrote an init layer through layer_files() and
            # exits normally must not lose it: write writable layers back at
            # exit too (a weak reference, so this does not keep us alive).
            ref = weakref.ref(self)
            atexit.register(lambda: (lambda u: u.sync() if u is not None else None)(ref()))

    # -- persistence ---------------------------------------------------------------------

    def _file(self, layer_id: str) -> str | None:
        """The layer's file (``None`` without a state dir).  The id is
        %-quoted into one file name, reversibly, so any id is safe."""
        if self.state_dir is None:
            return None
        if not layer_id:
            raise KernelError("a layer id cannot be empty")
        name = urllib.parse.quote(layer_id, safe="")
        if name.startswith("."):
            name = "%2E" + name[1:]  # never ".", "..", or a ".tmp-" temporary
        return os.path.join(self.state_dir, "layers", name)

    def _save(self, layer_id: str) -> None:
        path = self._file(layer_id)
        if path is None or layer_id not in self._layers:
            return
        # Dumped to the file, not to bytes first: pickle writes a big file's
        # bytearray straight out, where dumps() would copy the whole layer.
        with atomic_file(path) as f:
            pickle.dump(
                (_FORMAT, layer_id in self._writable, self._layers[layer_id].root),
                f,
                protocol=pickle.HIGHEST_PROTOCOL,
            )

    def _load(self, layer_id: str) -> MemFS | None:
        fs = self._layers.get(layer_id)
        if fs is not None:
            return fs
        path = self._file(layer_id)
        if path is None:
            return None
        try:
            with open(path, "rb") as f:
                fmt, writable, root = pickle.load(f)
        except FileNotFoundError:
            return None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
            raise KernelError(
                f"layer {layer_id!r} at {path} is unreadable ({e}); remove it and pull or create it again"
            ) from e
        if fmt != _FORMAT:
            raise KernelError(
                f"layer {layer_id!r} at {path} was written by another version "
                f"(format {fmt}, this one reads {_FORMAT}); remove it"
            )
        fs = MemFS(clock=self.clock)
        fs.root = root
        self._layers[layer_id] = fs
        if writable:
            self._writable.add(layer_id)
        return fs

    def _require(self, layer_id: str) -> MemFS:
        fs = self._load(layer_id)
        if fs is None:
            # The same error as the Linux backend (its layer dir is missing).
            raise FileNotFoundError(errno.ENOENT, f"no such layer: {layer_id}")
        return fs

    def sync(self) -> None:
        """Write every loaded writable layer back to ``state_dir``."""
        for layer_id in list(self._writable):
            if layer_id in self._layers:
                self._save(layer_id)

    # -- layers ---------------------------------------------------------------------------

    def import_layer(self, layer_id: str, entries: Iterable[LayerEntry]) -> None:
        if self.has_layer(layer_id):
            raise FileExistsError(errno.EEXIST, f"layer already exists: {layer_id}")
        entries = list(entries)
        fs = tree_from_entries(entries)  # raises before anything is stored
        if self.tracer.enabled:
            # The Linux backend's line, then what extracting does to the kernel's
            # view of a layer: whiteouts are device nodes, opaque dirs an xattr.
            self.tracer.record("import_layer", f'"{layer_id}" -> {diff_dir(layer_id)}')
            for e in entries:
                if e.kind is EntryKind.WHITEOUT:
                    self.tracer.record(
                        "mknod", f'"{diff_dir(layer_id)}/{e.path}", S_IFCHR|0000, makedev(0, 0)'
                    )
                elif e.kind is EntryKind.DIR and e.opaque:
                    self.tracer.record(
                        "setxattr", f'"{diff_dir(layer_id)}/{e.path}", "trusted.overlay.opaque", "y", 1, 0'
                    )
        self._layers[layer_id] = fs
        try:
            self._save(layer_id)
        except BaseException:
            del self._layers[layer_id]
            raise

    def create_layer(self, layer_id: str) -> None:
        if self.has_layer(layer_id):
            raise FileExistsError(errno.EEXIST, f"layer already exists: {layer_id}")
        if self.tracer.enabled:  # (the line is not even made for a tracer that is off)
            self.tracer.record("mkdir", f'"{diff_dir(layer_id)}", 0755')
        self._layers[layer_id] = MemFS(clock=self.clock)
        self._writable.add(layer_id)
        if self.state_dir is not None:
            try:
                self._save(layer_id)
            except BaseException:
                del self._layers[layer_id]
                self._writable.discard(layer_id)
                raise

    def has_layer(self, layer_id: str) -> bool:
        if layer_id in self._layers:
            return True
        path = self._file(layer_id) if layer_id else None
        return path is not None and os.path.exists(path)

    def layers(self) -> list[str]:
        names = set(self._layers)
        if self.state_dir is not None:
            try:
                names.update(
                    urllib.parse.unquote(n)
                    for n in os.listdir(os.path.join(self.state_dir, "layers"))
                    if not n.startswith(".")
                )
            except FileNotFoundError:
                pass
        return sorted(names)

    def layer_files(self, layer_id: str) -> FileOps:
        return self._require(layer_id)

    def changes(self, layer_id: str) -> Iterator[LayerEntry]:
        return entries_from_tree(self._require(layer_id))

    def remove_layer(self, layer_id: str) -> None:
        if self.tracer.enabled and layer_id in self._layers:
            # the Linux backend's line: its layer directory goes, diff and all
            self.tracer.record("remove_layer", f'"{layer_id}", "{diff_dir(layer_id)}"')
        self._layers.pop(layer_id, None)
        self._writable.discard(layer_id)
        path = self._file(layer_id) if layer_id else None
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- mounts ----------------------------------------------------------------------------

    def mount(self, lowers: list[str], upper: str, name: str) -> UnionMount:
        if not lowers:
            # overlayfs refuses a mount without a lower layer.
            raise _err(errno.EINVAL, "overlay: at least one lowerdir is needed")
        if upper in lowers or len(set(lowers)) != len(lowers):
            # "overlayfs: conflicting lowerdir path" -- the kernel says ELOOP.
            raise _err(errno.ELOOP, "overlay: a layer appears twice in the stack")
        upper_fs = self._require(upper)
        lower_fs = [self._require(layer) for layer in lowers]
        target = mount_target(name)
        for mounted, _fs in self._mounts.values():
            if mounted.upper == upper or mounted.target == target:
                # The kernel: "upperdir is in-use as upperdir/workdir of another mount".
                raise _err(errno.EBUSY, f"overlay: upper layer {upper!r} is in use")
        options = overlay_options(lowers, upper, name)
        # mount(2)'s data is the options the kernel then shows in /proc/mounts,
        # without the "rw,relatime" it adds, with the features it turns off.
        data = options.removeprefix("rw,relatime,") + ",index=off,redirect_dir=off"
        self.tracer.record("mount", f'"overlay", "{target}", "overlay", 0, "{data}"')
        mount = UnionMount(target=target, lowers=tuple(lowers), upper=upper, options=options)
        self._mounts[target] = (mount, OverlayFS(lower_fs, upper_fs))
        return mount

    def merged(self, mount: UnionMount) -> FileOps:
        entry = self._mounts.get(mount.target)
        if entry is None:
            raise _err(errno.ENOENT, f"{mount.target} is not mounted")
        return entry[1]

    def unmount(self, mount: UnionMount) -> None:
        entry = self._mounts.pop(mount.target, None)
        if entry is None:
            return
        self.tracer.record("umount2", f'"{mount.target}", 0')
        if self.state_dir is not None:
            for layer_id in (entry[0].upper, *entry[0].lowers):
                if layer_id in self._writable:
                    self._save(layer_id)

    def mounted(self) -> list[UnionMount]:
        return [mount for mount, _fs in self._mounts.values()]
