"""Applets that remove, copy and move files: rm, cp, mv -- with busybox's
order of checks (which decides the message a failure gets) and messages.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    basename,
    close_quietly,
    complain,
    errno_is,
    join,
    parse_options,
    read_chunk,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]


def _lstat_failed(sys: Sys, path: str, e: OSError, force: bool) -> Gen:
    """busybox remove_file(): a missing name is "can't remove" (silent with
    -f); any other lstat error is "can't stat", even with -f."""
    if not errno_is(e, "ENOENT"):
        yield from complain(sys, "rm", f"can't stat '{path}': {strerror(e)}")
        return 1
    if force:
        return 0
    yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
    return 1


def _remove_tree(sys: Sys, path: str, force: bool) -> Gen:
    try:
        st = sys.lstat(path)
    except OSError as e:
        return (yield from _lstat_failed(sys, path, e, force))
    status = 0
    if st.kind.value == "dir":
        try:
            names = sys.listdir(path)
        except OSError as e:
            yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
            return 1
        for name in names:
            status |= yield from _remove_tree(sys, join(path, name), force)
        yield from sys.burn(1)
        try:
            sys.rmdir(path)
        except OSError as e:
            yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
            return 1
        return status
    try:
        sys.unlink(path)
    except OSError as e:
        yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
        return 1
    return 0


@applet("rm")
def rm_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "rm", "firRv")
    if opts is None:
        return 1
    force = "f" in opts
    if not opts.operands:
        if force:
            return 0
        yield from show_usage(sys, "rm")
        return 1
    status = 0
    for path in opts.operands:
        if basename(path) in (".", ".."):
            yield from complain(sys, "rm", "can't remove '.' or '..'")
            status = 1
            continue
        if "r" in opts or "R" in opts:
            status |= yield from _remove_tree(sys, path, force)
            continue
        try:
            st = sys.lstat(path)
        except OSError as e:
            status |= yield from _lstat_failed(sys, path, e, force)
            continue
        if st.kind.value == "dir":
            yield from complain(sys, "rm", f"'{path}' is a directory")
            status = 1
            continue
        try:
            sys.unlink(path)
        except OSError as e:
            yield from complain(sys, "rm", f"can't remove '{path}': {strerror(e)}")
            status = 1
    return status


# -- copying and moving -----------------------------------------------------------------


def _copy_file(sys: Sys, src: str, dst: str, mode: int) -> Gen:
    """Open both, then copy in chunks -- as busybox does, so copying a file
    onto a symlink to itself truncates it first and copies nothing."""
    fd = sys.open(src, O_RDONLY)
    try:
        try:
            wfd = sys.open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode)
        except OSError as e:
            if errno_is(e, "EACCES"):
                sys.unlink(dst)  # cp -f: remove and retry
                wfd = sys.open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode)
            else:
                raise
        try:
            while True:
                chunk = yield from read_chunk(sys, fd)
                if not chunk:
                    break
                yield from write_all(sys, wfd, chunk)
        finally:
            close_quietly(sys, wfd)
    finally:
        close_quietly(sys, fd)


def _copy_tree(
    sys: Sys, prog: str, src: str, dst: str, recursive: bool, keep_links: bool, preserve: bool
) -> Gen:
    try:
        st = sys.lstat(src) if keep_links else sys.stat(src)
    except OSError as e:
        yield from complain(sys, prog, f"can't stat '{src}': {strerror(e)}")
        return 1
    kind = st.kind.value
    try:
        dest_st = sys.lstat(dst)
    except OSError as e:
        if not errno_is(e, "ENOENT"):
            yield from complain(sys, prog, f"can't stat '{dst}': {strerror(e)}")
            return 1
        dest_st = None
    if dest_st is not None and sys.file_id(src, not keep_links) == sys.file_id(dst, False):
        yield from complain(sys, prog, f"'{src}' and '{dst}' are the same file")
        return 1
    try:
        if kind == "dir" and recursive and dest_st is not None and dest_st.kind.value != "dir":
            yield from complain(sys, prog, f"target '{dst}' is not a directory")
            return 1
        if kind == "symlink":
            try:
                sys.unlink(dst)
            except OSError:
                pass
            sys.symlink(sys.readlink(src), dst)
            if preserve:
                yield from _preserve_owner(sys, prog, dst, st)
            return 0
        if kind == "dir":
            if not recursive:
                yield from complain(sys, prog, f"omitting directory '{src}'")
                return 1
            try:
                sys.mkdir(dst, st.mode | 0o700)
            except OSError as e:
                if not errno_is(e, "EEXIST"):
                    raise
            status = 0
            for name in sys.listdir(src):
                status |= yield from _copy_tree(
                    sys, prog, join(src, name), join(dst, name), recursive, keep_links, preserve
                )
            if preserve:
                yield from _preserve_owner(sys, prog, dst, st)
            sys.chmod(dst, st.mode)
            return status
        yield from _copy_file(sys, src, dst, st.mode)
        if preserve:
            yield from _preserve_owner(sys, prog, dst, st)
            sys.chmod(dst, st.mode)  # after the chown, which clears set-id bits
        return 0
    except OSError as e:
        yield from complain(
            sys,
            prog,
            f"can't create '{dst}': {strerror(e)}"
            if not errno_is(e, "ENOENT") or kind != "file"
            else f"can't create '{dst}': {strerror(e)}",
        )
        return 1


def _preserve_owner(sys: Sys, prog: str, dst: str, st) -> Gen:
    """busybox's FILEUTILS_PRESERVE_STATUS (``cp -p``, ``cp -a``, and ``mv``
    across filesystems): lchown the copy to the source's owner; a failure is
    reported and the copy stands."""
    try:
        sys.chown(dst, st.uid, st.gid, follow=False)
    except OSError as e:
        yield from complain(sys, prog, f"can't preserve ownership of '{dst}': {strerror(e)}")


def _cp_mv_stat(sys: Sys, prog: str, path: str, follow: bool = True) -> Gen:
    """busybox's cp_mv_stat(): (ok, exists, is_dir); a failure other than
    ENOENT is reported, ENOTDIR in busybox's verbose wording."""
    try:
        st = sys.stat(path) if follow else sys.lstat(path)
    except OSError as e:
        if errno_is(e, "ENOENT"):
            return True, False, False
        if errno_is(e, "ENOTDIR"):
            yield from complain(sys, prog, f"can't stat '{path}': Path has non-directory component")
        else:
            yield from complain(sys, prog, f"can't stat '{path}': {strerror(e)}")
        return False, False, False
    return True, True, st.kind.value == "dir"


