"""seccomp on the real kernel: a profile compiled by libseccomp, loaded by init.

libseccomp (Debian's ``libseccomp2``, the library runc links) turns a list of
"syscall name, action, argument conditions" into the classic-BPF program the
kernel runs on every system call -- per architecture, with the numbers of
this kernel's syscall table.  This module is a small ctypes binding to it:

* :func:`compile_filter` builds the program *in the engine* and exports it as
  bytes (``seccomp_export_bpf``), once per distinct filter;
* :func:`load_program` installs those bytes in the calling process with
  ``prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)`` -- the container's
  init does that right before it execs, after pivot_root, when libseccomp is
  no longer reachable on the filesystem (the engine's copy is what counts).

The rules are applied as runc applies them (``libcontainer/seccomp``): a rule
whose action is the default action is left out; a syscall name this
libseccomp does not know is skipped (a newer profile on an older host);
conditions on the same argument twice become separate rules (OR) as
libseccomp cannot AND them.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

from stepbox.core.kernel.errors import KernelError, NotSupported
from stepbox.core.kernel.seccomp import SeccompFilter, SyscallRule

from . import libc

# <seccomp.h> action values
ACT_KILL_PROCESS = 0x80000000
ACT_KILL_THREAD = 0x00000000
ACT_TRAP = 0x00030000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000
_ACT_ERRNO = 0x00050000
_ACT_TRACE = 0x7FF00000

OPERATORS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
SCMP_FLTATR_CTL_NNP = 3  # let seccomp_load set no_new_privs itself: we say no
NR_SCMP_ERROR = -1

# <linux/prctl.h>, <linux/seccomp.h>
PR_GET_SECCOMP = 21
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
BPF_INSTRUCTION_SIZE = 8  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@functools.cache
def library() -> ctypes.CDLL:
    """libseccomp, or :class:`NotSupported` saying how to get it."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError:
        raise NotSupported(
            "seccomp needs libseccomp (apt-get install libseccomp2; see scripts/install.sh)"
        ) from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.restype = None
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_version.restype = ctypes.POINTER(_Version)
    return lib


def version() -> tuple[int, int, int]:
    v = library().seccomp_version().contents
    return (v.major, v.minor, v.micro)


def action_value(action: str, errno_ret: int | None) -> int:
    """A profile's action name as libseccomp's number (runc's getAction)."""
    if action in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return ACT_KILL_THREAD
    if action == "SCMP_ACT_KILL_PROCESS":
        return ACT_KILL_PROCESS
    if action == "SCMP_ACT_TRAP":
        return ACT_TRAP
    if action == "SCMP_ACT_ERRNO":
        return _ACT_ERRNO | ((errno.EPERM if errno_ret is None else errno_ret) & 0xFFFF)
    if action == "SCMP_ACT_TRACE":
        return _ACT_TRACE | ((errno.EPERM if errno_ret is None else errno_ret) & 0xFFFF)
    if action == "SCMP_ACT_LOG":
        return ACT_LOG
    if action == "SCMP_ACT_ALLOW":
        return ACT_ALLOW
    raise ValueError(f"string {action} is not a valid action for seccomp")


def _check(result: int, what: str) -> None:
    if result < 0:  # libseccomp returns -errno
        raise OSError(-result, f"{what}: {os.strerror(-result)}")


def _arch_token(lib, name: str) -> int:
    token = lib.seccomp_arch_resolve_name(name.removeprefix("SCMP_ARCH_").lower().encode())
    if not token:
        raise ValueError(f"error validating Seccomp architecture: {name} is not known to libseccomp")
    return token


def _conditions(rule: SyscallRule) -> list[list[_ArgCmp]]:
    """The argument conditions of one rule, as one or more libseccomp rules."""
    conds = [_ArgCmp(c.index, OPERATORS[c.op], c.value, c.value_two) for c in rule.args]
    indices = [c.index for c in rule.args]
    if len(set(indices)) != len(indices):
        return [[c] for c in conds]  # same argument twice: OR of single conditions (as runc)
    return [conds]


@functools.lru_cache(maxsize=32)
def compile_filter(spec: SeccompFilter) -> bytes:
    """The classic-BPF program for ``spec`` on this host (libseccomp's output)."""
    lib = library()
    default = action_value(spec.default_action, spec.default_errno_ret)
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise KernelError("seccomp_init failed (libseccomp could not make a filter)")
    try:
        for arch in spec.architectures:
            result = lib.seccomp_arch_add(ctx, _arch_token(lib, arch))
            if result not in (0, -errno.EEXIST):  # the native one is there already
                _check(result, f"error adding architecture {arch} to seccomp filter")
        _check(lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)")
        for rule in spec.rules:
            action = action_value(rule.action, rule.errno_ret)
            if action == default:
                continue  # redundant; libseccomp would refuse it
            for name in rule.names:
                number = lib.seccomp_syscall_resolve_name(name.encode())
                if number == NR_SCMP_ERROR:
                    continue  # not a syscall this libseccomp knows: not on this kernel either
                for conds in _conditions(rule):
                    array = (_ArgCmp * len(conds))(*conds) if conds else None
                    _check(
                        lib.seccomp_rule_add_array(ctx, action, number, len(conds), array),
                        f"error adding seccomp filter rule for syscall {name}",
                    )
        read_fd, write_fd = os.pipe()
        try:
            # The program is a few KiB: well within a pipe's 64 KiB buffer.
            _check(lib.seccomp_export_bpf(ctx, write_fd), "seccomp_export_bpf")
            os.close(write_fd)
            write_fd = -1
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_fd)
            if write_fd != -1:
                os.close(write_fd)
        return b"".join(chunks)
    finally:
        lib.seccomp_release(ctx)


def load_program(program: bytes) -> None:
    """Install a compiled filter in the calling process (and its future
    children).  Without no_new_privs this needs CAP_SYS_ADMIN, which is why
    runc loads it before dropping capabilities in that case."""
    if len(program) % BPF_INSTRUCTION_SIZE or not program:
        raise ValueError(f"a BPF program is a multiple of {BPF_INSTRUCTION_SIZE} bytes, not {len(program)}")
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // BPF_INSTRUCTION_SIZE, ctypes.cast(buffer, ctypes.c_void_p))
    libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))


def mode() -> int:
    """0 (none), 1 (strict) or 2 (filter): what ``Seccomp:`` in /proc/self/status shows."""
    return libc.prctl(PR_GET_SECCOMP)
