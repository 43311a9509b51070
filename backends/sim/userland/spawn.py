"""How busybox runs another program: libbb's ``BB_EXECVP``,
``spawn_and_wait`` and ``run_noexec_applet_and_exit``.

Debian's busybox is built with FEATURE_PREFER_APPLETS, so a program name
that is an applet runs busybox's own applet, whatever ``$PATH`` holds.  How
depends on busybox's marks on the applet (``NOEXEC``, ``NOFORK`` in
:mod:`.applet_table`):

* *NOFORK* applets run inside the caller, without even a fork
  (``find -exec readlink /proc/self \\;`` prints find's own PID);
* *NOEXEC* applets run in a forked child that does not ``execve``: the
  child renames itself (``comm``) but keeps the parent's command line, so
  ``ps`` shows ``{ps} sh -c ...``;
* other applets, and programs that are not applets, are forked and exec'd.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import NOEXEC, NOFORK, REAL_APPLETS, lookup
from .libc import complain, errno_is, strerror

Gen = Generator[Any, Any, Any]

X_OK = 1


class AppletSys:
    """``sys`` as an applet run without ``execve`` sees it: the same process
    with its own argv and environment (the kernel's copy -- what
    /proc/PID/cmdline shows -- is left as it was, as in Linux)."""

    def __init__(self, sys: Sys, argv: list[str], env: dict[str, str] | None = None) -> None:
        self._sys = sys
        self.argv = list(argv)
        self.env = dict(sys.env if env is None else env)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sys, name)


def is_applet(name: str) -> bool:
    """``find_applet_by_name``: a bare applet name (no slash)."""
    return "/" not in name and name in REAL_APPLETS


def run_in_process(sys: Sys, argv: list[str], env: dict[str, str] | None = None, rename: bool = True) -> Gen:
    """Run applet ``argv[0]`` in this process; returns its exit status.
    ``rename`` is ``set_task_comm``, which a NOEXEC child does."""
    from .applets_busybox import not_available

    name = argv[0]
    program = lookup(name) or not_available
    if rename:
        sys.set_comm(name)
    return (yield from program(AppletSys(sys, argv, env)))


def find_in_path(sys: Sys, name: str, path: str | None = None) -> str | None:
    """execvp's search: the first regular file in ``$PATH`` we may execute."""
    if "/" in name:
        return name
    for directory in (sys.env.get("PATH", "/bin:/usr/bin") if path is None else path).split(":"):
        candidate = f"{directory or '.'}/{name}"
        try:
            st = sys.stat(candidate)
        except OSError:
            continue
        if st.kind.value == "file" and sys.access(candidate, X_OK):
            return candidate
    return None


def bb_execvp(sys: Sys, argv: list[str], env: dict[str, str] | None = None) -> Gen:
    """``BB_EXECVP``: exec an applet through ``/proc/self/exe``, anything
    else by a ``$PATH`` search.  Returns only on failure, raising the
    OSError execve would leave in ``errno``."""
    env = dict(sys.env if env is None else env)
    if is_applet(argv[0]):
        yield from sys.execve("/proc/self/exe", argv, env)
    path = find_in_path(sys, argv[0], env.get("PATH", sys.env.get("PATH")))
    if path is None:
        raise FileNotFoundError(2, "No such file or directory")
    try:
        yield from sys.execve(path, argv, env)
    except OSError as e:
        if e.errno != 8:  # ENOEXEC: glibc's execvp hands the file to /bin/sh
            raise
        yield from sys.execve("/bin/sh", ["/bin/sh", path, *argv[1:]], env)
    raise OSError(8, "Exec format error")  # pragma: no cover - execve does not return


def exec_or_die(sys: Sys, prog: str, argv: list[str], env: dict[str, str] | None = None) -> Gen:
    """``BB_EXECVP_or_die``: on failure ``prog: can't execute 'x': ...``
    and exit 127 (not found) or 126."""
    try:
        yield from bb_execvp(sys, argv, env)
    except OSError as e:
        yield from complain(sys, prog, f"can't execute '{argv[0]}': {strerror(e)}")
        return 127 if errno_is(e, "ENOENT") else 126
    return 126  # pragma: no cover


def spawn(sys: Sys, argv: list[str], env: dict[str, str] | None = None) -> Gen:
    """libbb's ``spawn``: a child that execs ``argv`` (NOEXEC applets run
    in it without exec).  Returns the child's PID; raises the OSError of a
    failed fork or exec.  busybox learns about a failed exec through
    ``vfork`` (the child shares its memory and writes errno there before
    ``_exit(111)``); here the child reports it through a shared cell, and
    the parent waits for the child to exec or fail, as vfork blocks it."""
    if is_applet(argv[0]) and argv[0] in NOEXEC:

        def noexec_child(csys: Sys) -> Gen:
            return (yield from run_in_process(csys, argv, env))

        return sys.fork(noexec_child)
    outcome: dict[str, Any] = {}

    def child(csys: Sys) -> Gen:
        try:
            yield from bb_execvp(csys, argv, env)
        except OSError as e:
            outcome["error"] = e
            return 111
        finally:
            outcome.setdefault("done", True)
        return 111  # pragma: no cover

    pid = sys.fork(child)
    for _ in range(10000):  # vfork: the parent sleeps until the child execs or exits
        if outcome:
            break
        yield from sys.sched_yield()
    if "error" in outcome:
        yield from wait_status(sys, pid)
        raise outcome["error"]
    return pid


def wait_status(sys: Sys, pid: int) -> Gen:
    """``wait4pid``: the child's exit code, or 0x180 + signal if killed."""
    while True:
        try:
            res = yield from sys.waitpid(pid, 0)
        except OSError as e:
            if errno_is(e, "EINTR"):
                continue
            return -1
        if res is not None:
            break
    sig = res.status & 0x7F
    return (res.status >> 8) & 0xFF if sig == 0 else 0x180 + sig


def spawn_and_wait(sys: Sys, argv: list[str], env: dict[str, str] | None = None) -> Gen:
    """``spawn_and_wait``: run ``argv`` to its end (NOFORK applets right
    here); returns as :func:`wait_status`, or raises the OSError of a
    failed fork or exec."""
    if is_applet(argv[0]) and argv[0] in NOFORK:
        return (yield from run_in_process(sys, argv, env, rename=False))
    pid = yield from spawn(sys, argv, env)
    return (yield from wait_status(sys, pid))
