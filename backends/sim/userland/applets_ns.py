"""unshare and nsenter -- after busybox 1.35's util-linux/unshare.c and
nsenter.c.

In a default container both are refused by seccomp before the kernel looks
(``unshare(0x20000): Operation not permitted``, ``setns(): can't
reassociate to namespace 'mnt': ...``).  With CAP_SYS_ADMIN the simulated
kernel makes and joins mount, UTS, IPC, network and PID namespaces; user
namespaces and persistent namespace files (``--mount=FILE``...) are not
modelled (SIMPLIFICATIONS.md, "unshare").
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import Die, UsageError, complain, dies, getopt, show_usage, strerror, xatou
from .spawn import exec_or_die

Gen = Generator[Any, Any, Any]

# unshare's namespaces in its option order (-m -u -i -n -p -U), nsenter's in its own.
UNSHARE_NS = (("m", "mnt", 0x00020000), ("u", "uts", 0x04000000), ("i", "ipc", 0x08000000),
              ("n", "net", 0x40000000), ("p", "pid", 0x20000000), ("U", "user", 0x10000000))  # fmt: skip
NSENTER_NS = (("U", "user", 0x10000000), ("i", "ipc", 0x08000000), ("u", "uts", 0x04000000),
              ("n", "net", 0x40000000), ("p", "pid", 0x20000000), ("m", "mnt", 0x00020000))  # fmt: skip
PROPAGATION = {"private": "rprivate", "unchanged": "", "shared": "rshared", "slave": "rslave"}
PROPAGATION_FLAGS = {"rprivate": 0x44000, "": 0, "rshared": 0x104000, "rslave": 0x84000}


def _usage_on_error(sys: Sys, prog: str, argv: list[str], spec: str, longopts: dict[str, str]) -> Gen:
    try:
        return getopt(argv, spec, permute=False, longopts=longopts)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        raise Die(None) from None


def exec_prog_or_shell(sys: Sys, prog: str, argv: list[str]) -> Gen:
    """libbb's exec_prog_or_SHELL: PROG, else $SHELL (or /bin/sh) as a login shell."""
    if argv:
        return (yield from exec_or_die(sys, prog, argv))
    shell = sys.env.get("SHELL") or "/bin/sh"
    try:
        yield from sys.execve(shell, ["-" + shell.rsplit("/", 1)[-1]], dict(sys.env))
    except OSError as e:
        raise Die(f"can't execute '{shell}': {strerror(e)}", 127) from None
    return 127  # pragma: no cover


def fork_parent_waits_and_exits(sys: Sys, child) -> Gen:
    """libbb's xvfork_parent_waits_and_exits: the child goes on; the parent
    ends as the child did (dying of the same signal)."""
    pid = sys.fork(child)
    result = yield from sys.waitpid(pid)
    assert result is not None  # without WNOHANG waitpid returns the child
    status = result.status
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        sys.signal(sig, None)
        sys.kill(sys.getpid(), sig)
    return os.WEXITSTATUS(status)


def _mount_or_die(sys: Sys, source: str, target: str, fstype: str, options: str, flags: int) -> None:
    try:
        sys.mount(source, target, fstype, options)
    except OSError as e:
        raise Die(f"can't mount {source} on {target} (flags:{flags:#x}): {strerror(e)}") from None


# -- unshare ---------------------------------------------------------------------------------

UNSHARE_LONG = {
    "mount": "\xf0", "uts": "\xf1", "ipc": "\xf2", "net": "\xf3", "pid": "\xf4", "user": "\xf5",
    "fork": "f", "map-root-user": "r", "mount-proc": "\xfd", "propagation": "\xfe", "setgroups": "\xff",
}  # fmt: skip
_LONG_OF = dict(zip("muinpU", "\xf0\xf1\xf2\xf3\xf4\xf5", strict=True))


@applet("unshare")
@dies("unshare")
def unshare_main(sys: Sys) -> Gen:
    opts = yield from _usage_on_error(
        sys,
        "unshare",
        sys.argv[1:],
        "muinpUfr\xfd::\xfe:\xff:\xf0::\xf1::\xf2::\xf3::\xf4::\xf5::",
        UNSHARE_LONG,
    )
    # Long options imply the short ones: --mount-proc -m, -r -U.
    chosen = {letter for letter, _kind, _flag in UNSHARE_NS if letter in opts or _LONG_OF[letter] in opts}
    if "\xfd" in opts:
        chosen.add("m")
    if "r" in opts:
        chosen.add("U")
    files = [opts.value(_LONG_OF[letter]) for letter, _kind, _flag in UNSHARE_NS]
    setgroups = opts.value("\xff")
    if setgroups is not None:
        if setgroups == "allow":
            if "r" in opts:
                raise Die("--setgroups=allow and --map-root-user are mutually exclusive")
        elif setgroups != "deny":
            raise Die(f"unrecognized: --setgroups={setgroups}")
    flags = sum(flag for letter, _kind, flag in UNSHARE_NS if letter in chosen)
    propagation = "rprivate"
    if "m" in chosen:
        prop = opts.value("\xfe", "private") or ""
        if prop not in PROPAGATION:
            raise Die(f"unrecognized: --propagation={prop}")
        propagation = PROPAGATION[prop]
    if any(files):
        # Keeping a namespace by bind-mounting /proc/PID/ns/KIND on a file
        # is not modelled: the simulated kernel has no nsfs to bind.
        raise Die("persistent namespaces (--mount=FILE, --net=FILE ...) are not simulated")
    try:
        sys.unshare(flags)
    except OSError as e:
        raise Die(f"unshare({flags:#x}): {strerror(e)}") from None

    def rest(csys: Sys) -> Gen:
        return (yield from _unshare_rest(csys, opts, chosen, setgroups, propagation))

    if "f" in opts:
        return (yield from fork_parent_waits_and_exits(sys, dies("unshare")(rest)))
    return (yield from rest(sys))


