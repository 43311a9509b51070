"""bpf(2): load an eBPF program, attach it to a cgroup, read it back.

Only what the cgroup-v2 device filter needs (see :mod:`.cgroups.devicefilter`):

* ``BPF_PROG_LOAD`` a ``BPF_PROG_TYPE_CGROUP_DEVICE`` program (the kernel's
  verifier checks it; its log is quoted on failure);
* ``BPF_PROG_ATTACH`` it to a cgroup directory with ``BPF_CGROUP_DEVICE``
  (``BPF_F_ALLOW_MULTI``: programs of the parent groups keep running too,
  as runc attaches them);
* ``BPF_PROG_QUERY`` + ``BPF_PROG_GET_FD_BY_ID`` + ``BPF_OBJ_GET_INFO_BY_FD``
  to read back the instructions attached to a cgroup -- how the tests check
  what is in force, as ``devices.list`` does on v1.

Once attached, the cgroup holds the program: our fd can be closed, and the
program goes away with the cgroup (rmdir), so nothing is left to clean up.
"""

from __future__ import annotations

import ctypes
import os
import platform

from . import libc

BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_QUERY = 16

BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6  # attach type
BPF_F_ALLOW_MULTI = 2

_NR_BPF = {"x86_64": 321, "aarch64": 280}
_ATTR_SIZE = 128  # bigger than every command's part of union bpf_attr we use


class _ProgLoad(ctypes.Structure):
    _fields_ = [
        ("prog_type", ctypes.c_uint32),
        ("insn_cnt", ctypes.c_uint32),
        ("insns", ctypes.c_uint64),
        ("license", ctypes.c_uint64),
        ("log_level", ctypes.c_uint32),
        ("log_size", ctypes.c_uint32),
        ("log_buf", ctypes.c_uint64),
        ("kern_version", ctypes.c_uint32),
        ("prog_flags", ctypes.c_uint32),
        ("prog_name", ctypes.c_char * 16),
        ("prog_ifindex", ctypes.c_uint32),
        ("expected_attach_type", ctypes.c_uint32),
    ]


class _Attach(ctypes.Structure):
    _fields_ = [
        ("target_fd", ctypes.c_uint32),
        ("attach_bpf_fd", ctypes.c_uint32),
        ("attach_type", ctypes.c_uint32),
        ("attach_flags", ctypes.c_uint32),
        ("replace_bpf_fd", ctypes.c_uint32),
    ]


class _Query(ctypes.Structure):
    _fields_ = [
        ("target_fd", ctypes.c_uint32),
        ("attach_type", ctypes.c_uint32),
        ("query_flags", ctypes.c_uint32),
        ("attach_flags", ctypes.c_uint32),
        ("prog_ids", ctypes.c_uint64),
        ("prog_cnt", ctypes.c_uint32),
    ]


class _GetFdById(ctypes.Structure):
    _fields_ = [("prog_id", ctypes.c_uint32), ("next_id", ctypes.c_uint32), ("open_flags", ctypes.c_uint32)]


class _InfoByFd(ctypes.Structure):
    _fields_ = [("bpf_fd", ctypes.c_uint32), ("info_len", ctypes.c_uint32), ("info", ctypes.c_uint64)]


class _ProgInfo(ctypes.Structure):
    # The head of struct bpf_prog_info (the kernel fills what fits in info_len).
    _fields_ = [
        ("type", ctypes.c_uint32),
        ("id", ctypes.c_uint32),
        ("tag", ctypes.c_uint8 * 8),
        ("jited_prog_len", ctypes.c_uint32),
        ("xlated_prog_len", ctypes.c_uint32),
        ("jited_prog_insns", ctypes.c_uint64),
        ("xlated_prog_insns", ctypes.c_uint64),
    ]


def _bpf(cmd: int, attr: ctypes.Structure, what: str) -> int:
    nr = _NR_BPF.get(platform.machine())
    if nr is None:
        raise OSError(38, f"bpf: no syscall number known for {platform.machine()}")
    buf = ctypes.create_string_buffer(_ATTR_SIZE)
    ctypes.memmove(buf, ctypes.addressof(attr), ctypes.sizeof(attr))
    result = libc._libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), buf, ctypes.c_uint(_ATTR_SIZE))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf({what}): {os.strerror(err)}")
    ctypes.memmove(ctypes.addressof(attr), buf, ctypes.sizeof(attr))
    return result


def load_cgroup_device_program(program: bytes, license: str = "Apache", name: str = "stepbox_dev") -> int:
    """BPF_PROG_LOAD; the program's fd.  A program the verifier refuses
    raises OSError with the verifier's log appended."""
    insns = ctypes.create_string_buffer(program, len(program))
    lic = ctypes.create_string_buffer(license.encode())
    log = ctypes.create_string_buffer(1 << 16)
    attr = _ProgLoad(
        prog_type=BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt=len(program) // 8,
        insns=ctypes.addressof(insns),
        license=ctypes.addressof(lic),
        log_level=1,
        log_size=len(log),
        log_buf=ctypes.addressof(log),
        prog_name=name.encode()[:15],
    )
    try:
        return _bpf(BPF_PROG_LOAD, attr, "BPF_PROG_LOAD")
    except OSError as e:
        verifier = log.value.decode(errors="replace").strip()
        raise OSError(e.errno, f"{e.strerror}" + (f"\nverifier: {verifier}" if verifier else "")) from None


def attach_to_cgroup(program_fd: int, cgroup_dir: str) -> None:
    """BPF_PROG_ATTACH with BPF_CGROUP_DEVICE to a cgroup-v2 directory."""
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        attr = _Attach(
            target_fd=fd,
            attach_bpf_fd=program_fd,
            attach_type=BPF_CGROUP_DEVICE,
            attach_flags=BPF_F_ALLOW_MULTI,
        )
        _bpf(BPF_PROG_ATTACH, attr, "BPF_PROG_ATTACH")
    finally:
        os.close(fd)


def attached_programs(cgroup_dir: str) -> list[bytes]:
    """The instructions of every device program attached to the cgroup
    itself (not its parents), as the kernel keeps them ("xlated")."""
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        ids = (ctypes.c_uint32 * 64)()
        query = _Query(
            target_fd=fd, attach_type=BPF_CGROUP_DEVICE, prog_ids=ctypes.addressof(ids), prog_cnt=64
        )
        _bpf(BPF_PROG_QUERY, query, "BPF_PROG_QUERY")
        count = query.prog_cnt
    finally:
        os.close(fd)
    programs = []
    for prog_id in ids[:count]:
        prog_fd = _bpf(BPF_PROG_GET_FD_BY_ID, _GetFdById(prog_id=prog_id), "BPF_PROG_GET_FD_BY_ID")
        try:
            info = _ProgInfo()
            _bpf(
                BPF_OBJ_GET_INFO_BY_FD,
                _InfoByFd(bpf_fd=prog_fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info)),
                "BPF_OBJ_GET_INFO_BY_FD",
            )
            size = info.xlated_prog_len
            insns = ctypes.create_string_buffer(size)
            info = _ProgInfo(xlated_prog_len=size, xlated_prog_insns=ctypes.addressof(insns))
            _bpf(
                BPF_OBJ_GET_INFO_BY_FD,
                _InfoByFd(bpf_fd=prog_fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info)),
                "BPF_OBJ_GET_INFO_BY_FD",
            )
            programs.append(insns.raw[:size])
        finally:
            os.close(prog_fd)
    return programs
