"""A seccomp filter, as a kernel backend loads it.

seccomp(2) lets a process install a filter that every later system call of
it (and of its children) passes through: the filter looks at the call's
number and arguments and answers "allow", "fail with errno N", "kill" ...
Docker installs one in every container (``Seccomp: 2`` in
/proc/PID/status) that refuses the calls a container has no business making
-- ``unshare``, ``mount``, ``reboot``, loading kernel modules.

This is the filter after the profile's conditions (architecture,
capabilities, kernel version) were decided -- the OCI runtime spec's
``linux.seccomp``: a default action and rules by syscall *name*.  The real
kernel backend compiles it with libseccomp; the simulator checks its
system calls against it with :meth:`SeccompFilter.decide`.
"""

from __future__ import annotations

import errno as errnos
import functools
from dataclasses import dataclass
from typing import Any

# The actions libseccomp knows, as profiles name them.
ACTIONS = (
    "SCMP_ACT_KILL",  # = SCMP_ACT_KILL_THREAD
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_LOG",
    "SCMP_ACT_ALLOW",
)
# SCMP_ACT_NOTIFY hands the call to a supervisor process over a file
# descriptor (seccomp_unotify(2)); stepbox has no such agent, so it is refused.

# Comparisons of an argument, as profiles name them.
OPERATORS = (
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)
MAX_ARGS = 6  # a system call has at most six arguments
U64 = (1 << 64) - 1


@dataclass(frozen=True)
class ArgCondition:
    """``args[index] OP value``; for SCMP_CMP_MASKED_EQ ``args[index] & value == value_two``."""

    index: int
    op: str
    value: int
    value_two: int = 0

    def holds(self, args: tuple[int, ...]) -> bool:
        arg = (args[self.index] if self.index < len(args) else 0) & U64
        op, value = self.op, self.value & U64
        if op == "SCMP_CMP_MASKED_EQ":
            return arg & value == self.value_two & U64
        return {
            "SCMP_CMP_NE": arg != value,
            "SCMP_CMP_LT": arg < value,
            "SCMP_CMP_LE": arg <= value,
            "SCMP_CMP_EQ": arg == value,
            "SCMP_CMP_GE": arg >= value,
            "SCMP_CMP_GT": arg > value,
        }[op]


@dataclass(frozen=True)
class SyscallRule:
    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None  # for SCMP_ACT_ERRNO / _TRACE; None: EPERM
    args: tuple[ArgCondition, ...] = ()

    def matches(self, name: str, args: tuple[int, ...]) -> bool:
        return name in self.names and all(cond.holds(args) for cond in self.args)


@dataclass(frozen=True)
class Verdict:
    """What the filter answers for one call."""

    action: str
    errno: int = 0  # for SCMP_ACT_ERRNO

    @property
    def allowed(self) -> bool:
        return self.action in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG")


@dataclass(frozen=True)
class SeccompFilter:
    default_action: str
    default_errno_ret: int | None = None
    architectures: tuple[str, ...] = ()  # "SCMP_ARCH_X86_64" ...; empty: the native one only
    rules: tuple[SyscallRule, ...] = ()

    def decide(self, name: str, args: tuple[int, ...] = ()) -> Verdict:
        """The action for a call of ``name`` with ``args`` (the simulator's
        use).  Rules are tried in order and the first whose conditions hold
        decides -- see backends/sim/SIMPLIFICATIONS.md for how that differs
        from libseccomp's own precedence when two rules of one call disagree."""
        for conditions, verdict in self._rules_of.get(name, ()):
            if not conditions or all(cond.holds(args) for cond in conditions):
                return verdict
        return self._default

    @functools.cached_property
    def _rules_of(self) -> dict[str, tuple[tuple[tuple[ArgCondition, ...], Verdict], ...]]:
        """For each call, its rules' conditions and answers, in order: asked
        on every simulated system call, so looked up, not searched."""
        index: dict[str, list[tuple[tuple[ArgCondition, ...], Verdict]]] = {}
        for rule in self.rules:
            answer = _verdict(rule.action, rule.errno_ret)
            for name in rule.names:
                index.setdefault(name, []).append((rule.args, answer))
        return {name: tuple(entries) for name, entries in index.items()}

    @functools.cached_property
    def _default(self) -> Verdict:
        return _verdict(self.default_action, self.default_errno_ret)

    def to_dict(self) -> dict[str, Any]:
        """OCI runtime-spec ``linux.seccomp`` (what ``config.json`` would carry)."""
        return {
            "defaultAction": self.default_action,
            **({"defaultErrnoRet": self.default_errno_ret} if self.default_errno_ret is not None else {}),
            "architectures": list(self.architectures),
            "syscalls": [
                {
                    "names": list(rule.names),
                    "action": rule.action,
                    **({"errnoRet": rule.errno_ret} if rule.errno_ret is not None else {}),
                    "args": [
                        {"index": c.index, "value": c.value, "valueTwo": c.value_two, "op": c.op}
                        for c in rule.args
                    ],
                }
                for rule in self.rules
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeccompFilter:
        return cls(
            default_action=data["defaultAction"],
            default_errno_ret=data.get("defaultErrnoRet"),
            architectures=tuple(data.get("architectures") or ()),
            rules=tuple(
                SyscallRule(
                    names=tuple(rule["names"]),
                    action=rule["action"],
                    errno_ret=rule.get("errnoRet"),
                    args=tuple(
                        ArgCondition(a["index"], a["op"], a["value"], a.get("valueTwo", 0))
                        for a in rule.get("args") or ()
                    ),
                )
                for rule in data.get("syscalls") or ()
            ),
        )


def _verdict(action: str, errno_ret: int | None) -> Verdict:
    if action == "SCMP_ACT_ERRNO":
        return Verdict(action, errnos.EPERM if errno_ret is None else errno_ret)
    if action == "SCMP_ACT_TRACE":
        # With no tracer attached the kernel fails the call with ENOSYS.
        return Verdict(action, errnos.ENOSYS)
    return Verdict(action)
