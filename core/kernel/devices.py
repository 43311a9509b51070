"""Devices: which device files a container may create and open.

A device file (``/dev/null`` is character device 1:3) is a door into a
driver.  Holding CAP_MKNOD a container can *make* any device file -- a disk
(block 8:0), physical memory (char 1:1) -- so what protects the host is the
**device cgroup**: for every open(2) and mknod(2) of a device the kernel asks
the caller's cgroup whether this type, major:minor and access (read, write,
mknod) is allowed.  Docker allows a short list (null, zero, full, random,
urandom, tty, pts, ptmx, console, tun) and mknod of anything; opening a disk
node made inside fails with EPERM.

cgroup v1 keeps the list in the kernel (``devices.allow``/``devices.deny``,
read back from ``devices.list``); cgroup v2 has no such files -- a small BPF
program attached to the cgroup answers instead.  Both answer from the same
rules, and :class:`DeviceAllowlist` is the v1 semantics written down, so the
simulator, the v1 writer and the v2 program emitter all mean the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

WILDCARD = -1  # "*" as a major or minor number
ACCESS_ORDER = "rwm"


@dataclass(frozen=True)
class DeviceRule:
    """One line of ``devices.allow``/``devices.deny``: ``c 1:3 rwm``.
    ``kind`` is "a" (all), "b" (block) or "c" (char)."""

    allow: bool
    kind: str = "a"
    major: int = WILDCARD
    minor: int = WILDCARD
    access: str = "rwm"

    def __post_init__(self) -> None:
        if self.kind not in ("a", "b", "c"):
            raise ValueError(f"invalid device type {self.kind!r} (a, b or c)")
        if not self.access or set(self.access) - set(ACCESS_ORDER):
            raise ValueError(f"invalid device access {self.access!r} (some of r, w, m)")
        for number in (self.major, self.minor):
            if number != WILDCARD and not 0 <= number < 1 << 32:
                raise ValueError(f"invalid device number {number}")

    @property
    def line(self) -> str:
        """As written to and read from the v1 files (``devices.list``)."""
        if self.kind == "a":
            return "a *:* rwm"
        major = "*" if self.major == WILDCARD else str(self.major)
        minor = "*" if self.minor == WILDCARD else str(self.minor)
        return f"{self.kind} {major}:{minor} {normal_access(self.access)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "allow": self.allow,
            "type": self.kind,
            "major": self.major,
            "minor": self.minor,
            "access": self.access,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceRule:
        return cls(data["allow"], data["type"], data["major"], data["minor"], data["access"])


def normal_access(access: Iterable[str]) -> str:
    return "".join(c for c in ACCESS_ORDER if c in access)


def parse_rule_line(line: str, allow: bool = True) -> DeviceRule:
    """``c 1:3 rwm``, ``b *:* m`` or ``a`` -- the v1 file syntax."""
    parts = line.split()
    if parts and parts[0] == "a":
        return DeviceRule(allow)
    if len(parts) != 3 or parts[0] not in ("b", "c") or ":" not in parts[1]:
        raise ValueError(f"invalid device rule {line!r}")
    major, _, minor = parts[1].partition(":")

    def number(text: str) -> int:
        if text == "*":
            return WILDCARD
        if not text.isdecimal():
            raise ValueError(f"invalid device rule {line!r}")
        return int(text)

    return DeviceRule(allow, parts[0], number(major), number(minor), parts[2])


@dataclass(frozen=True)
class DeviceNode:
    """A device file made in the container's /dev (mknod), like runc's."""

    path: str  # in the container: "/dev/null"
    kind: str  # "c" or "b"
    major: int
    minor: int
    mode: int = 0o666
    uid: int = 0
    gid: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.kind,
            "major": self.major,
            "minor": self.minor,
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceNode:
        return cls(
            data["path"],
            data["type"],
            data["major"],
            data["minor"],
            data.get("mode", 0o666),
            data.get("uid", 0),
            data.get("gid", 0),
        )


@dataclass
class _Exception:
    kind: str
    major: int
    minor: int
    access: set[str]


@dataclass
class DeviceAllowlist:
    """The device cgroup's state, as ``security/device_cgroup.c`` keeps it:
    a default behaviour (allow or deny) and a list of exceptions to it.

    Rules are *applied* as writes to ``devices.allow``/``devices.deny`` are:
    "a" resets the default and clears the list; otherwise an allow rule in
    deny mode adds (or widens) an exception and a deny rule narrows or removes
    the one with the very same type and numbers -- no wildcard matching when
    editing the list.  :meth:`permits` is the kernel's check at open/mknod."""

    default_allow: bool = True
    exceptions: list[_Exception] = field(default_factory=list)
    # The exceptions by (type, major, minor), for permits(): asked for every
    # device node of every start; dropped by apply(), made again when asked.
    _by_key: dict[tuple[str, int, int], list[_Exception]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # permits()'s answers by its arguments: the same few questions (the
    # default device nodes, "m") at every start of every container that
    # shares this list.  Dropped with _by_key by apply(), the only way the
    # list changes.
    _answers: dict[tuple[str, int, int, str], bool] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def from_rules(cls, rules: Iterable[DeviceRule]) -> DeviceAllowlist:
        allowlist = cls()
        for rule in rules:
            allowlist.apply(rule)
        return allowlist

    def apply(self, rule: DeviceRule) -> None:
        self._by_key = self._answers = None
        if rule.kind == "a":
            self.default_allow = rule.allow
            self.exceptions.clear()
            return
        # An exception says the opposite of the default.
        if rule.allow != self.default_allow:
            self._add(rule)
        else:
            self._remove(rule)

    def _add(self, rule: DeviceRule) -> None:
        for ex in self.exceptions:
            if (ex.kind, ex.major, ex.minor) == (rule.kind, rule.major, rule.minor):
                ex.access |= set(rule.access)
                return
        self.exceptions.append(_Exception(rule.kind, rule.major, rule.minor, set(rule.access)))

    def _remove(self, rule: DeviceRule) -> None:
        for ex in list(self.exceptions):
            if (ex.kind, ex.major, ex.minor) == (rule.kind, rule.major, rule.minor):
                ex.access -= set(rule.access)
                if not ex.access:
                    self.exceptions.remove(ex)

    def permits(self, kind: str, major: int, minor: int, access: str) -> bool:
        """May a process of this cgroup ``access`` ("r", "w", "m", or a mix)
        the ``kind`` ("b"/"c") device ``major:minor``?"""
        answers = self._answers
        if answers is None:
            answers = self._answers = {}
        question = (kind, major, minor, access)
        answer = answers.get(question)
        if answer is None:
            answer = self._decide(kind, major, minor, access)
            if len(answers) < 1024:
                answers[question] = answer
        return answer

    def _decide(self, kind: str, major: int, minor: int, access: str) -> bool:
        wanted = set(access)
        by_key = self._by_key
        if by_key is None:
            by_key = self._by_key = {}
            for ex in self.exceptions:
                by_key.setdefault((ex.kind, ex.major, ex.minor), []).append(ex)
        # The exceptions that match: this very device, or a wildcard for
        # either number.  deny-by-default: one must grant all of it; allow-
        # by-default: any overlap with a denying one refuses.
        allow = self.default_allow
        for key in (
            (kind, major, minor),
            (kind, WILDCARD, minor),
            (kind, major, WILDCARD),
            (kind, WILDCARD, WILDCARD),
        ):
            for ex in by_key.get(key, ()):
                if allow and wanted & ex.access:
                    return False
                if not allow and wanted <= ex.access:
                    return True
        return allow

    def rules(self) -> list[DeviceRule]:
        """The smallest rule list that leads to this state from any other:
        the reset ("a") first, then the exceptions ordered as runc orders
        them (major, minor, type; a wildcard before any number) -- which is
        also the order ``devices.list`` shows when they are written so."""
        rules = [DeviceRule(self.default_allow)]
        for ex in sorted(self.exceptions, key=lambda e: (e.major, e.minor, e.kind)):
            rules.append(
                DeviceRule(not self.default_allow, ex.kind, ex.major, ex.minor, normal_access(ex.access))
            )
        return rules

    def listing(self) -> list[str]:
        """What ``devices.list`` shows: "a *:* rwm" in allow-by-default mode
        (the kernel lists no exceptions then), else the exceptions of the
        deny-by-default list in the order they were first added."""
        if self.default_allow:
            return ["a *:* rwm"]
        return [
            DeviceRule(True, ex.kind, ex.major, ex.minor, normal_access(ex.access)).line
            for ex in self.exceptions
        ]
