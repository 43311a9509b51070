"""pivot_root switch_root run-init nuke -- after busybox 1.35's
util-linux/pivot_root.c and util-linux/switch_root.c, klibc-utils/nuke.c.

In a container they fail, and the way they fail is what is modelled:
pivot_root(2) is EPERM without CAP_SYS_ADMIN (Docker's seccomp profile and
capability set); switch_root and run-init want a NEW_ROOT that is a mount
point, PID 1, a regular /init and a ramfs/tmpfs root, and a container's
root is none of the last two.  Wiping an initramfs and moving a mount onto
/ is not modelled (SIMPLIFICATIONS.md); nuke is rm -rf without messages
for what is missing.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import Die, UsageError, complain, dies, getopt, join, show_usage, strerror

Gen = Generator[Any, Any, Any]
RAMFS_MAGIC, TMPFS_MAGIC = 0x858458F6, 0x01021994
X_OK = 1

# the capability names run-init -d knows (libbb's cap_name_to_number)
_CAP_NAMES = """chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap
linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module
sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time
sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog
wake_alarm block_suspend audit_read""".split()


def _opts(sys: Sys, prog: str, spec: str, permute: bool = True) -> Gen:
    try:
        return getopt(sys.argv[1:], spec, permute)
    except UsageError as e:
        if e.message:
            yield from complain(sys, prog, e.message)
        yield from show_usage(sys, prog)
        raise Die(None) from None


def _usage(sys: Sys, prog: str) -> Gen:
    yield from show_usage(sys, prog)
    raise Die(None)


@applet("pivot_root")
@dies("pivot_root")
def pivot_root_main(sys: Sys) -> Gen:
    if len(sys.argv) != 3:
        yield from _usage(sys, "pivot_root")
    try:
        sys.pivot_root(sys.argv[1], sys.argv[2])
    except OSError as e:
        # bb_perror_nomsg_and_die: glibc prints the missing message as "(null)"
        raise Die(f"(null): {strerror(e)}") from None
    return 0


def _cap_number(name: str) -> int | None:
    if name.isdigit():
        return int(name) if int(name) < len(_CAP_NAMES) else None
    name = name.lower()
    name = name[4:] if name.startswith("cap_") else name
    return _CAP_NAMES.index(name) if name in _CAP_NAMES else None


def _drop_caps(cap_list: str) -> None:
    for name in cap_list.split(","):
        if _cap_number(name) is None:
            raise Die(f"unknown capability '{name}'")
    # Each cap leaves the inheritable and bounding sets, then the kernel's
    # usermodehelper sets (files of /proc/sys): not modelled.
    raise Die("dropping capabilities: not modelled by the stepbox simulator")


def _switch_root(sys: Sys, prog: str) -> Gen:
    if prog == "switch_root":
        opts = yield from _opts(sys, prog, "c:", permute=False)
        dry_run = False
    else:
        opts = yield from _opts(sys, prog, "c:d:n", permute=False)
        dry_run = "n" in opts.flags
    if len(opts.operands) < 2:
        yield from _usage(sys, prog)
    if prog != "switch_root" and "d" in opts.values:
        _drop_caps(opts.values["d"][-1])
    newroot = opts.operands[0]
    try:
        sys.chdir(newroot)
    except OSError as e:
        raise Die(f"can't change directory to '{newroot}': {strerror(e)}") from None
    devs = []
    for path in ("/", "."):
        try:
            devs.append(sys.inode_info(path).dev)
        except OSError as e:
            raise Die(f"can't stat '{path}': {strerror(e)}") from None
    if devs[0] == devs[1]:
        yield from _usage(sys, prog)  # NEW_ROOT must be a mount point
    if not dry_run and sys.getpid() != 1:
        yield from _usage(sys, prog)  # ... and we must be PID 1
    try:
        init_is_file = sys.stat("/init").kind.value == "file"
    except OSError:
        init_is_file = False
    if not init_is_file:
        raise Die("'/init' is not a regular file")
    if sys.statfs("/").type not in (RAMFS_MAGIC, TMPFS_MAGIC):
        raise Die("root filesystem is not ramfs/tmpfs")
    # A ramfs root with an /init: an initramfs, which no container has.
    raise Die(f"switching from an initramfs to '{newroot}': not modelled by the stepbox simulator")


@applet("switch_root")
@dies("switch_root")
def switch_root_main(sys: Sys) -> Gen:
    return (yield from _switch_root(sys, "switch_root"))


@applet("run-init")
@dies("run-init")
def run_init_main(sys: Sys) -> Gen:
    return (yield from _switch_root(sys, "run-init"))


def _remove(sys: Sys, path: str) -> Gen:
    """libbb's remove_file(FORCE | RECUR): what is missing is no error."""
    try:
        st = sys.lstat(path)
    except OSError as e:
        if e.errno == 2:  # ENOENT
            return
        yield from complain(sys, "nuke", f"can't stat '{path}': {strerror(e)}")
        return
    if st.kind.value == "dir":
        try:
            names = sys.listdir(path)
        except OSError as e:
            yield from complain(sys, "nuke", f"can't remove '{path}': {strerror(e)}")
            return
        for name in names:
            yield from _remove(sys, join(path, name))
        yield from sys.burn(1)
        remove = sys.rmdir
    else:
        remove = sys.unlink
    try:
        remove(path)
    except OSError as e:
        yield from complain(sys, "nuke", f"can't remove '{path}': {strerror(e)}")


@applet("nuke")
def nuke_main(sys: Sys) -> Gen:
    # klibc-utils' nuke takes no options ("-x" is a name) and reports no failure
    for path in sys.argv[1:]:
        yield from _remove(sys, path)
    return 0
