"""Docker's seccomp profile format (``--security-opt seccomp=PROFILE.json``).

A profile is a default action and rules by syscall name, each rule possibly
*conditional*: only on some architectures (``includes.arches``), only when
the container holds a capability (``includes.caps`` -- e.g. ``mount`` is
allowed when CAP_SYS_ADMIN was added), only on a new enough kernel
(``includes.minKernel``), or the opposite (``excludes``).  :func:`parse_profile`
reads the JSON (the docker CLI sends the file's content in ``SecurityOpt``)
and checks everything that can be checked before the container starts;
:func:`resolve` decides the conditions for one container on one host --
moby's ``setupSeccomp`` -- and gives the :class:`SeccompFilter` the kernel
backend loads.

Fields dockerd 20.10 does not know but later Docker does (``defaultErrnoRet``)
are honoured; fields stepbox cannot honour (``listenerPath``: a seccomp agent)
and unknown fields are refused by name -- never silently ignored.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import NoReturn

from stepbox.core.kernel.capabilities import ALL_CAPABILITIES
from stepbox.core.kernel.seccomp import (
    ACTIONS,
    MAX_ARGS,
    OPERATORS,
    U64,
    ArgCondition,
    SeccompFilter,
    SyscallRule,
)

ARCHITECTURES = (
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
)
# Docker's name of the host's architecture (Go's GOARCH, as profiles'
# "arches" conditions spell it) -> the seccomp architecture.
NATIVE_ARCH = {
    "x86": "SCMP_ARCH_X86",
    "amd64": "SCMP_ARCH_X86_64",
    "arm": "SCMP_ARCH_ARM",
    "arm64": "SCMP_ARCH_AARCH64",
    "mips64": "SCMP_ARCH_MIPS64",
    "mips64n32": "SCMP_ARCH_MIPS64N32",
    "mipsel64": "SCMP_ARCH_MIPSEL64",
    "mips3l64n32": "SCMP_ARCH_MIPSEL64N32",
    "mipsle": "SCMP_ARCH_MIPSEL",
    "ppc": "SCMP_ARCH_PPC",
    "ppc64": "SCMP_ARCH_PPC64",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390": "SCMP_ARCH_S390",
    "s390x": "SCMP_ARCH_S390X",
    "riscv64": "SCMP_ARCH_RISCV64",
}
# uname's machine -> Docker's name of it.
MACHINE_TO_ARCH = {
    "x86_64": "amd64",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


class ProfileError(ValueError):
    """A profile that cannot be used; the message says why (Docker's words where it has them)."""


@dataclass(frozen=True)
class Condition:
    """A rule's ``includes`` or ``excludes``."""

    caps: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    min_kernel: tuple[int, int] | None = None  # (kernel, major): "4.8" -> (4, 8)

    @property
    def empty(self) -> bool:
        return not self.caps and not self.arches and self.min_kernel is None


@dataclass(frozen=True)
class ProfileRule:
    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None
    args: tuple[ArgCondition, ...] = ()
    includes: Condition = Condition()
    excludes: Condition = Condition()
    comment: str = ""


@dataclass(frozen=True)
class Profile:
    default_action: str
    rules: tuple[ProfileRule, ...] = ()
    default_errno_ret: int | None = None
    architectures: tuple[str, ...] = ()
    arch_map: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (arch, its sub-architectures)

    @property
    def disabled(self) -> bool:
        """No default action and no rules: Docker runs the container without seccomp."""
        return not self.default_action and not self.rules


# -- reading the JSON ---------------------------------------------------------------------------

_PROFILE_KEYS = {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls"}
_RULE_KEYS = {"name", "names", "action", "errnoRet", "args", "comment", "includes", "excludes"}
_ARG_KEYS = {"index", "value", "valueTwo", "op"}
_FILTER_KEYS = {"caps", "arches", "minKernel"}
_REFUSED = {
    "listenerPath": "a seccomp agent (SCMP_ACT_NOTIFY) is not supported by stepbox",
    "listenerMetadata": "a seccomp agent (SCMP_ACT_NOTIFY) is not supported by stepbox",
    "flags": "seccomp filter flags are not supported by stepbox",
}


def _fail(message: str) -> NoReturn:
    raise ProfileError(f"Decoding seccomp profile failed: {message}")


def _object(value, where: str, known: set[str]) -> dict:
    """The object with its keys spelled as ``known`` spells them: Go's JSON
    decoder, which dockerd uses, matches field names ignoring case."""
    if not isinstance(value, dict):
        _fail(f"{where} must be a JSON object, not {_json_kind(value)}")
    canonical = {k.lower(): k for k in (*known, *_REFUSED)}
    out = {}
    for key, item in value.items():
        name = canonical.get(key.lower())
        if name in _REFUSED:
            _fail(f"{where}: {name}: {_REFUSED[name]}")
        if name is None:
            _fail(f'{where}: unknown field "{key}"')
        out[name] = item
    return out


def _json_kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _string(value, where: str, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        _fail(f"{where} must be a string, not {_json_kind(value)}")
    return value


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(f"{where} must be an array of strings")
    return tuple(value)


def _uint(value, where: str, bits: int = 64) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        _fail(f"{where} must be an unsigned {bits}-bit integer, not {json.dumps(value)[:40]}")
    return value


def _action(value, where: str, allow_empty: bool = False) -> str:
    action = _string(value, where)
    if not action and allow_empty:
        return ""
    if action == "SCMP_ACT_NOTIFY":
        _fail(f"{where}: SCMP_ACT_NOTIFY needs a seccomp agent, which stepbox does not support")
    if action not in ACTIONS:
        _fail(f"{where}: string {action} is not a valid action for seccomp")
    return action


_KERNEL = re.compile(r"^(\d+)\.(\d+)$")


def _kernel_version(value, where: str) -> tuple[int, int] | None:
    text = _string(value, where)
    if not text:
        return None
    match = _KERNEL.match(text)
    if not match or int(match.group(1)) > 255 or int(match.group(2)) > 255:
        _fail(f'invalid kernel version: "{text}", expected "<kernel>.<major>"')
    version = (int(match.group(1)), int(match.group(2)))
    if version == (0, 0):
        _fail(f'invalid kernel version: "{text}", expected "<kernel>.<major>": version cannot be 0.0')
    return version


def _condition(value, where: str) -> Condition:
    if value is None:
        return Condition()
    data = _object(value, where, _FILTER_KEYS)
    caps = _strings(data.get("caps"), f"{where}.caps")
    for cap in caps:
        if cap not in ALL_CAPABILITIES:
            _fail(f'{where}.caps: unknown capability "{cap}"')
    return Condition(
        caps=caps,
        arches=_strings(data.get("arches"), f"{where}.arches"),
        min_kernel=_kernel_version(data.get("minKernel"), f"{where}.minKernel"),
    )


def _arg(value, where: str) -> ArgCondition:
    data = _object(value, where, _ARG_KEYS)
    index = _uint(data.get("index", 0), f"{where}.index", 32) or 0
    if index >= MAX_ARGS:
        _fail(f"{where}: syscalls only have up to {MAX_ARGS} arguments (index {index} given)")
    op = _string(data.get("op"), f"{where}.op")
    if op not in OPERATORS:
        _fail(f"{where}.op: {op or '(empty)'} is not a valid operator for seccomp")
    return ArgCondition(
        index=index,
        op=op,
        value=_uint(data.get("value", 0), f"{where}.value") or 0,
        value_two=_uint(data.get("valueTwo", 0), f"{where}.valueTwo") or 0,
    )


def _rule(value, where: str) -> ProfileRule:
    data = _object(value, where, _RULE_KEYS)
    name = _string(data.get("name"), f"{where}.name")
    names = _strings(data.get("names"), f"{where}.names")
    if name and names:
        _fail(
            f"{where}: 'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'"
        )
    names = (name,) if name else names
    if not names or not all(names):
        _fail(f"{where}: a rule needs the names of its system calls (empty string is not a valid syscall)")
    action = _action(data.get("action"), f"{where}.action")
    errno_ret = _uint(data.get("errnoRet"), f"{where}.errnoRet", 16)
    if errno_ret is not None and action not in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        _fail(f"{where}: errnoRet is only used with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {action}")
    args = data.get("args")
    if args is not None and not isinstance(args, list):
        _fail(f"{where}.args must be an array")
    return ProfileRule(
        names=names,
        action=action,
        errno_ret=errno_ret,
        args=tuple(_arg(a, f"{where}.args[{i}]") for i, a in enumerate(args or ())),
        includes=_condition(data.get("includes"), f"{where}.includes"),
        excludes=_condition(data.get("excludes"), f"{where}.excludes"),
        comment=_string(data.get("comment"), f"{where}.comment"),
    )


def _architecture(value, where: str) -> str:
    arch = _string(value, where)
    if arch not in ARCHITECTURES:
        _fail(f"{where}: {arch or '(empty)'} is not a valid seccomp architecture")
    return arch


def parse_profile(text: str | bytes) -> Profile:
    """A profile from its JSON text; :class:`ProfileError` saying what is wrong."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        _fail(f"invalid JSON: {e}")
    data = _object(data, "the profile", _PROFILE_KEYS)
    architectures = tuple(
        _architecture(a, f"architectures[{i}]")
        for i, a in enumerate(_strings(data.get("architectures"), "architectures"))
    )
    arch_map = []
    raw_map = data.get("archMap")
    if raw_map is not None and not isinstance(raw_map, list):
        _fail("archMap must be an array")
    for i, entry in enumerate(raw_map or ()):
        entry = _object(entry, f"archMap[{i}]", {"architecture", "subArchitectures"})
        arch = _architecture(entry.get("architecture"), f"archMap[{i}].architecture")
        subs = tuple(
            _architecture(s, f"archMap[{i}].subArchitectures")
            for s in _strings(entry.get("subArchitectures"), f"archMap[{i}].subArchitectures")
        )
        arch_map.append((arch, subs))
    if architectures and arch_map:
        _fail(
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'"
        )
    syscalls = data.get("syscalls")
    if syscalls is not None and not isinstance(syscalls, list):
        _fail("syscalls must be an array")
    profile = Profile(
        default_action=_action(data.get("defaultAction"), "defaultAction", allow_empty=True),
        default_errno_ret=_uint(data.get("defaultErrnoRet"), "defaultErrnoRet", 16),
        architectures=architectures,
        arch_map=tuple(arch_map),
        rules=tuple(_rule(r, f"syscalls[{i}]") for i, r in enumerate(syscalls or ())),
    )
    if not profile.default_action and profile.rules:
        _fail("defaultAction is required when there are rules")
    return profile


# -- deciding the conditions -------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """What the conditions of a profile depend on, besides the container."""

    arch: str  # Docker's name: "amd64"
    kernel: tuple[int, int]  # (6, 1) for "6.1.0-13-amd64"

    @classmethod
    def from_uname(cls, machine: str, release: str) -> Host:
        match = re.match(r"^(\d+)\.(\d+)", release)
        kernel = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        return cls(arch=MACHINE_TO_ARCH.get(machine, machine), kernel=kernel)


def _applies(rule: ProfileRule, host: Host, capabilities: frozenset[str]) -> bool:
    ex, inc = rule.excludes, rule.includes
    if ex.arches and host.arch in ex.arches:
        return False
    if ex.caps and any(cap in capabilities for cap in ex.caps):
        return False
    if ex.min_kernel is not None and host.kernel >= ex.min_kernel:
        return False
    if inc.arches and host.arch not in inc.arches:
        return False
    if inc.caps and not all(cap in capabilities for cap in inc.caps):
        return False
    if inc.min_kernel is not None and host.kernel < inc.min_kernel:
        return False
    return True


@functools.lru_cache(maxsize=64)
def resolve(profile: Profile, host: Host, capabilities: frozenset[str]) -> SeccompFilter | None:
    """The filter for a container whose bounding set is ``capabilities``;
    ``None`` if the profile disables seccomp (``{}``)."""
    if profile.disabled:
        return None
    architectures = profile.architectures
    native = NATIVE_ARCH.get(host.arch)
    if profile.arch_map and native is not None:
        for arch, subs in profile.arch_map:
            if arch == native:
                architectures = (arch, *subs)
                break
    rules = tuple(
        SyscallRule(rule.names, rule.action, rule.errno_ret, rule.args)
        for rule in profile.rules
        if _applies(rule, host, capabilities)
    )
    return SeccompFilter(profile.default_action, profile.default_errno_ret, architectures, rules)


def profile_text(profile: Profile) -> str:
    """The profile as Docker's JSON (what ``docker inspect`` would show)."""

    def condition(c: Condition) -> dict:
        out: dict = {}
        if c.caps:
            out["caps"] = list(c.caps)
        if c.arches:
            out["arches"] = list(c.arches)
        if c.min_kernel is not None:
            out["minKernel"] = f"{c.min_kernel[0]}.{c.min_kernel[1]}"
        return out

    data: dict = {"defaultAction": profile.default_action}
    if profile.default_errno_ret is not None:
        data["defaultErrnoRet"] = profile.default_errno_ret
    if profile.architectures:
        data["architectures"] = list(profile.architectures)
    if profile.arch_map:
        data["archMap"] = [{"architecture": a, "subArchitectures": list(s)} for a, s in profile.arch_map]
    data["syscalls"] = []
    for rule in profile.rules:
        entry: dict = {"names": list(rule.names), "action": rule.action}
        if rule.errno_ret is not None:
            entry["errnoRet"] = rule.errno_ret
        if rule.args:
            entry["args"] = [
                {"index": a.index, "value": a.value & U64, "valueTwo": a.value_two & U64, "op": a.op}
                for a in rule.args
            ]
        if rule.comment:
            entry["comment"] = rule.comment
        for key, cond in (("includes", rule.includes), ("excludes", rule.excludes)):
            if not cond.empty:
                entry[key] = condition(cond)
        data["syscalls"].append(entry)
    return json.dumps(data, indent=1)
