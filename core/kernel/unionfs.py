"""The union filesystem: a container's root as a stack of layers.

The seed: "UnionFS可以把文件系统上的多个目录内容联合挂载到同一目录下" -- several
directories are mounted together at one place, although they live apart.  The
image's layers are read-only *lower* layers; on top Docker puts the container's
*init layer* (hostname, hosts, resolv.conf) and its *read-write layer*.

Semantics are overlayfs's (``Documentation/filesystems/overlayfs.rst``):

* lookup goes top-down; the first layer that has a name wins;
* a *whiteout* in an upper layer hides the name in every layer below it;
* an *opaque* directory hides everything below it at that path;
* writing to a lower file first copies it up into the upper layer;
* ``rmdir`` of a non-empty merged directory is ``ENOTEMPTY``; renaming a
  directory that exists in a lower layer is ``EXDEV``.

A layer is exchanged as a *changeset*: a sequence of :class:`LayerEntry`, the
same thing an image layer tar holds (whiteouts as ``.wh.NAME``, opaque
directories as ``.wh..wh..opq``); ``core.image`` converts tars to entries and
back, and checks them for escapes before any backend sees them.
"""

from __future__ import annotations

import enum
import errno
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypedDict

from .contents import EMPTY, Bytes, Contents
from .errors import KernelError


