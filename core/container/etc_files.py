"""``/etc/hostname``, ``/etc/hosts``, ``/etc/resolv.conf``: the container's own files.

They belong to this container, not to its image, and they change while it
lives (networks come and go, ``--add-host``).  Docker does not put them in
any layer: it writes them in the container's directory
(``/var/lib/docker/containers/ID/hostname`` ...) and bind-mounts each over
the same path in the container.  The init layer only holds empty
placeholders at those paths (the mount points), so writing to them inside
the container changes the file in the container's directory -- and never
shows in ``docker diff`` or lands in ``docker commit``.

Networking renders what goes in them; this module says where they live,
writes them (in place: see :func:`write_etc_file`) and says how they are
mounted.  Networking renders hosts and resolv.conf with
:func:`write_etc_file`, before or after the start's mounts step alike.
"""

from __future__ import annotations

import os

from stepbox.core.kernel.processes import MountSpec

from .record import ContainerRecord

# File name in the container's directory -> path in the container.
ETC_FILES = {"hostname": "/etc/hostname", "hosts": "/etc/hosts", "resolv.conf": "/etc/resolv.conf"}

HOSTS = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)
RESOLV_CONF = "# stepbox: containers have no network beyond lo\n"
_WRITE_IN_PLACE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def etc_file_path(record: ContainerRecord, name: str) -> str:
    """Where the container's ``name`` ("hosts") lives on the host."""
    if name not in ETC_FILES:
        raise ValueError(f"not a per-container file: {name!r} (one of {', '.join(ETC_FILES)})")
    log_dir = record.log_dir
    # os.path.join of a plain name, without its general work (six a start)
    return f"{log_dir}/{name}" if log_dir and not log_dir.endswith("/") else log_dir + name


def write_etc_file(record: ContainerRecord, name: str, text: str) -> str:
    """Give the container's ``name`` the contents ``text``; its path.  The
    file is changed in place, not replaced by a new one renamed over it (the
    house's usual atomic write): a bind mount shows one inode, so a running
    container would never see a replacement.  Docker writes them in place
    too; they are a few hundred bytes."""
    path = etc_file_path(record, name)
    fd = os.open(path, _WRITE_IN_PLACE, 0o644)
    try:
        data = text.encode()
        written = os.write(fd, data)
        while written < len(data):  # a short write: the rest
            written += os.write(fd, data[written:])
        if os.fstat(fd).st_mode & 0o777 != 0o644:
            os.fchmod(fd, 0o644)  # whatever the umask
    finally:
        os.close(fd)
    return path


def default_contents(record: ContainerRecord) -> dict[str, str]:
    return {"hostname": f"{record.hostname}\n", "hosts": HOSTS, "resolv.conf": RESOLV_CONF}


def write_etc_files(record: ContainerRecord) -> None:
    """At every start, as Docker does: the hostname and hosts files anew;
    resolv.conf too unless it exists (networking renders its own)."""
    for name, text in default_contents(record).items():
        if (
            name != "resolv.conf"
            or not record.started_once
            or not os.path.exists(etc_file_path(record, name))
        ):
            write_etc_file(record, name, text)


def etc_mounts(record: ContainerRecord, taken: set[str]) -> list[MountSpec]:
    """The bind mounts of the three files, except where the user mounted
    something of their own (``-v ./hosts:/etc/hosts``).  Read-only with
    ``--read-only``, like the root."""
    options = ("rbind", "rprivate") + (("ro",) if record.config.readonly_rootfs else ())
    return [
        MountSpec(etc_file_path(record, name), target, "bind", options, source_on_disk=True)
        for name, target in ETC_FILES.items()
        if target not in taken
    ]
