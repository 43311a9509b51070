"""``--user`` / ``USER`` / ``--group-add``: who the container's process runs as.

"name", "uid", "name:group" or "uid:gid" become numbers the way runc does it
(``libcontainer/user.GetExecUser``) -- by reading the container's own
/etc/passwd and /etc/group, never the host's (the same name can mean a
different uid in every image).  The supplementary groups are Docker's
(moby ``daemon/oci_linux.go getUser``): the primary gid, then -- only when
the user was found by name and no group was given -- every group of
/etc/group that lists the user, then each ``--group-add`` (by name or number).
So ``-u 1000:1000`` gives ``groups=1000`` and root in busybox ``0 10``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from stepbox.core.kernel import Credentials, FileOps

from .errors import BadRequest

MAX_ID = (1 << 31) - 1  # runc's maxID


class UnknownUser(BadRequest):
    pass


@dataclass(frozen=True)
class ExecUser:
    uid: int
    gid: int
    groups: tuple[int, ...]  # supplementary, as setgroups(2) gets them
    home: str

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.uid, self.gid, self.groups)


def _file(files: FileOps, path: str) -> bytes | None:
    """The bytes of a passwd/group file; None if the image has none."""
    try:
        return bytes(files.read(path))
    except OSError:
        return None  # an image without the file: only numbers work


def _entries(data: bytes | None, fields: int) -> Entries:
    """The lines of a passwd/group file with at least ``fields`` fields (as
    runc parses them: comments and short lines are skipped)."""
    return () if data is None else _parse_entries(data, fields)


Entries = tuple[tuple[str, ...], ...]


@functools.lru_cache(maxsize=64)
def _parse_entries(data: bytes, fields: int) -> Entries:
    """Parsed by content: every container of an image reads the same
    files at every start (the parse is immutable, so it is shared)."""
    entries = []
    for line in data.decode(errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = tuple(line.split(":"))
        if len(parts) >= fields:
            entries.append(parts)
    return tuple(entries)


def _number(text: str) -> int | None:
    return int(text) if text.isdecimal() else None


def _in_range(value: int, what: str) -> int:
    if value > MAX_ID:
        raise UnknownUser(f"{what} {value} is out of range (0-{MAX_ID})")
    return value


def resolve_user(files: FileOps, spec: str, group_add: tuple[str, ...] | list[str] = ()) -> ExecUser:
    """The user ``spec`` names in the rootfs seen through ``files``.  The
    files are read from the rootfs at every start; what they say is worked
    out once per content (every container of an image asks the same)."""
    return _resolve(_file(files, "/etc/passwd"), _file(files, "/etc/group"), spec or "", tuple(group_add))


@functools.lru_cache(maxsize=256)
def _resolve(
    passwd_data: bytes | None, group_data: bytes | None, spec: str, group_add: tuple[str, ...]
) -> ExecUser:
    """resolve_user's answer from the two files' bytes: a pure function of
    its arguments (all immutable), and an ExecUser is frozen, so the cache
    needs no invalidation -- a changed file is other bytes, another key.
    An UnknownUser is raised anew each time (lru_cache keeps no errors)."""
    user_arg, _, group_arg = spec.partition(":")
    uid_arg, gid_arg = _number(user_arg), _number(group_arg)
    uid, gid, home = 0, 0, "/"
    matched_name = ""
    passwd = _entries(passwd_data, 4)
    for fields in passwd:
        if not fields[2].isdecimal() or not fields[3].isdecimal():
            continue
        if (not user_arg and int(fields[2]) == 0) or (
            user_arg and (int(fields[2]) == uid_arg if uid_arg is not None else fields[0] == user_arg)
        ):
            matched_name = fields[0]
            uid, gid = int(fields[2]), int(fields[3])
            home = fields[5] if len(fields) > 5 and fields[5] else "/"
            break
    else:
        if user_arg and uid_arg is None:
            raise UnknownUser(f"unable to find user {user_arg}: no matching entries in passwd file")
        if uid_arg is not None:
            uid = _in_range(uid_arg, "uid")
            home = "/root" if uid == 0 else "/"
    sgids: list[int] = []
    group_file = _entries(group_data, 3)
    if group_arg:
        for fields in group_file:
            if fields[2].isdecimal() and (
                int(fields[2]) == gid_arg if gid_arg is not None else fields[0] == group_arg
            ):
                gid = int(fields[2])
                break
        else:
            if gid_arg is None:
                raise UnknownUser(f"unable to find group {group_arg}: no matching entries in group file")
            gid = _in_range(gid_arg, "gid")
    elif matched_name:
        for fields in group_file:
            members = fields[3].split(",") if len(fields) > 3 and fields[3] else []
            if matched_name in members and fields[2].isdecimal():
                sgids.append(int(fields[2]))
    groups = (gid, *sgids, *additional_groups(group_file, group_add))
    return ExecUser(uid, gid, tuple(dict.fromkeys(groups)), home)  # once each, as Docker shows them


def additional_groups(group_file: Entries, wanted: tuple[str, ...] | list[str]) -> list[int]:
    """``--group-add`` entries, by name or number (runc's GetAdditionalGroups)."""
    gids: list[int] = []
    for name in wanted:
        for fields in group_file:
            if fields[2].isdecimal() and (fields[0] == name or fields[2] == name):
                found = int(fields[2])
                break
        else:
            number = _number(name)
            if number is None:
                raise UnknownUser(f"Unable to find group {name}: no matching entries in group file")
            found = _in_range(number, "gid")
        if found not in gids:
            gids.append(found)
    return gids