def target_is_dir(sys: Sys, path: str) -> bool:
    try:
        return sys.stat(path).kind.value == "dir"
    except OSError:
        return False


@applet("cp")
def cp_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "cp", "rRaPdpfilnvsLHuT")
    if opts is None:
        return 1
    if len(opts.operands) < 2:
        yield from show_usage(sys, "cp")
        return 1
    *sources, dest = opts.operands
    recursive = bool(opts.flags.keys() & set("rRa"))
    keep_links = bool(opts.flags.keys() & set("aPd")) or (recursive and "L" not in opts)
    preserve = bool(opts.flags.keys() & set("ap"))
    into_dir = target_is_dir(sys, dest)
    if len(sources) > 1 and not into_dir:
        yield from complain(sys, "cp", f"'{dest}' is not a directory")
        return 1
    if len(sources) == 1:
        # busybox copies straight to DEST when neither side is a directory (or
        # when copying a directory -R to a new name); otherwise into DEST/NAME.
        ok, _, src_is_dir = yield from _cp_mv_stat(sys, "cp", sources[0], not keep_links)
        if not ok:
            return 1
        ok, dest_exists, into_dir = yield from _cp_mv_stat(sys, "cp", dest)
        if not ok:
            return 1
        if not (src_is_dir or into_dir) or (recursive and src_is_dir and not dest_exists):
            return (yield from _copy_tree(sys, "cp", sources[0], dest, recursive, keep_links, preserve))
    status = 0
    for src in sources:
        target = join(dest, basename(src.rstrip("/")) or src)
        status |= yield from _copy_tree(sys, "cp", src, target, recursive, keep_links, preserve)
    return status


def _exists(sys: Sys, path: str) -> bool:
    try:
        sys.stat(path)
        return True
    except OSError:
        return False


@applet("mv")
def mv_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "mv", "finvT")
    if opts is None:
        return 1
    if len(opts.operands) < 2:
        yield from show_usage(sys, "mv")
        return 1
    *sources, dest = opts.operands
    ok, _, into_dir = yield from _cp_mv_stat(sys, "mv", dest)
    if not ok:
        return 1
    if len(sources) > 1 and not into_dir:
        yield from complain(sys, "mv", f"'{dest}' is not a directory")
        return 1
    status = 0
    for src in sources:
        target = join(dest, basename(src)) if into_dir else dest
        if "n" in opts:
            try:
                sys.lstat(target)
                continue
            except OSError:
                pass
        try:
            sys.rename(src, target)
        except OSError as e:
            if errno_is(e, "EXDEV"):
                # another filesystem (or a lower overlay layer): copy, then remove
                st = yield from _copy_tree(sys, "mv", src, target, True, True, True)
                if st == 0:
                    st = yield from _remove_tree(sys, src, False)
                status |= st
                continue
            yield from complain(sys, "mv", f"can't rename '{src}': {strerror(e)}")
            status = 1
    return status
