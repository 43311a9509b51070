"""Docker's copy-up: a new, empty volume filled from the image.

``VOLUME /data`` in a Dockerfile, after ``RUN echo seed > /data/seed``: the
image has files at ``/data``, but the container's ``/data`` is a volume, a
directory outside the layer stack.  So that the container still finds the
image's files there, Docker copies them into the volume when the container
is created -- only if the volume is empty (a volume that already holds data
keeps it), with owners, modes and times, and the volume's top directory
takes the owner and mode of the image's directory.  ``--mount
...,volume-nocopy`` (``-v name:/data:nocopy``) skips it; a bind mount never
copies: it shows the host's directory as it is.
"""

from __future__ import annotations

import posixpath

from stepbox.core.kernel.unionfs import EntryKind, FileOps, StatResult


def copy_into_empty(src: FileOps, src_dir: str, dst: FileOps) -> bool:
    """Copy the tree at ``src_dir`` into the root of ``dst`` if ``dst`` is
    empty and ``src_dir`` is a directory; whether it copied."""
    try:
        top = src.stat(src_dir)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if top.kind is not EntryKind.DIR or dst.listdir("/"):
        return False
    copy_tree(src, src_dir, dst, "/")
    dst.chown("/", top.uid, top.gid)
    dst.chmod("/", top.mode)
    return True


def copy_tree(src: FileOps, src_dir: str, dst: FileOps, dst_dir: str) -> None:
    """``cp -a src_dir/. dst_dir``: files, directories and symlinks with
    their owners, modes and modification times; hard links stay hard links
    (where the source tells inode numbers).  Device nodes are not copied:
    :class:`FileOps` cannot make them."""
    linked: dict[int, str] = {}
    directories: list[tuple[str, StatResult]] = []
    stack = [(src_dir, dst_dir)]
    while stack:
        src_path, dst_path = stack.pop()
        for name in sorted(src.listdir(src_path)):
            s, d = posixpath.join(src_path, name), posixpath.join(dst_path, name)
            st = src.lstat(s)
            if st.kind is EntryKind.DIR:
                dst.mkdir(d, 0o700)
                directories.append((d, st))
                stack.append((s, d))
                continue
            if st.kind is EntryKind.SYMLINK:
                dst.symlink(src.readlink(s), d)
                dst.chown(d, st.uid, st.gid)
                dst.set_mtime(d, st.mtime)
                continue
            if st.is_device:
                continue
            if st.nlink > 1 and st.ino and st.ino in linked:
                dst.link(linked[st.ino], d)
                continue
            dst.write(d, src.read(s), mode=0o600)
            dst.chown(d, st.uid, st.gid)  # before chmod: chown clears set-user-ID
            dst.chmod(d, st.mode)
            dst.set_mtime(d, st.mtime)
            if st.nlink > 1 and st.ino:
                linked[st.ino] = d
    # Directories last, deepest first: adding their entries moved their times.
    for d, st in reversed(directories):
        dst.chown(d, st.uid, st.gid)
        dst.chmod(d, st.mode)
        dst.set_mtime(d, st.mtime)
