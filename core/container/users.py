"""``--user`` / ``USER``: turn "name", "uid", "name:group" or "uid:gid" into
numbers, the way runc does it -- by reading the container's own /etc/passwd
and /etc/group, never the host's (the same name can mean a different uid in
every image)."""

from __future__ import annotations

from stepbox.core.kernel import FileOps

from .errors import BadRequest


class UnknownUser(BadRequest):
    pass


def _entries(files: FileOps, path: str) -> list[list[str]]:
    try:
        text = files.read(path).decode(errors="replace")
    except OSError:
        return []  # an image without the file: only numbers work
    return [
        line.split(":")
        for line in text.splitlines()
        if line and not line.startswith("#") and line.count(":") >= 2
    ]


def _find(entries: list[list[str]], wanted: str) -> list[str] | None:
    for fields in entries:
        if fields[0] == wanted or (wanted.isdigit() and fields[2] == wanted):
            return fields
    return None


def resolve_user(files: FileOps, spec: str) -> tuple[int, int, str]:
    """(uid, gid, home) for ``spec`` in the rootfs seen through ``files``."""
    user, _, group = (spec or "0").partition(":")
    entry = _find(_entries(files, "/etc/passwd"), user)
    if entry is not None and len(entry) >= 4 and entry[2].isdigit() and entry[3].isdigit():
        uid, gid = int(entry[2]), int(entry[3])
        home = entry[5] if len(entry) > 5 and entry[5] else "/"
    elif user.isdigit():
        # A uid nobody named is allowed, with primary group root.
        uid, gid, home = int(user), 0, "/root" if user == "0" else "/"
    else:
        raise UnknownUser(f"unable to find user {user}: no matching entries in passwd file")
    if group:
        found = _find(_entries(files, "/etc/group"), group)
        if found is not None and found[2].isdigit():
            gid = int(found[2])
        elif group.isdigit():
            gid = int(group)
        else:
            raise UnknownUser(f"unable to find group {group}: no matching entries in group file")
    return uid, gid, home
