"""execve(2): turning a file into a running program.

The kernel finds the file (in the caller's mount namespace, following
symlinks), checks it may be executed (a regular file, an x bit, not on a
``noexec`` mount), reads its first bytes and asks each *binary format
handler* in turn whether it knows the format -- the ``binfmt`` list:

* ``#!`` scripts (binfmt_script): run the interpreter named on the first
  line, with the script's path as an argument;
* registered formats (binfmt_misc): the simulator lets tests register
  programs under a magic prefix (:meth:`SimKernel.register_program`);
* busybox: the userland recognises the real ELF busybox binary or the
  simulator's stand-in, and picks the applet by ``basename(argv[0])``.

No handler: ENOEXEC ("exec format error").
"""

from __future__ import annotations

import errno
import functools
from typing import TYPE_CHECKING

from stepbox.core.kernel.unionfs import EntryKind

from .flow import oserror
from .memfs import InodeKind, MemFS
from .namei import path_walk
from .overlay import OverlayFS
from .sys_api import Program

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import SimKernel
    from .process_table import Process

MAX_SCRIPT_DEPTH = 4  # BINPRM_MAX_RECURSION: #! scripts nest at most this deep
MISC_MAGIC = b"\x7fSIMPROG "  # the registered-program format: magic + name + "\n"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def file_data(fs, path: str):
    """The file's bytes without copying them when the filesystem can hand
    out its inode (a busybox binary is 2 MB; exec must not copy it)."""
    lookup = getattr(fs, "lookup", None)
    if lookup is not None:
        node = lookup(path)
        data = getattr(node, "data", None)
        if isinstance(data, (bytes, bytearray)):
            return data
    return fs.read(path)


def inode(fs, path: str):
    """The inode at ``path`` (not following a last symlink) of a MemFS or
    an overlay -- in the overlay, the one that shows (upper copy or lower),
    which is what its lstat describes but for a merged directory's nlink;
    None for any other filesystem (procfs, a host directory), whose lstat
    is the only answer."""
    if fs.__class__ is MemFS or fs.__class__ is OverlayFS:
        return fs.lookup(path, False)
    return None


def load(
    k: SimKernel, proc: Process, path: str, argv: list[str], depth: int = 0, at=None, found=None
) -> tuple[Program, str, list[str]]:
    """Find and recognise the program: (program, path executed, argv).
    ``at`` is an already resolved directory (a Loc) holding ``path``'s last
    name, as execvp's search gives it; ``found`` the file's own Loc when
    the search has resolved it already."""
    vfs = k.vfs
    if path == "/proc/self/exe" and proc.exe_data is not None:
        # A magic link to the running program's file, not a path: it works
        # even after that file was deleted (busybox's shell relies on it).
        program = k.recognise(proc.exe_data, argv[0] if argv else path)
        if program is not None:
            return program, proc.exe, list(argv)  # /proc/PID/exe still names that file
    if found is not None:
        loc = found
    elif at is None:
        loc = vfs.walk(proc, path, True)
    else:
        loc = vfs.walk_at(proc, at, path.rsplit("/", 1)[-1], True)
    fs, mount = vfs.fs_of(proc, loc)
    node = inode(fs, loc[1])
    if node is not None:
        # One lookup gives what lstat would say and the bytes (lstat, then
        # a second walk for the data, was a good part of every exec).  A
        # regular file is lstat's FILE that is not a device; may() reads
        # the mode, uid, gid and kind (a FILE: not a directory) that the
        # inode has as its StatResult would.
        if node.kind is not InodeKind.FILE:
            raise oserror(errno.EACCES, path)
        if "noexec" in mount.flags or not vfs.may(proc, node, 1):
            raise oserror(errno.EACCES, path)
        data = node.data
    else:
        st = fs.lstat(loc[1])
        if st.kind is not EntryKind.FILE or st.is_device:
            raise oserror(errno.EACCES, path)
        if "noexec" in mount.flags or not vfs.may(proc, st, 1):
            raise oserror(errno.EACCES, path)
        data = file_data(fs, loc[1])
    # binfmt_misc handlers sit at the head of the kernel's list, so a
    # registered format wins even over "#!" (the userland's stand-in busybox
    # is a text file that starts with "#!").
    program = k.recognise(data, argv[0] if argv else path)
    if program is not None:
        proc.exe_data = data
        return program, path, list(argv)
    if data[:2] == b"#!":
        if depth >= MAX_SCRIPT_DEPTH:
            raise oserror(errno.ELOOP, path)
        line = bytes(data[2:256]).split(b"\n", 1)[0].strip()
        if not line:
            raise oserror(errno.ENOEXEC, path)
        interp, _, arg = line.decode(errors="replace").partition(" ")
        new_argv = [interp] + ([arg.strip()] if arg.strip() else []) + [path] + list(argv[1:])
        return load(k, proc, interp, new_argv, depth + 1)
    raise oserror(errno.ENOEXEC, path)


