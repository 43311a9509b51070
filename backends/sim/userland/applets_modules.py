"""lsmod modinfo modprobe insmod rmmod depmod -- after busybox 1.35's
modutils/ (Debian's build: the full modprobe, not modprobe-small).

The simulated kernel has no loadable modules: it behaves as a kernel built
without CONFIG_MODULES (no /proc/modules; init_module and delete_module are
ENOSYS), which is what the reference machine runs.  In a container the
seccomp profile answers those calls first, EPERM without CAP_SYS_MODULE.
What is left to model is busybox's way to fail: the order of its checks,
its messages and its exit statuses.
"""

from __future__ import annotations

import errno
from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDONLY, Sys
from .applet_table import applet
from .libc import (
    Die,
    UsageError,
    complain,
    dies,
    getopt,
    out,
    read_all,
    show_usage,
    strerror,
)

Gen = Generator[Any, Any, Any]
MODULES_DIR = "/lib/modules"
MODULE_NAME_LEN = 64 - 8  # the kernel's, on a 64-bit machine
_ELF_MAGIC = b"\x7fELF"


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


def _xchdir(sys: Sys, path: str) -> None:
    try:
        sys.chdir(path)
    except OSError as e:
        raise Die(f"can't change directory to '{path}': {strerror(e)}") from None


def moderror(err: int) -> str:
    """libbb's moderror(): the kernel's answers in module words."""
    words = {
        -1: "no such module",
        errno.ENOEXEC: "invalid module format",
        errno.ENOENT: "unknown symbol in module, or unknown parameter",
        errno.ESRCH: "module has wrong symbol version",
        errno.ENOSYS: "kernel does not support requested operation",
    }
    return words.get(err) or strerror(abs(err))


def filename2modname(name: str) -> str:
    """Up to the first dot, '-' as '_', at most MODULE_NAME_LEN - 1 chars."""
    return name.split(".", 1)[0][: MODULE_NAME_LEN - 1].replace("-", "_")


@applet("lsmod")
def lsmod_main(sys: Sys) -> Gen:
    # busybox's pretty 2.6 output: the header, the taint, then /proc/modules
    # (a warning when it is missing, as on a kernel without modules)
    lines: list[str] = []
    try:
        fd = sys.open("/proc/modules", O_RDONLY)
    except OSError as e:
        fd = None
        yield from complain(sys, "lsmod", f"/proc/modules: {strerror(e)}")
    if fd is not None:
        data = yield from read_all(sys, fd)
        sys.close(fd)
        lines = data.decode(errors="replace").splitlines()
    text = f"{'Module':<24}Size  Used by"
    text += yield from _taint(sys)
    for line in lines:
        token = line.split()
        if len(token) < 4:
            continue
        users = token[3].rstrip(",").replace(",", " ")
        used = f"{token[2]} {users}" if users != "-" else token[2]
        text += f"{token[0]:<19} {token[1]:>8} {used}\n"
    yield from out(sys, text)
    return 0


def _taint(sys: Sys) -> Gen:
    tainted = 0
    try:
        fd = sys.open("/proc/sys/kernel/tainted", O_RDONLY)
        data = yield from read_all(sys, fd)
        sys.close(fd)
        digits = data.strip().decode(errors="replace")
        tainted = int(digits) if digits.isdigit() else 0
    except OSError:
        pass
    if not tainted:
        return "    Not tainted\n"
    proprietary = "P" if tainted & 1 else "G"
    forced = "F" if tainted & 2 else " "
    unsafe_smp = "S" if tainted & 4 else " "
    return f"    Tainted: {proprietary}{forced}{unsafe_smp}\n"


@applet("modinfo")
@dies("modinfo")
def modinfo_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "modinfo", "0F:nadlp")
    if not opts.operands:
        yield from _usage(sys, "modinfo")
    path = f"{MODULES_DIR}/{sys.uname()[2]}/modules.dep"
    try:
        fd = sys.open(path, O_RDONLY)
    except OSError as e:
        raise Die(f"can't open '{path}': {strerror(e)}") from None
    sys.close(fd)
    # a modules.dep can only exist in an image that brought one: its modules
    # are not this kernel's, and the simulator has none to describe
    raise Die(f"module '{opts.operands[0]}' not found")


