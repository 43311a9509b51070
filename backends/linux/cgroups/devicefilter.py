"""The cgroup-v2 device filter: device rules as an eBPF program.

cgroup v2 has no ``devices.allow``.  Instead a ``BPF_PROG_TYPE_CGROUP_DEVICE``
program attached to the cgroup is run by the kernel at every open(2) and
mknod(2) of a device file; it gets ``struct bpf_cgroup_dev_ctx``::

    u32 access_type   -- low 16 bits: BPF_DEVCG_DEV_BLOCK (1) / _CHAR (2)
                         high 16 bits: BPF_DEVCG_ACC_MKNOD (1) | _READ (2) | _WRITE (4)
    u32 major
    u32 minor

and answers 1 (allow) or 0 (deny: EPERM).  As runc's ``devicefilter`` (and
crun's ``ebpf.c`` before it) does, the rules are first reduced to the state
v1 would reach (:class:`~stepbox.core.kernel.devices.DeviceAllowlist`), then
each exception to the default becomes one block of compare-and-jump
instructions, tried in order, and the default answers last::

    r2 = ctx->access_type & 0xffff     ; type
    r3 = ctx->access_type >> 16        ; access
    r4 = ctx->major ; r5 = ctx->minor
    block i: if r2 != TYPE goto block i+1
             if (r3 & ACCESS) != r3 goto block i+1     (deny-by-default: all asked must be granted)
             if r4 != MAJOR goto block i+1             (left out for "*")
             if r5 != MINOR goto block i+1
             r0 = ALLOW; exit
    end:     r0 = DEFAULT; exit

In allow-by-default mode an exception refuses *any* overlap with its access
(v1's rule), so there its access test is ``if (r3 & ACCESS) == 0 goto next``
-- runc tests "all of it" in both modes, which lets ``rw`` through a rule that
denies only ``w``.

The instructions are written by hand here on purpose: it is a 20-line
program of five instruction kinds, and seeing them is the lesson.
:func:`rules_from_program` reads such a program back (from the kernel,
after attaching) into rules.
"""

from __future__ import annotations

import struct

from stepbox.core.kernel.devices import WILDCARD, DeviceAllowlist, DeviceRule

# <linux/bpf.h>
BPF_DEVCG_DEV_BLOCK = 1
BPF_DEVCG_DEV_CHAR = 2
BPF_DEVCG_ACC_MKNOD = 1
BPF_DEVCG_ACC_READ = 2
BPF_DEVCG_ACC_WRITE = 4
ACCESS_BITS = {"m": BPF_DEVCG_ACC_MKNOD, "r": BPF_DEVCG_ACC_READ, "w": BPF_DEVCG_ACC_WRITE}
TYPE_BITS = {"b": BPF_DEVCG_DEV_BLOCK, "c": BPF_DEVCG_DEV_CHAR}
ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE

# Opcodes (class | op | source) used by the program.
LDX_MEM_W = 0x61  # BPF_LDX | BPF_MEM | BPF_W
ALU32_AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
ALU32_RSH_K = 0x74  # BPF_ALU | BPF_RSH | BPF_K
ALU32_MOV_K = 0xB4  # BPF_ALU | BPF_MOV | BPF_K
ALU32_MOV_X = 0xBC  # BPF_ALU | BPF_MOV | BPF_X
JMP_JNE_K = 0x55  # BPF_JMP | BPF_JNE | BPF_K
JMP_JNE_X = 0x5D  # BPF_JMP | BPF_JNE | BPF_X
JMP_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JMP_EXIT = 0x95  # BPF_JMP | BPF_EXIT
R0, R1, R2, R3, R4, R5 = range(6)

