"""Where a daemon keeps its state and where it listens.

Both ends need the same answers: ``stepbox daemon`` to know where to put its
socket, the ``stepbox`` CLI to know where to find it (and where to start one
when nobody listens).  So the rules live here, in a module that imports
nothing heavy -- every CLI call reads it.

* The **state directory** (``--root`` / ``STEPBOX_ROOT``) defaults to
  ``/var/lib/stepbox`` as root (like ``/var/lib/docker``), else
  ``~/.local/share/stepbox``.
* The **socket** of the default state directory is the well-known one:
  ``/run/stepbox/stepbox.sock`` as root (like ``/var/run/docker.sock``), else
  ``$XDG_RUNTIME_DIR/stepbox.sock``, and without ``XDG_RUNTIME_DIR`` (``su``,
  ``sudo -u``, a container) in ``/tmp/stepbox-UID`` (``$TMPDIR`` if set).
  That one is in a directory everybody may write to, so another user could
  make it first, and listen there for what our commands send: it is created
  0700 and, whenever it is used, checked to be ours (:func:`private_socket_dir`),
  as tmux and ssh-agent do with theirs.  Any other state directory gets its own
  daemon, listening in that directory (``DIR/stepbox.sock``): two state
  directories never share a daemon, so a test with its own directory has its
  own daemon too.
* Next to the socket: the daemon's **pid file** (which it keeps locked while
  it lives -- that lock is how "is it still running?" is answered) and, in the
  state directory, its **log**.
"""

from __future__ import annotations

import os
import sys

SOCKET_NAME = "stepbox.sock"
LOG_NAME = "daemon.log"
MAX_SOCKET_PATH = 107  # sun_path is 108 bytes, NUL included


def _is_root() -> bool:
    return sys.platform == "linux" and os.geteuid() == 0


def builtin_root() -> str:
    """The state directory nobody chose: ``/var/lib/stepbox`` as root."""
    if _is_root():
        return "/var/lib/stepbox"
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "stepbox")


def state_root(root: str | None = None) -> str:
    """``--root``, else ``STEPBOX_ROOT``, else the built-in default; absolute."""
    return os.path.abspath(root or os.environ.get("STEPBOX_ROOT") or builtin_root())


def default_socket_path() -> str:
    """``/run/stepbox/stepbox.sock`` as root, else in ``$XDG_RUNTIME_DIR``,
    else in :func:`fallback_socket_dir`."""
    if _is_root():
        return "/run/stepbox/" + SOCKET_NAME
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR") or fallback_socket_dir()
    return os.path.join(runtime_dir, SOCKET_NAME)


def fallback_socket_dir() -> str:
    """Where a user without ``XDG_RUNTIME_DIR`` keeps sockets: ``/tmp/stepbox-UID``."""
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", f"stepbox-{os.getuid()}")


class UnsafeSocketDir(RuntimeError):
    """The fallback socket directory is not ours alone: using it would let
    someone else impersonate the daemon."""


def private_socket_dir(socket_path: str) -> None:
    """If ``socket_path`` is in the shared fallback directory: make that 0700,
    or check that it is ours -- a real directory, owned by us, that nobody
    else may write to (one made 0755 by an older stepbox is tightened to 0700).
    Anything else raises :class:`UnsafeSocketDir`, saying what to do.  Other
    socket directories (``XDG_RUNTIME_DIR``, a state directory, ``/run``) are
    their owner's business and left alone."""
    directory = os.path.dirname(socket_path)
    if _is_root() or directory != fallback_socket_dir():
        return
    import stat

    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(directory)
    advice = "remove it, or set XDG_RUNTIME_DIR to a directory of your own (mode 0700)"
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeSocketDir(f"{directory} is not a directory (a symlink or a file?): {advice}")
    if st.st_uid != os.getuid():
        raise UnsafeSocketDir(
            f"{directory} belongs to uid {st.st_uid}, not to you (uid {os.getuid()}): whoever made it "
            f"could read what stepbox sends to its daemon; {advice}"
        )
    if st.st_mode & 0o022:
        raise UnsafeSocketDir(
            f"{directory} may be written by others (mode {stat.S_IMODE(st.st_mode):04o}): "
            f"someone may have put a socket of theirs there; {advice}"
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(directory, 0o700)


def socket_for_root(root: str) -> str:
    """The socket of the daemon that owns state directory ``root``."""
    root = os.path.abspath(root)
    if root == os.path.abspath(builtin_root()):
        return default_socket_path()
    inside = os.path.join(root, SOCKET_NAME)
    if len(inside.encode()) <= MAX_SOCKET_PATH:
        return inside
    # Too long for sun_path: a name derived from the directory, in the
    # default socket's directory, so it is still one daemon per directory.
    import hashlib  # only here: importing it costs every command

    digest = hashlib.sha256(root.encode()).hexdigest()[:16]
    return os.path.join(os.path.dirname(default_socket_path()), f"stepbox-{digest}.sock")


def pid_path_of(socket_path: str) -> str:
    """``/run/stepbox/stepbox.sock`` -> ``/run/stepbox/stepbox.pid``."""
    base = socket_path[: -len(".sock")] if socket_path.endswith(".sock") else socket_path
    return base + ".pid"


def log_path_of(root: str) -> str:
    """Where an auto-started daemon writes what it says."""
    return os.path.join(os.path.abspath(root), LOG_NAME)


def someone_listening(path: str) -> bool:
    """Whether a daemon answers on the UNIX socket ``path`` (a connect, nothing sent)."""
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()