# -l -r -a -D exclude each other this way (MODPROBE_COMPLEMENTARY)
_MODPROBE_CONFLICTS = {"l": "arD", "r": "alD", "a": "lr", "D": "rl"}


@applet("modprobe")
@dies("modprobe")
def modprobe_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "modprobe", "vqsalrDb")
    for flag, others in _MODPROBE_CONFLICTS.items():
        if flag in opts.flags and any(o in opts.flags for o in others):
            yield from _usage(sys, "modprobe")
    _xchdir(sys, MODULES_DIR)
    _xchdir(sys, sys.uname()[2])
    if not opts.operands:
        return 0
    # the simulated kernel has no modules: whatever an image's modules.dep
    # lists was built for another kernel (SIMPLIFICATIONS.md)
    raise Die(f"module {opts.operands[0]} not found in modules.dep")


@applet("insmod")
def insmod_main(sys: Sys) -> Gen:
    # busybox's insmod takes no options: "-v" is a file name
    if len(sys.argv) < 2:
        yield from show_usage(sys, "insmod")
        return 1
    filename = sys.argv[1]
    options = " ".join(sys.argv[2:])
    try:
        fd = sys.open(filename, O_RDONLY)
    except OSError as e:
        code = -(e.errno or 0)
        yield from complain(sys, "insmod", f"can't insert '{filename}': {moderror(code)}")
        return code & 0xFF
    try:
        image = yield from read_all(sys, fd)
    except OSError:
        image = b""  # a directory: the magic-number read comes back short
    finally:
        sys.close(fd)
    if not image.startswith(_ELF_MAGIC) and len(image) < 2:
        yield from complain(sys, "insmod", "short read")  # the compression sniffer's xread
        return 1
    try:
        sys.init_module(image, options)
    except OSError as e:
        code = e.errno or 0
        yield from complain(sys, "insmod", f"can't insert '{filename}': {moderror(code)}")
        return code & 0xFF
    return 0


@applet("rmmod")
@dies("rmmod")
def rmmod_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "rmmod", "wfas")
    flags = 0o4000  # O_NONBLOCK
    if "f" in opts.flags:
        flags |= 0o1000  # O_TRUNC: force
    if "w" in opts.flags:
        flags &= ~0o4000
    if "a" in opts.flags:
        try:
            sys.delete_module(None, flags)
        except OSError as e:
            if e.errno != errno.EFAULT:
                raise Die(f"rmmod: {strerror(e)}") from None
        return 0
    if not opts.operands:
        yield from _usage(sys, "rmmod")
    for arg in opts.operands:
        modname = filename2modname(arg.rstrip("/").rsplit("/", 1)[-1] or arg)
        try:
            sys.delete_module(modname, flags)
        except OSError as e:
            raise Die(f"can't unload module '{modname}': {strerror(e)}") from None
    return 0


def _is_version(word: str) -> bool:
    """sscanf(word, "%u.%u.%u") == 3: three numbers, each after optional blanks."""
    parts = word.split(".", 2)
    if len(parts) < 3:
        return False

    def leading_number(text: str) -> bool:
        text = text.lstrip(" \t\n\v\f\r")
        text = text[1:] if text[:1] in "+-" else text
        return text[:1].isdigit()

    return leading_number(parts[0]) and leading_number(parts[1]) and leading_number(parts[2])


@applet("depmod")
@dies("depmod")
def depmod_main(sys: Sys) -> Gen:
    opts = yield from _opts(sys, "depmod", "aAb:eF:nruqC:")
    base = opts.values.get("b", ["/"])[-1]
    _xchdir(sys, base)
    operands = opts.operands
    version = operands[0] if operands and _is_version(operands[0]) else sys.uname()[2]
    _xchdir(sys, f"{MODULES_DIR[1:]}/{version}")
    # an image that brings a module tree: scanning another kernel's .ko files
    # for their symbols is not modelled
    raise Die("modules of another kernel: not modelled by the stepbox simulator")
    yield  # a generator