LICENSE = "Apache"


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One ``struct bpf_insn``: u8 code, u8 dst:4|src:4, s16 off, s32 imm."""
    if imm >= 1 << 31:
        imm -= 1 << 32  # the field is signed; major/minor are compared as u32
    return struct.pack("<BBhi", code, dst | src << 4, off, imm)


PROLOGUE = [
    insn(LDX_MEM_W, R2, R1, 0),  # r2 = ctx->access_type
    insn(ALU32_AND_K, R2, imm=0xFFFF),  # r2 &= 0xffff: the type
    insn(LDX_MEM_W, R3, R1, 0),  # r3 = ctx->access_type
    insn(ALU32_RSH_K, R3, imm=16),  # r3 >>= 16: the access
    insn(LDX_MEM_W, R4, R1, 4),  # r4 = ctx->major
    insn(LDX_MEM_W, R5, R1, 8),  # r5 = ctx->minor
]


def _block(rule: DeviceRule, default_allow: bool) -> list[tuple[int, int, int, int, int | None]]:
    """One rule's instructions; jumps to the next block carry ``None`` as
    their offset until the block's length is known."""
    access = 0
    for c in rule.access:
        access |= ACCESS_BITS[c]
    ops: list[tuple[int, int, int, int, int | None]] = [(JMP_JNE_K, R2, 0, TYPE_BITS[rule.kind], None)]
    if access != ALL_ACCESS:
        ops.append((ALU32_MOV_X, R1, R3, 0, 0))
        ops.append((ALU32_AND_K, R1, 0, access, 0))
        if default_allow:
            ops.append((JMP_JEQ_K, R1, 0, 0, None))  # no overlap: not this rule
        else:
            ops.append((JMP_JNE_X, R1, R3, 0, None))  # not all of it granted: not this rule
    if rule.major != WILDCARD:
        ops.append((JMP_JNE_K, R4, 0, rule.major, None))
    if rule.minor != WILDCARD:
        ops.append((JMP_JNE_K, R5, 0, rule.minor, None))
    ops.append((ALU32_MOV_K, R0, 0, int(rule.allow), 0))
    ops.append((JMP_EXIT, 0, 0, 0, 0))
    return ops


def device_program(rules: list[DeviceRule]) -> bytes:
    """The program for ``rules`` (applied in order, v1 semantics)."""
    state = DeviceAllowlist.from_rules(rules)
    out = list(PROLOGUE)
    for rule in state.rules()[1:]:  # [0] is the reset to the default
        block = _block(rule, state.default_allow)
        for i, (code, dst, src, imm, off) in enumerate(block):
            if off is None:  # jump to the first instruction after this block
                off = len(block) - (i + 1)
            out.append(insn(code, dst, src, off, imm))
    out.append(insn(ALU32_MOV_K, R0, imm=int(state.default_allow)))
    out.append(insn(JMP_EXIT))
    return b"".join(out)


def rules_from_program(program: bytes) -> list[DeviceRule]:
    """Read a program :func:`device_program` wrote back into its rules (the
    reset first, then one rule per block).  Anything else is a ValueError."""
    raw = [struct.unpack("<BBhi", program[i : i + 8]) for i in range(0, len(program), 8)]
    if [struct.pack("<BBhi", *r) for r in raw[: len(PROLOGUE)]] != PROLOGUE:
        raise ValueError("not a stepbox device program: unexpected prologue")
    pos = len(PROLOGUE)
    blocks: list[tuple[str, int, int, str, bool]] = []
    while pos < len(raw):
        code, regs, _off, imm = raw[pos]
        if code == ALU32_MOV_K and regs & 0xF == R0:  # the default
            default_allow = bool(imm)
            rules = [DeviceRule(default_allow)]
            for kind, major, minor, access, allow in blocks:
                if allow == default_allow:
                    raise ValueError("a block that answers like the default")
                rules.append(DeviceRule(allow, kind, major, minor, access))
            return rules
        if code != JMP_JNE_K or regs & 0xF != R2:
            raise ValueError(f"unexpected instruction {code:#x} at {pos}")
        kind = {v: k for k, v in TYPE_BITS.items()}[imm]
        pos += 1
        access, major, minor = "rwm", WILDCARD, WILDCARD
        while True:
            code, regs, _off, imm = raw[pos]
            dst = regs & 0xF
            if code == ALU32_MOV_X:
                pos += 1
                continue
            if code == ALU32_AND_K and dst == R1:
                access = "".join(c for c in "rwm" if imm & ACCESS_BITS[c])
            elif code in (JMP_JNE_X, JMP_JEQ_K) and dst == R1:
                pass
            elif code == JMP_JNE_K and dst == R4:
                major = imm & 0xFFFFFFFF
            elif code == JMP_JNE_K and dst == R5:
                minor = imm & 0xFFFFFFFF
            elif code == ALU32_MOV_K and dst == R0:
                blocks.append((kind, major, minor, access, bool(imm)))
                pos += 2  # and the exit
                break
            else:
                raise ValueError(f"unexpected instruction {code:#x} at {pos}")
            pos += 1
    raise ValueError("the program has no default answer")