def search_and_load(k: SimKernel, proc: Process, argv: list[str], path_env: str | None):
    """execvp(): ``argv[0]`` with a slash is used as is; otherwise each
    directory of PATH is tried in order.  A candidate that exists but cannot
    be executed does not stop the search (as Go's exec.LookPath, which
    Docker uses); if none works the error is ENOENT with ``filename`` None,
    meaning "not found in $PATH".

    Most PATH entries do not hold the name, and many are not there at all
    (/usr/local/sbin, /sbin in most images): one walk of the whole
    candidate DIR/NAME from the root answers both, and its ENOENT / ENOTDIR
    -- a missing directory on the way, a missing or dangling name -- means
    "not here" whichever it came from.  Any other error could be the
    directory's (skipped) or the name's (raised), so that candidate is
    decided again the careful way (:func:`_careful`)."""
    name = argv[0] if argv else ""
    if "/" in name:
        return load(k, proc, name, argv)
    if name:
        table, root = proc.ns.mnt.table, proc.root
        dirs: dict[str, object] = {}  # directory -> Loc, or None if missing
        gone: tuple[
            str, ...
        ] = ()  # directories found missing on a walk that followed no symlink, as "/usr/local/"
        for d, candidate, how in _candidates(DEFAULT_PATH if path_env is None else path_env, name):
            try:
                found = None
                if how is WHOLE:
                    if candidate.startswith(gone):
                        # The same names from the same root, with no symlink
                        # up to there: the same walk to the same missing
                        # directory (/usr/local/bin after /usr/local/sbin).
                        continue
                    try:
                        # missing_dirs: a missing directory on the way is
                        # answered, not raised, when no symlink was followed
                        found, missing = path_walk(
                            table, root, root, candidate, True, False, missing_ok=True, missing_dirs=True
                        )
                    except OSError as e:
                        if e.errno in (errno.ENOENT, errno.ENOTDIR):
                            continue
                        how = CAREFUL
                    else:
                        if found is None:
                            if missing[2]:  # a directory, not the name, is missing
                                gone = (*gone, _prefix(candidate, len(missing[2])))
                            continue
                if how is CAREFUL:
                    found = _careful(k, proc, table, root, d, name, dirs)
                if found is None and how is not RELATIVE:
                    continue
                return load(k, proc, candidate, argv, found=found)
            except OSError as e:
                if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                    continue
                raise
    raise OSError(errno.ENOENT, "executable file not found in $PATH")


def _prefix(candidate: str, after: int) -> str:
    """The directory of ``candidate`` that a walk found missing, with a
    trailing "/", from how many names came ``after`` it ("/usr/local/sbin/true",
    2: "/usr/local/").  A WHOLE candidate has no empty, "." or ".." name."""
    return candidate.rsplit("/", after)[0] + "/"


# How search_and_load looks for NAME in a PATH entry.
RELATIVE = "relative"  # load() walks DIR/NAME from the cwd
WHOLE = "whole"  # one walk of DIR/NAME from the root
CAREFUL = "careful"  # the directory a name at a time, then the name (_careful)


@functools.lru_cache(maxsize=128)
def _candidates(path_env: str, name: str) -> tuple[tuple[str, str, str], ...]:
    """PATH's entries for ``name``: (directory, DIR/NAME, how).  A pure
    function of the two strings, so kept (no invalidation needed).

    The careful way took an empty name in a directory ("/usr//bin") for a
    missing directory, and went on from a file with a "." or ".." after it
    ("/file/..", NAME ".") where a whole walk says ENOTDIR, so such entries
    go that way: the search finds what it always found
    (tests/sim/test_loader.py checks that both ways agree)."""
    out = []
    for d in path_env.split(":"):
        d = d.rstrip("/") or ("/" if d.startswith("/") else ".")
        if not d.startswith("/"):
            how = RELATIVE
        elif "//" in d or "/." in d or name in (".", ".."):
            how = CAREFUL
        else:
            how = WHOLE
        out.append((d, f"{d.rstrip('/')}/{name}", how))
    return tuple(out)


def _careful(k: SimKernel, proc: Process, table, root, d: str, name: str, dirs: dict):
    """The Loc of ``name`` in the absolute directory ``d``, resolved the
    directory first, a name at a time (any error: not there), then the name
    in it; None when either is not there; an OSError of the name's own
    lookup (ELOOP...) is raised."""
    at = _directory(k, proc, d, dirs)
    if at is None:
        return None  # the directory itself is not there
    try:
        # Ask without raising (an OSError per miss was a good part of
        # every exec's cost).
        found, _missing = path_walk(table, root, at, name, True, False, missing_ok=True)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
            return None
        raise
    return found


def _directory(k: SimKernel, proc: Process, path: str, known: dict):
    """Resolve an absolute directory one name at a time, remembering every
    prefix, so PATH entries that share a missing prefix (/usr/local/sbin,
    /usr/local/bin) cost one lookup, not one each."""
    if path in known:
        return known[path]
    if path == "/":
        loc = proc.root
    else:
        parent, _, last = path.rpartition("/")
        ploc = _directory(k, proc, parent or "/", known)
        loc = None
        if ploc is not None:
            try:
                # A missing directory (/usr/local in most images) answers
                # None rather than raising: cheaper, and the same to the search.
                loc, _missing = path_walk(
                    proc.ns.mnt.table, proc.root, ploc, last, True, False, missing_ok=True
                )
            except OSError:
                loc = None
    known[path] = loc
    return loc