def _unshare_rest(sys: Sys, opts, chosen: set[str], setgroups: str | None, propagation: str) -> Gen:
    if setgroups is not None and "r" not in opts:
        _write_or_die(sys, "/proc/self/setgroups", setgroups)
    if "m" in chosen:
        _mount_or_die(sys, "none", "/", "", propagation, PROPAGATION_FLAGS[propagation])
    if "\xfd" in opts:
        target = opts.value("\xfd") or "/proc"
        _mount_or_die(sys, "none", target, "", "rprivate", 0x44000)
        _mount_or_die(sys, "proc", target, "proc", "nosuid,noexec,nodev", 0xE)
    return (yield from exec_prog_or_shell(sys, "unshare", opts.operands))


def _write_or_die(sys: Sys, path: str, text: str) -> None:
    from ..sys_api import O_WRONLY

    try:
        fd = sys.open(path, O_WRONLY)
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None
    try:
        sys.write(fd, text.encode())
    except OSError as e:
        raise Die(f"write error: {strerror(e)}") from None
    finally:
        sys.close(fd)


# -- nsenter ---------------------------------------------------------------------------------

NSENTER_LONG = {
    "user": "U", "ipc": "i", "uts": "u", "net": "n", "pid": "p", "mount": "m", "target": "t",
    "setuid": "S", "setgid": "G", "root": "r", "wd": "w", "no-fork": "F", "preserve-credentials": "\xff",
}  # fmt: skip


def _open_by_path_or_target(sys: Sys, path: str | None, pid: int, name: str, namespace: bool) -> Gen:
    if path is None:
        if pid == 0:  # "nsenter -p PROG": neither -pFILE nor -t PID
            yield from show_usage(sys, "nsenter")
            raise Die(None)
        path = f"/proc/{pid}/{name}"
    try:
        return path, (sys.open_namespace(path) if namespace else sys.open(path))
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None


@applet("nsenter")
@dies("nsenter")
def nsenter_main(sys: Sys) -> Gen:
    opts = yield from _usage_on_error(
        sys, "nsenter", sys.argv[1:], "U::i::u::n::p::m::t:S:G:r::w::F\xff", NSENTER_LONG
    )
    pid = xatou(opts.value("t") or "", 0, 2**31 - 1) if "t" in opts else 0
    uid = xatou(opts.value("S") or "", 0, 2**31 - 1) if "S" in opts else 0
    gid = xatou(opts.value("G") or "", 0, 2**31 - 1) if "G" in opts else 0
    root = wd = None
    if "r" in opts:
        root = yield from _open_by_path_or_target(sys, opts.value("r") or None, pid, "root", False)
    if "w" in opts:
        wd = yield from _open_by_path_or_target(sys, opts.value("w") or None, pid, "cwd", False)
    entering = []
    for letter, kind, flag in NSENTER_NS:
        if letter in opts:
            _path, fd = yield from _open_by_path_or_target(
                sys, opts.value(letter) or None, pid, f"ns/{kind}", True
            )
            entering.append((kind, flag, fd))
    set_ids = "U" in opts and "\xff" not in opts
    setgroups_failed = False
    if set_ids:
        try:
            sys.setgroups([])
        except OSError:
            setgroups_failed = True
    for kind, flag, fd in entering:
        try:
            sys.setns(fd, flag)
        except OSError as e:
            raise Die(f"setns(): can't reassociate to namespace '{kind}': {strerror(e)}") from None
        sys.close(fd)
    if root is not None:
        # fchdir(root); chroot("."): the simulated kernel changes directory by path.
        if wd is None:
            wd = (sys.getcwd(), None)
        _chdir_or_die(sys, root[0])
        try:
            sys.chroot(".")
        except OSError as e:
            raise Die(f"can't change root directory to '.': {strerror(e)}") from None
        sys.close(root[1])
    if wd is not None:
        _chdir_or_die(sys, wd[0])
        if wd[1] is not None:
            sys.close(wd[1])

    def rest(csys: Sys) -> Gen:
        if set_ids or "G" in opts:
            try:
                csys.setgroups([])
            except OSError as e:
                if setgroups_failed:
                    raise Die(f"setgroups: {strerror(e)}") from None
            try:
                csys.setgid(gid)
            except OSError as e:
                raise Die(f"setgid: {strerror(e)}") from None
        if set_ids or "S" in opts:
            try:
                csys.setuid(uid)
            except OSError as e:
                raise Die(f"setuid: {strerror(e)}") from None
        return (yield from exec_prog_or_shell(csys, "nsenter", opts.operands))

    if "F" not in opts and "p" in opts:
        return (yield from fork_parent_waits_and_exits(sys, dies("nsenter")(rest)))
    return (yield from rest(sys))


def _chdir_or_die(sys: Sys, path: str) -> None:
    try:
        sys.chdir(path)
    except OSError as e:
        raise Die(f"fchdir: {strerror(e)}") from None
