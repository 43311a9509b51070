"""``LinuxUnionFS``: image layers as directories, stacked with overlayfs.

Layout under ``state_dir/overlay`` (close to Docker's overlay2 driver)::

    layers/<dir>/diff     the layer's files (what overlayfs calls a lower or upper dir)
    layers/<dir>/id       the layer id (<dir> is the id when it is a safe file name)
    layers/<dir>/link     a short name, see "Deep stacks" below
    l/<short>             symlink -> ../layers/<dir>/diff
    mounts/<name>/merged  where the stack is mounted (the container's rootfs)
    mounts/<name>/work    overlayfs's scratch dir (must be on the upper's filesystem)
    mounts/<name>/mount.json   what was mounted, so a later program can list it

**Whiteouts.** overlayfs marks a deleted name in an upper dir with a
*character device 0/0*, and a directory whose lower contents are hidden
with the xattr ``trusted.overlay.opaque="y"``.  Importing a changeset creates
exactly those; :meth:`changes` reads them back.

**Deep stacks.** All mount options must fit in one page (4096 bytes).
With long state paths a few dozen layers do not fit, so -- as Docker does --
each layer also gets a short symlink ``l/<short>``, and the mount is then
done with *relative* paths (``lowerdir=l/ab12:l/cd34``) from a child process
that first ``chdir``-s to the overlay directory (mount(2) resolves relative
paths against the caller's working directory; a child keeps our own cwd
untouched).  That also avoids escaping ``:`` and ``,`` in state paths.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat as statmod
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from stepbox.core.kernel.atomic import atomic_write
from stepbox.core.kernel.contents import Contents
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.trace import Tracer
from stepbox.core.kernel.unionfs import (
    EntryKind,
    FileMeta,
    FileOps,
    LayerEntry,
    UnionFS,
    UnionMount,
    entry_parts,
)

from . import libc
from .fileops import HostFileOps
from .procfs import read_mountinfo, start_time
from .rootless import in_initial_user_namespace

PAGE_LIMIT = 4096 - 1  # mount(2) copies at most one page of options, NUL included
OPAQUE_XATTR = "trusted.overlay.opaque"
# In a user namespace (rootless) trusted.* xattrs are root's alone: overlayfs
# then keeps its marks in user.* xattrs, when mounted with "userxattr".
USER_OPAQUE_XATTR = "user.overlay.opaque"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
# Options we always pass so behaviour does not depend on the host's module
# defaults: no redirect_dir means renaming a lower directory is EXDEV, as the
# UnionFS contract says; no index keeps hard-link copy-up simple.
_FIXED_OPTIONS = "index=off,redirect_dir=off"


def private(path: str, mode: int) -> None:
    """chmod, if the mode is not that already (state dirs made by an older
    stepbox were 0755)."""
    if statmod.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)


def _fixed_options() -> str:
    """In a user namespace overlayfs wants "userxattr", and with it refuses to
    follow redirects (redirect_dir=off means "make none, follow old ones"):
    nofollow makes none and follows none -- renaming a lower directory is
    EXDEV just the same."""
    if in_initial_user_namespace():
        return _FIXED_OPTIONS
    return "index=off,redirect_dir=nofollow,userxattr"


def opaque_xattr() -> str:
    """The xattr that marks an opaque directory, for the overlay mounts this process makes."""
    return OPAQUE_XATTR if in_initial_user_namespace() else USER_OPAQUE_XATTR


def _dir_name(layer_id: str) -> str:
    """A file name for a layer id ("sha256:ab.." has a ':', which would
    split overlayfs's lowerdir list)."""
    if _SAFE_NAME.fullmatch(layer_id) and layer_id not in (".", ".."):
        return layer_id
    import hashlib  # here: stepbox-runc's commands import this module but name no layers

    digest = hashlib.sha256(layer_id.encode()).hexdigest()[:16]
    return "x-" + re.sub(r"[^A-Za-z0-9_.-]", "_", layer_id)[:64] + "-" + digest


def _check_name(kind: str, name: str) -> None:
    if not _SAFE_NAME.fullmatch(name):
        raise KernelError(f"invalid {kind} {name!r}: use letters, digits, '_', '.', '-'")


def _owner_tag() -> str:
    """``PID-STARTTIME-RANDOM``: names a temporary directory after the
    process that owns it, so a sweep can tell a crashed owner's leftovers
    from another program's work in progress."""
    me = os.getpid()
    # os.urandom(n).hex() is secrets.token_hex(n), without importing hashlib and hmac
    return f"{me}-{start_time(me)}-{os.urandom(4).hex()}"


def _owner_alive(tag: str) -> bool:
    try:
        pid, start, _ = tag.split("-", 2)
        return start_time(int(pid)) == int(start)
    except ValueError:
        return False


class _Extractor:
    """Writes changeset entries below a directory fd without ever following
    a symlink: each path component is opened with O_NOFOLLOW relative to
    the previous one, so a layer cannot plant ``a -> /etc`` and then write
    ``a/passwd``."""

    def __init__(self, root: str):
        self.rootfd = os.open(root, os.O_DIRECTORY | os.O_PATH | os.O_CLOEXEC)
        self.dirs: list[tuple[list[str], LayerEntry]] = []

    def close(self) -> None:
        os.close(self.rootfd)

    def _parent(self, parts: list[str]) -> int:
        fd = os.dup(self.rootfd)
        try:
            for comp in parts[:-1]:
                try:
                    nfd = os.open(comp, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                except FileNotFoundError:
                    os.mkdir(comp, 0o755, dir_fd=fd)  # implicit parent, like tar
                    nfd = os.open(comp, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                except OSError as e:
                    if e.errno in (errno.ENOTDIR, errno.ELOOP):
                        raise KernelError(
                            f"refusing layer entry below {comp!r}: it is not a "
                            f"directory (a symlink must not be followed)"
                        ) from e
                    raise
                os.close(fd)
                fd = nfd
            return fd
        except BaseException:
            os.close(fd)
            raise

    @staticmethod
    def _clear(fd: int, name: str, keep_dir: bool) -> None:
        """Remove what is at ``name`` (a later entry replaces an earlier one)."""
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if statmod.S_ISDIR(st.st_mode):
            if not keep_dir:
                shutil.rmtree(name, dir_fd=fd)
        else:
            os.unlink(name, dir_fd=fd)

    def add(self, e: LayerEntry) -> None:
        parts = entry_parts(e.path)
        fd = self._parent(parts)
        name = parts[-1]
        try:
            self._clear(fd, name, keep_dir=e.kind == EntryKind.DIR)
            if e.kind == EntryKind.DIR:
                try:
                    os.mkdir(name, 0o700, dir_fd=fd)
                except FileExistsError:
                    pass  # an earlier entry made it: update it
                os.chown(name, e.uid, e.gid, dir_fd=fd, follow_symlinks=False)
                os.chmod(name, e.mode & 0o7777, dir_fd=fd)
                if e.opaque:
                    dfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                    try:
                        os.setxattr(dfd, opaque_xattr(), b"y")
                    finally:
                        os.close(dfd)
                self.dirs.append((parts, e))  # mtime set last: children change it
            elif e.kind == EntryKind.FILE:
                ffd = os.open(
                    name,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600,
                    dir_fd=fd,
                )
                try:
                    for piece in e.contents.chunks():  # a piece at a time: files may be big
                        view = memoryview(piece)
                        while view:
                            view = view[os.write(ffd, view) :]
                    os.fchown(ffd, e.uid, e.gid)
                    os.fchmod(ffd, e.mode & 0o7777)  # after chown, which clears setuid
                    os.utime(ffd, (e.mtime, e.mtime))
                finally:
                    os.close(ffd)
            elif e.kind == EntryKind.SYMLINK:
                os.symlink(e.link, name, dir_fd=fd)
                os.chown(name, e.uid, e.gid, dir_fd=fd, follow_symlinks=False)
                os.utime(name, (e.mtime, e.mtime), dir_fd=fd, follow_symlinks=False)
            elif e.kind == EntryKind.HARDLINK:
                src = entry_parts(e.link)
                sfd = self._parent(src)
                try:
                    os.link(src[-1], name, src_dir_fd=sfd, dst_dir_fd=fd, follow_symlinks=False)
                finally:
                    os.close(sfd)
            elif e.kind == EntryKind.WHITEOUT:
                # overlayfs's whiteout: a character device with device number 0/0.
                os.mknod(name, statmod.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=fd)
            else:
                raise KernelError(f"unknown layer entry kind {e.kind!r}")
        finally:
            os.close(fd)

    def finish(self) -> None:
        for parts, e in sorted(self.dirs, key=lambda pe: -len(pe[0])):
            fd = self._parent(parts)
            try:
                os.utime(parts[-1], (e.mtime, e.mtime), dir_fd=fd, follow_symlinks=False)
            finally:
                os.close(fd)


class LayerFile(Contents):
    """A regular file of a layer directory, opened only when its contents
    are read (an export or a commit copies them piece by piece).  A running
    container may have replaced it meanwhile -- by a FIFO (an open would
    block), or a directory above it by a symlink to the host's /etc: so it
    is opened inside the layer (openat2 RESOLVE_IN_ROOT), non-blocking, and
    only if it is still the inode that was listed; otherwise it is gone."""

    def __init__(self, diff: str, rel: str, size: int, inode: tuple[int, int]):
        self.diff, self.rel, self.size, self.inode = diff, rel, size, inode

    def open(self) -> BinaryIO:
        gone = FileNotFoundError(errno.ENOENT, f"{self.rel} changed since the layer was read")
        root = os.open(self.diff, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW
            fd = libc.openat2(root, self.rel, flags, 0, libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
                raise gone from None
            raise
        finally:
            os.close(root)
        st = os.fstat(fd)
        if not statmod.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != self.inode:
            os.close(fd)
            raise gone
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")


def read_changes(diff: str) -> Iterator[LayerEntry]:
    """A directory read back as a changeset (parents first, sorted); the
    files' contents are read later, when they are written out (:class:`LayerFile`)."""
    items: list[tuple[tuple[str, ...], str]] = []

    def scan(rel: tuple[str, ...], path: str) -> None:
        with os.scandir(path) as it:
            for d in it:
                sub = rel + (d.name,)
                items.append((sub, d.path))
                if d.is_dir(follow_symlinks=False):
                    scan(sub, d.path)

    scan((), diff)
    items.sort()
    first_path_of_inode: dict[tuple[int, int], str] = {}
    for rel, full in items:
        path = "/".join(rel)
        st = os.lstat(full)
        mode = st.st_mode
        common = FileMeta(mode=statmod.S_IMODE(mode), uid=st.st_uid, gid=st.st_gid, mtime=st.st_mtime)
        if statmod.S_ISCHR(mode) and st.st_rdev == 0:
            yield LayerEntry(path, EntryKind.WHITEOUT)
        elif statmod.S_ISDIR(mode):
            try:
                opaque = os.getxattr(full, opaque_xattr(), follow_symlinks=False) == b"y"
            except OSError:
                opaque = False
            yield LayerEntry(path, EntryKind.DIR, opaque=opaque, **common)
        elif statmod.S_ISLNK(mode):
            yield LayerEntry(path, EntryKind.SYMLINK, link=os.readlink(full), **common)
        elif statmod.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in first_path_of_inode:
                yield LayerEntry(path, EntryKind.HARDLINK, link=first_path_of_inode[key], **common)
                continue
            first_path_of_inode[key] = path
            contents = LayerFile(diff, path, st.st_size, key)
            yield LayerEntry(path, EntryKind.FILE, contents=contents, **common)
        # other device nodes, fifos and sockets cannot be expressed in a changeset: skipped


class LinuxUnionFS(UnionFS):
    def __init__(self, state_dir: str, tracer: Tracer | None = None):
        self.top = os.path.join(os.path.abspath(state_dir), "overlay")
        self.tracer = tracer or Tracer(enabled=False)
        for sub in ("layers", "mounts", "l", "empty"):
            os.makedirs(os.path.join(self.top, sub), exist_ok=True)
        # Only root gets in: a container's files (a setuid binary it wrote, a
        # secret in a layer) must not be reachable by other users of the
        # host.  The way to a rootfs is 0710 so that the root of a user
        # namespace can be let through by group (chgrp), as Docker does with
        # userns-remap; layers stay 0700 (overlayfs reads them as the mounter).
        private(self.top, 0o710)
        private(os.path.join(self.top, "mounts"), 0o710)
        for sub in ("layers", "l", "empty"):
            private(os.path.join(self.top, sub), 0o700)

    # -- paths ------------------------------------------------------------------
    def _layer_dir(self, layer_id: str) -> str:
        return os.path.join(self.top, "layers", _dir_name(layer_id))

    def diff_dir(self, layer_id: str) -> str:
        return os.path.join(self._layer_dir(layer_id), "diff")

    def _mount_dir(self, name: str) -> str:
        return os.path.join(self.top, "mounts", name)

    def _require(self, layer_id: str) -> str:
        if not self.has_layer(layer_id):
            raise FileNotFoundError(errno.ENOENT, f"no such layer: {layer_id}")
        return self._layer_dir(layer_id)

    # -- layers -----------------------------------------------------------------
    def _new_layer(self, layer_id: str, fill) -> None:
        final = self._layer_dir(layer_id)
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, f"layer already exists: {layer_id}")
        tmp = os.path.join(self.top, "layers", f".tmp-{_owner_tag()}")
        short = os.urandom(6).hex()
        link = os.path.join(self.top, "l", short)
        try:
            os.mkdir(tmp, 0o700)
            os.mkdir(os.path.join(tmp, "diff"), 0o755)
            fill(os.path.join(tmp, "diff"))
            with open(os.path.join(tmp, "id"), "w") as f:
                f.write(layer_id)
            with open(os.path.join(tmp, "link"), "w") as f:
                f.write(short)
            os.symlink(f"../layers/{os.path.basename(final)}/diff", link)
            os.rename(tmp, final)  # the atomic step: the layer now exists
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if os.path.lexists(link) and not os.path.exists(final):
                os.unlink(link)
            raise

    def import_layer(self, layer_id: str, entries: Iterable[LayerEntry]) -> None:
        def fill(diff: str) -> None:
            ex = _Extractor(diff)
            try:
                for entry in entries:
                    ex.add(entry)
                ex.finish()
            finally:
                ex.close()

        self.tracer.record("import_layer", f'"{layer_id}" -> {self.diff_dir(layer_id)}')
        self._new_layer(layer_id, fill)

    def create_layer(self, layer_id: str) -> None:
        self.tracer.record("mkdir", f'"{self.diff_dir(layer_id)}", 0755')
        self._new_layer(layer_id, lambda diff: None)

    def has_layer(self, layer_id: str) -> bool:
        return os.path.isfile(os.path.join(self._layer_dir(layer_id), "id"))

    def layers(self) -> list[str]:
        ids = []
        base = os.path.join(self.top, "layers")
        for d in os.listdir(base):
            if d.startswith("."):
                continue
            try:
                with open(os.path.join(base, d, "id")) as f:
                    ids.append(f.read())
            except OSError:
                pass
        return sorted(ids)

    def layer_files(self, layer_id: str) -> FileOps:
        return HostFileOps(os.path.join(self._require(layer_id), "diff"))

    def changes(self, layer_id: str) -> Iterator[LayerEntry]:
        return read_changes(os.path.join(self._require(layer_id), "diff"))

    def remove_layer(self, layer_id: str) -> None:
        d = self._layer_dir(layer_id)
        if not os.path.lexists(d):
            return
        # one line for what is a rename and a whole tree's unlinks (shown by stepbox step's undo)
        self.tracer.record("remove_layer", f'"{layer_id}", "{self.diff_dir(layer_id)}"')
        try:
            with open(os.path.join(d, "link")) as f:
                short = f.read().strip()
            os.unlink(os.path.join(self.top, "l", short))
        except OSError:
            pass
        trash = os.path.join(self.top, "layers", f".trash-{_owner_tag()}")
        try:
            os.rename(d, trash)  # gone from view at once, then deleted
        except FileNotFoundError:
            return  # another thread removed it meanwhile (a prune and an rm)
        shutil.rmtree(trash)

    # -- mounts -----------------------------------------------------------------
    def _options(self, lowers: list[str], upper: str, work: str, short: bool) -> str:
        if short:

            def path(layer_id: str) -> str:
                with open(os.path.join(self._layer_dir(layer_id), "link")) as f:
                    return "l/" + f.read().strip()

            lower = ":".join(path(l) for l in lowers) if lowers else "empty"
            up = path(upper)
            wk = os.path.relpath(work, self.top)
        else:
            lower = ":".join(self.diff_dir(l) for l in lowers) if lowers else os.path.join(self.top, "empty")
            up, wk = self.diff_dir(upper), work
        return f"lowerdir={lower},upperdir={up},workdir={wk},{_fixed_options()}"

    def mount(self, lowers: list[str], upper: str, name: str) -> UnionMount:
        _check_name("mount name", name)
        for layer in [*lowers, upper]:
            self._require(layer)
        if upper in lowers:
            raise KernelError(f"layer {upper} cannot be both a lower layer and the upper layer")
        mdir = self._mount_dir(name)
        merged, work = os.path.join(mdir, "merged"), os.path.join(mdir, "work")
        if self._is_mounted(merged):
            raise OSError(errno.EBUSY, f"{name} is already mounted", merged)
        os.makedirs(merged, exist_ok=True)
        os.makedirs(work, exist_ok=True)
        private(mdir, 0o710)
        options = self._options(lowers, upper, work, short=False)
        needs_short = len(options) > PAGE_LIMIT or re.search(r"[:,\\]", self.top)
        if needs_short:
            options = self._options(lowers, upper, work, short=True)
            if len(options) > PAGE_LIMIT:
                raise KernelError(f"too many layers ({len(lowers)}) for one overlay mount")
            self.tracer.record("chdir", f'"{self.top}"')
            self.tracer.record("mount", f'"overlay", "{merged}", "overlay", 0, "{options}"')
            self._mount_from(self.top, merged, options)
        else:
            self.tracer.record("mount", f'"overlay", "{merged}", "overlay", 0, "{options}"')
            libc.mount("overlay", merged, "overlay", 0, options)
        record = {"name": name, "target": merged, "lowers": list(lowers), "upper": upper}
        atomic_write(os.path.join(mdir, "mount.json"), json.dumps(record).encode())
        return UnionMount(
            target=merged, lowers=tuple(lowers), upper=upper, options=self._kernel_options(merged) or options
        )

    @staticmethod
    def _mount_from(cwd: str, target: str, options: str) -> None:
        """mount(2) with paths relative to ``cwd``, done in a child so our
        own working directory never changes (other threads rely on it)."""
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.chdir(cwd)
                libc.mount("overlay", target, "overlay", 0, options)
            except OSError as e:
                code = e.errno or 1
            except BaseException:
                code = 255
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code:
            raise OSError(code, f"mount overlay: {os.strerror(code)}", target)

    @staticmethod
    def _mountinfo_targets() -> dict[str, str]:
        return {m.mountpoint: m.super_options for m in read_mountinfo() if m.fstype == "overlay"}

    def _is_mounted(self, target: str) -> bool:
        return target in self._mountinfo_targets()

    def _kernel_options(self, target: str) -> str | None:
        return self._mountinfo_targets().get(target)

    def merged(self, mount: UnionMount) -> FileOps:
        return HostFileOps(mount.target)

    def unmount(self, mount: UnionMount) -> None:
        self.tracer.record("umount2", f'"{mount.target}", 0')
        for _ in range(16):  # also anything stacked on top
            try:
                libc.umount2(mount.target, 0)
            except OSError as e:
                if e.errno in (errno.EINVAL, errno.ENOENT):
                    break  # not (or no longer) a mount point
                if e.errno == errno.EBUSY:
                    # Someone's cwd or open file is inside: detach it from the
                    # tree now; the kernel frees it when the last user is gone.
                    self.tracer.record("umount2", f'"{mount.target}", MNT_DETACH')
                    libc.umount2(mount.target, libc.MNT_DETACH)
                else:
                    raise
        mdir = os.path.dirname(mount.target)
        if os.path.dirname(mdir) == os.path.join(self.top, "mounts"):
            shutil.rmtree(mdir, ignore_errors=True)

    def mounted(self) -> list[UnionMount]:
        targets = self._mountinfo_targets()
        result = []
        base = os.path.join(self.top, "mounts")
        for name in sorted(os.listdir(base)):
            try:
                with open(os.path.join(base, name, "mount.json")) as f:
                    rec = json.load(f)
            except (OSError, ValueError):
                continue
            if rec["target"] in targets:
                result.append(
                    UnionMount(
                        target=rec["target"],
                        lowers=tuple(rec["lowers"]),
                        upper=rec["upper"],
                        options=targets[rec["target"]],
                    )
                )
        return result

    def sweep(self) -> list[str]:
        """Remove what a crashed program left: half-imported layers
        (``.tmp-*``) and half-deleted ones (``.trash-*``) whose owner process
        is gone, and mount dirs of stacks that were mounted (they have a
        ``mount.json``) but are not any more (a crash, a reboot).  Safe while
        other programs use the same state dir.  Returns what it removed."""
        removed = []
        layers = os.path.join(self.top, "layers")
        for d in os.listdir(layers):
            for prefix in (".tmp-", ".trash-"):
                if d.startswith(prefix) and not _owner_alive(d[len(prefix) :]):
                    shutil.rmtree(os.path.join(layers, d), ignore_errors=True)
                    removed.append(os.path.join(layers, d))
        targets = self._mountinfo_targets()
        base = os.path.join(self.top, "mounts")
        for name in os.listdir(base):
            mdir = os.path.join(base, name)
            if (
                os.path.exists(os.path.join(mdir, "mount.json"))
                and os.path.join(mdir, "merged") not in targets
            ):
                shutil.rmtree(mdir, ignore_errors=True)
                removed.append(mdir)
        return removed

    def remove_all_mount_dirs(self) -> list[str]:
        """For a full clean-up (nothing else uses the state dir): every
        mount dir that is not mounted, record or not."""
        targets = self._mountinfo_targets()
        base = os.path.join(self.top, "mounts")
        removed = []
        for name in os.listdir(base):
            mdir = os.path.join(base, name)
            if os.path.join(mdir, "merged") not in targets:
                shutil.rmtree(mdir, ignore_errors=True)
                removed.append(mdir)
        return removed
