"""Running a command as an unprivileged user, with this Python and this checkout.

The notebooks must run on the simulator for a learner without root.  CI is
root, so the test drops to ``nobody`` (uid/gid 65534) with ``setpriv``.  One
snag: the interpreter, its packages or the checkout may live under a
directory ``nobody`` cannot enter (``/root/.pyenv``, a clone in ``/root``).
Then the command runs in a private mount namespace (``unshare --mount``)
where each such directory is covered by an empty world-readable tmpfs into
which only the paths the command needs are bind-mounted back -- the rest of
root's home stays hidden, and the host's mounts are untouched (the
namespace, and every mount in it, ends with the command).
"""

from __future__ import annotations

import os
import shlex
import site
import stat
import sys

NOBODY = 65534


def _blocked_ancestor(path: str) -> str | None:
    """The top-most directory on ``path`` that others may not enter."""
    current = "/"
    for part in os.path.abspath(path).strip("/").split("/"):
        current = os.path.join(current, part)
        try:
            mode = os.stat(current).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return current
    return None


def needed_paths(checkout: str) -> list[str]:
    """What the command reads: the interpreter's installation (and the one it
    was made from, for a venv), its site-packages, and the checkout."""
    paths = {
        os.path.realpath(p)
        for p in (sys.prefix, sys.base_prefix, checkout, os.path.dirname(os.path.realpath(sys.executable)))
    }
    paths |= {os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p)}
    # Keep the outermost of nested paths: binding a parent brings its children.
    ordered = sorted(paths, key=len)
    return [p for i, p in enumerate(ordered) if not any(p.startswith(q + "/") for q in ordered[:i])]


def as_nobody(argv: list[str], checkout: str, scratch: str) -> list[str]:
    """``argv`` run as nobody.  ``scratch`` is a root-owned directory the
    wrapper may use for its staging mounts (it must exist)."""
    return as_user(argv, checkout, scratch, NOBODY, NOBODY)


def as_user(argv: list[str], checkout: str, scratch: str, uid: int, gid: int) -> list[str]:
    """``argv`` run as ``uid``/``gid`` (see :func:`as_nobody`)."""
    if os.geteuid() != 0:
        return list(argv)  # already unprivileged
    drop = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]
    blocked = {path: _blocked_ancestor(path) for path in needed_paths(checkout)}
    hidden = {path: top for path, top in blocked.items() if top}
    if not hidden:
        return drop
    lines = ["set -e"]
    for index, path in enumerate(sorted(hidden)):
        stage = os.path.join(scratch, f"stage{index}")
        lines += [f"mkdir -p {shlex.quote(stage)}", f"mount --bind {shlex.quote(path)} {shlex.quote(stage)}"]
    for top in sorted(set(hidden.values())):
        lines.append(f"mount -t tmpfs -o mode=755,size=1m stepbox-nonroot {shlex.quote(top)}")
    for index, path in enumerate(sorted(hidden)):
        stage = os.path.join(scratch, f"stage{index}")
        lines += [f"mkdir -p {shlex.quote(path)}", f"mount --bind {shlex.quote(stage)} {shlex.quote(path)}"]
    lines.append("exec " + " ".join(shlex.quote(a) for a in drop))
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "\n".join(lines)]


def private_home(base: str) -> dict[str, str]:
    """Environment for the unprivileged run: every place a program writes
    (home, temp, Jupyter's and matplotlib's directories) inside ``base``,
    which is made nobody's."""
    dirs = {name: os.path.join(base, name) for name in ("home", "tmp", "runtime")}
    for path in (base, *dirs.values()):
        os.makedirs(path, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(path, NOBODY, NOBODY)
    os.chmod(dirs["runtime"], 0o700)
    home = dirs["home"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STEPBOX_", "JUPYTER", "IPYTHON", "MPL", "XDG_"))
    }
    env["STEPBOX_BRIDGE"] = "none"  # networking safety, as everywhere in the suite
    env.update(
        HOME=home,
        USER="nobody",
        LOGNAME="nobody",
        TMPDIR=dirs["tmp"],
        XDG_RUNTIME_DIR=dirs["runtime"],
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
        MPLCONFIGDIR=os.path.join(home, ".mpl"),
        IPYTHONDIR=os.path.join(home, ".ipython"),
        JUPYTER_RUNTIME_DIR=dirs["runtime"],
        JUPYTER_PLATFORM_DIRS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env


__all__ = ["NOBODY", "as_nobody", "as_user", "needed_paths", "private_home"]