class EntryKind(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    SOCKET = "socket"  # a bound AF_UNIX socket's name (the simulator's /dev/log)
    HARDLINK = "hardlink"  # only in changesets: "same inode as `link`"
    WHITEOUT = "whiteout"  # only in changesets: "this name is deleted"


class FileMeta(TypedDict):
    """Permission bits, owner and modification time: what every kind of entry
    carries (``LayerEntry(path, kind, **meta)``)."""

    mode: int
    uid: int
    gid: int
    mtime: float


@dataclass(frozen=True, init=False)
class LayerEntry:
    """One entry of a layer changeset.  ``path`` is relative ("etc/hosts").

    A FILE's contents are a :class:`~.contents.Contents` (``contents``): its
    size and a way to open it, read when the file is written somewhere --
    never all files of a layer in memory at once.  ``data=b"..."`` makes
    contents held in memory (small files stepbox writes itself); the ``data``
    attribute reads the contents whole, for small files and tests."""

    path: str
    kind: EntryKind
    mode: int  # permission bits (07777)
    uid: int
    gid: int
    mtime: float
    link: str  # SYMLINK target, or HARDLINK: path of the entry it links to
    opaque: bool  # DIR only: hides lower layers' contents at this path
    contents: Contents  # FILE only

    def __init__(
        self,
        path: str,
        kind: EntryKind,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        mtime: float = 0.0,
        data: bytes | None = None,
        link: str = "",
        opaque: bool = False,
        contents: Contents | None = None,
    ):
        if data is not None:  # (wins over contents: dataclasses.replace(e, data=...) passes both)
            contents = Bytes(data) if data else EMPTY
        elif contents is None:
            contents = EMPTY
        for name, value in (
            ("path", path),
            ("kind", kind),
            ("mode", mode),
            ("uid", uid),
            ("gid", gid),
            ("mtime", mtime),
            ("link", link),
            ("opaque", opaque),
            ("contents", contents),
        ):
            object.__setattr__(self, name, value)

    @property
    def data(self) -> bytes:
        """The whole contents, read now (see the class's docstring)."""
        return self.contents.read()

    @property
    def size(self) -> int:
        return self.contents.size


def entry_parts(path: str) -> list[str]:
    """A layer entry's path (or a hard link's target) as names: relative, no
    "..", nothing empty -- so no entry of a hostile layer writes outside it
    (``../../etc/passwd``).  Every backend checks every entry it imports."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if path.startswith("/") or not parts or ".." in parts:
        raise KernelError(f"refusing layer entry {path!r}: paths must be relative and stay inside the layer")
    return parts


@dataclass(frozen=True)
class StatResult:
    """What lstat(2) tells a user that both backends can agree on (no inode
    numbers or times: those legitimately differ)."""

    kind: EntryKind  # FILE, DIR or SYMLINK (also "chardev" for devices: see `is_device`)
    mode: int  # permission bits (07777)
    uid: int
    gid: int
    size: int
    nlink: int
    is_device: bool = False
    # For archives (``docker cp``), never compared: times and inode numbers
    # legitimately differ between the kernels.
    mtime: float = field(default=0.0, compare=False)
    ino: int = field(default=0, compare=False)  # 0: unknown (hard links not detected)


class FileOps(ABC):
    """File operations on one directory tree, with absolute paths inside it
    ("/etc/hostname").  Errors are :class:`OSError` with the kernel's errno."""

    @abstractmethod
    def lstat(self, path: str) -> StatResult: ...

    @abstractmethod
    def stat(self, path: str) -> StatResult: ...

    @abstractmethod
    def listdir(self, path: str) -> list[str]:
        """Names in a directory, in the order the filesystem gives (unsorted)."""

    @abstractmethod
    def read(self, path: str) -> bytes: ...

    @abstractmethod
    def write(self, path: str, data: bytes, *, append: bool = False, mode: int = 0o644) -> None:
        """open(O_WRONLY|O_CREAT|(O_APPEND or O_TRUNC), mode) + write + close."""

    @abstractmethod
    def truncate(self, path: str, size: int) -> None: ...

    @abstractmethod
    def mkdir(self, path: str, mode: int = 0o755) -> None: ...

    @abstractmethod
    def rmdir(self, path: str) -> None: ...

    @abstractmethod
    def unlink(self, path: str) -> None: ...

    @abstractmethod
    def rename(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def symlink(self, target: str, path: str) -> None: ...

    @abstractmethod
    def link(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def readlink(self, path: str) -> str: ...

    @abstractmethod
    def chmod(self, path: str, mode: int) -> None: ...

    @abstractmethod
    def chown(self, path: str, uid: int, gid: int) -> None:
        """lchown(2): does not follow a final symlink."""

    def set_mtime(self, path: str, mtime: float) -> None:
        """utimensat(2) with AT_SYMLINK_NOFOLLOW: set the modification time
        (what extracting an archive does for every entry).  A filesystem
        that cannot refuses with EPERM."""
        raise OSError(errno.EPERM, "this filesystem keeps no modification times", path)

    def exists(self, path: str) -> bool:
        try:
            self.lstat(path)
        except OSError:
            return False
        return True

    def make_names(self, names: Iterable[NewName]) -> None:
        """Make each name in turn, as mkdir, write + chmod and symlink do
        (what the container's init layer holds).  A backend may make them
        from the directories it just made instead of walking each path from
        the root; the result and the errors must be the same."""
        for new in names:
            if new.kind is EntryKind.DIR:
                self.mkdir(new.path, new.mode)
            elif new.kind is EntryKind.FILE:
                self.write(new.path, b"", mode=new.mode)
                self.chmod(new.path, new.mode)  # whatever the umask
            elif new.kind is EntryKind.SYMLINK:
                self.symlink(new.target, new.path)
            else:
                raise ValueError(f"make_names makes no {new.kind}")


@dataclass(frozen=True)
class NewName:
    """One name for :meth:`FileOps.make_names`: a directory, an empty file
    of exactly ``mode`` (whatever the umask), or a symlink to ``target``."""

    path: str
    kind: EntryKind
    mode: int = 0o755
    target: str = ""


@dataclass(frozen=True)
class UnionMount:
    """A mounted layer stack.  ``target`` is where it is mounted (a host path
    on Linux, a path in the simulated host's mount namespace on the sim)."""

    target: str
    lowers: tuple[str, ...]  # layer ids, top-most first (overlayfs lowerdir order)
    upper: str  # layer id of the read-write layer
    options: str  # the mount options as the kernel shows them


class UnionFS(ABC):
    """Layers by id, and mounting stacks of them.  Read-only layers are
    imported once and shared by every image and container that uses them."""

    @abstractmethod
    def import_layer(self, layer_id: str, entries: Iterable[LayerEntry]) -> None:
        """Materialise a read-only layer from a changeset.  Atomic: on error
        nothing named ``layer_id`` exists afterwards."""

    @abstractmethod
    def create_layer(self, layer_id: str) -> None:
        """An empty writable layer (a container's init or read-write layer)."""

    @abstractmethod
    def has_layer(self, layer_id: str) -> bool: ...

    @abstractmethod
    def layers(self) -> list[str]: ...

    @abstractmethod
    def layer_files(self, layer_id: str) -> FileOps:
        """Direct access to one layer's own files (not the merged view);
        used to write the init layer before anything is mounted."""

    @abstractmethod
    def changes(self, layer_id: str) -> Iterator[LayerEntry]:
        """The layer read back as a changeset: exactly what overlayfs left in
        an upper dir, whiteouts as WHITEOUT entries and opaque dirs flagged,
        in a deterministic (sorted, parents first) order."""

    @abstractmethod
    def mount(self, lowers: list[str], upper: str, name: str) -> UnionMount:
        """Mount ``lowers`` (top-most first) under the writable ``upper``.
        ``name`` makes the target unique (the container id)."""

    @abstractmethod
    def merged(self, mount: UnionMount) -> FileOps:
        """File operations on the merged view of a mount."""

    @abstractmethod
    def unmount(self, mount: UnionMount) -> None:
        """Unmount; not an error if it is not mounted (idempotent undo)."""

    @abstractmethod
    def mounted(self) -> list[UnionMount]:
        """Every stack this backend has mounted (for leak checks)."""

    @abstractmethod
    def remove_layer(self, layer_id: str) -> None:
        """Delete a layer; not an error if it does not exist."""
