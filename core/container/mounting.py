"""Volumes, bind mounts and tmpfs, wired into a container's lifecycle.

What the plan's steps do, in the order Docker does it:

* **create** -- :func:`plan_mount_points` reads the request (``-v``,
  ``--mount``, ``--tmpfs``, ``--volumes-from``, the image's ``VOLUME``s) and
  refuses what dockerd refuses, before anything exists; then
  :func:`create_volumes` makes the volumes that do not exist yet and fills
  new, empty ones from the image (copy-up);
* **start** -- :func:`prepare_host_side` readies the host: a volume with
  driver options gets its filesystem mounted, a missing ``-v`` source
  directory is made, the container's hostname/hosts/resolv.conf are
  written; :func:`user_mounts` lists what the container's first process
  mounts after ``/proc``, ``/dev`` and ``/sys``; with ``--read-only`` the root
  is remounted read-only after ``pivot_root`` (:func:`readonly_root`);
* **exit** -- :func:`release_volumes`: the container no longer uses its
  volumes; a volume's filesystem is unmounted when its last user is gone
  (the count the volume store keeps, as moby's local driver does);
* **remove** -- :func:`remove_anonymous_volumes` (``rm -v``, ``run --rm``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stepbox.core.kernel.processes import MountSpec
from stepbox.core.kernel.unionfs import EntryKind
from stepbox.core.volumes.copy import copy_into_empty
from stepbox.core.volumes.errors import NoSuchVolume, VolumeError, VolumeInUse
from stepbox.core.volumes.store import Volume, VolumeStore

from . import mount_points as mp
from .errors import BadRequest, NoSuchContainer
from .etc_files import etc_mounts, write_etc_files
from .flags import InvalidConfig
from .mount_points import BIND, TMPFS, VOLUME, MountPoint
from .record import PAUSED, RUNNING, ContainerRecord

if TYPE_CHECKING:
    from stepbox.core.kernel.host_mounts import HostMounts
    from stepbox.core.kernel.unionfs import FileOps, UnionMount

    from .config import ContainerConfig
    from .context import LifecycleContext
    from .store import ContainerStore

# runc allows these files under /proc to be bind-mounted (lxcfs emulates them).
PROC_FILES_ALLOWED = (
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
)


class MountFailed(BadRequest):
    """A mount Docker accepts at create but that fails at start (runc's
    checks, a volume's device that cannot be mounted): the container stays
    created, the start fails."""


# -- create: what is asked for ------------------------------------------------------------


def plan_mount_points(
    config: ContainerConfig,
    image_config: dict[str, Any],
    find_container: Callable[[str], ContainerRecord],
    daemon_root: str | None = None,
) -> list[MountPoint]:
    """The container's mount points, by destination, as moby's
    registerMountPoints orders them: ``--volumes-from`` first, then ``-v``
    binds and volumes, then ``--mount`` (each may replace what came before
    at the same destination; ``-v`` and ``--mount`` may not repeat one),
    then anonymous volumes for ``-v DEST`` and the image's ``VOLUME``s
    where nothing is mounted yet.  Raises InvalidConfig with Docker's
    message; nothing is created."""
    points: dict[str, MountPoint] = {}
    taken_by_request: set[str] = set()
    for destination in config.tmpfs:
        mp.check_tmpfs_destination(destination)
    for spec in config.volumes_from:
        name, mode = mp.parse_volumes_from(spec)
        try:
            source = find_container(name)
        except NoSuchContainer as e:
            raise InvalidConfig(str(e)) from None
        for data in source.mounts:
            inherited = MountPoint.from_dict(data)
            inherited.rw = inherited.rw and mp.read_write(mode)
            inherited.mode = ""
            inherited.copy_data = False
            inherited.create_source = inherited.type == BIND  # moby's copy drops SkipMountpointCreation
            points[inherited.destination] = inherited
    for raw in config.binds:
        point = mp.parse_bind(raw, config.volume_driver)
        _daemon_root_propagation(point, daemon_root)
        _default_volume_mode(point)
        if point.destination in taken_by_request or point.destination in {mp.clean(d) for d in config.tmpfs}:
            raise mp.duplicate(point.destination)
        taken_by_request.add(point.destination)
        points[point.destination] = point
    for mount in config.mounts:
        point = mp.parse_mount(mount)
        _daemon_root_propagation(point, daemon_root)
        _default_volume_mode(point)
        if point.destination in taken_by_request:
            raise mp.duplicate(mount.get("Target", ""))
        taken_by_request.add(point.destination)
        points[point.destination] = point
    tmpfs = {mp.clean(d) for d in config.tmpfs}
    anonymous = list(config.volumes) + list((image_config.get("Volumes") or {}).keys())
    for path in anonymous:
        point = image_volume(path, config.volume_driver)
        if point.destination in points or point.destination in tmpfs:
            continue  # something is mounted there already
        points[point.destination] = point
    return list(points.values())


def image_volume(path: str, driver: str) -> MountPoint:
    """An anonymous volume for ``-v /path`` or an image's ``VOLUME /path``,
    filled from the image.  A relative path (``-v x``, which dockerd takes
    as it comes) is resolved inside the container's root, as dockerd's
    GetResourcePath does: mounted at /x, shown as "x"."""
    cleaned = mp.clean(path)
    point = MountPoint(type=VOLUME, destination=cleaned, anonymous=True, copy_data=True, driver=driver)
    if not cleaned.startswith("/"):
        point.destination, point.destination_as_asked = mp.clean("/" + cleaned), cleaned
    return point


def _default_volume_mode(point: MountPoint) -> None:
    """moby's setBindModeIfNull: a volume asked for with ``-v`` or
    ``--mount`` (local driver) shows mode "z" (an SELinux relabel, which
    means nothing without SELinux); one made for an image VOLUME shows ""."""
    if point.type == VOLUME and point.driver in ("", "local") and not point.mode:
        point.mode = "z"


def _daemon_root_propagation(point: MountPoint, daemon_root: str | None) -> None:
    """moby's validateBindDaemonRoot: a bind of the daemon's own state (or
    of a directory that holds it) is ``rslave``, so that the daemon's mounts
    there reach the container and its unmounts too."""
    if point.type != BIND or not daemon_root:
        return
    source, root = point.source, daemon_root
    if not (source.startswith(root) or root.startswith(source)):
        return
    asked = (point.spec.get("BindOptions") or {}).get("Propagation", "")
    if asked in ("", "rslave", "rshared"):
        if not asked:
            point.propagation = "rslave"
        return
    raise InvalidConfig(
        'invalid mount config: must use either propagation mode "rslave" or "rshared" when mount '
        f'source is within the daemon root, daemon root: "{root}", bind mount source: "{source}", '
        f'propagation: "{asked}"'
    )


# -- create: the volumes ------------------------------------------------------------------


def create_volumes(ctx: LifecycleContext, store: VolumeStore) -> None:
    """Make the volumes the container needs that do not exist yet (undone
    if the create fails later), then copy the image's content into each new,
    empty one.  An image ``VOLUME`` over a file is refused first."""
    record = ctx.record
    if not record.mounts and not record.image_config.get("Volumes"):
        return  # most containers: nothing to make (the step costs nothing then)
    points = [MountPoint.from_dict(d) for d in record.mounts]
    taken = user_destinations(record)
    for path in record.image_config.get("Volumes") or {}:
        point = image_volume(path, record.config.volume_driver)
        if point.destination not in taken:  # the image's VOLUMEs, where nothing is mounted
            points.append(point)
            taken.add(point.destination)
    if not any(p.type == VOLUME for p in points):
        return
    # Until the record names them, a volume rm or prune must not take them.
    with ctx.locks.volumes:
        _create_volumes(ctx, store, points)
        ctx.save()


def _create_volumes(ctx: LifecycleContext, store: VolumeStore, points: list[MountPoint]) -> None:
    record = ctx.record
    wanted = [p for p in points if p.type == VOLUME and not p.source]
    if not wanted:
        return
    made: list[Volume] = []
    ctx.on_undo("remove the volumes made for this container", lambda: _remove_all(ctx, store, made))
    with _image_files(ctx) as rootfs:
        for point in wanted:
            if point.anonymous:
                try:
                    st = rootfs.stat(point.destination)
                except (FileNotFoundError, NotADirectoryError):
                    st = None
                if st is not None and st.kind is not EntryKind.DIR:
                    raise InvalidConfig(
                        f"cannot mount volume over existing file, file exists {point.destination}"
                    )
        for point in wanted:
            volume_options = point.spec.get("VolumeOptions") or {}
            volume, created = store.create(
                point.name or None,
                driver=point.driver,
                options=(volume_options.get("DriverConfig") or {}).get("Options") or {},
                labels=volume_options.get("Labels") or {},
                anonymous=point.anonymous,
            )
            if created:
                made.append(volume)
            point.name, point.source, point.driver = volume.name, volume.mountpoint, volume.driver
            if point.copy_data:
                user = f"create {record.id}"
                store.use(volume, user)
                try:
                    copy_into_empty(rootfs, point.destination, store.files(volume))
                finally:
                    store.release(volume, user)
    record.mounts = [p.to_dict() for p in points]


class _image_files:
    """The container's root as it is before it ever ran (image + init
    layer), mounted for the length of a ``with`` block -- as dockerd mounts
    it to look at and copy from the image when it creates a container."""

    def __init__(self, ctx: LifecycleContext) -> None:
        self.ctx = ctx
        self.mount: UnionMount | None = None

    def __enter__(self) -> FileOps:
        unionfs, record = self.ctx.kernel.unionfs, self.ctx.record
        self.mount = unionfs.mount([record.init_layer, *record.lowers], record.rw_layer, record.id)
        return unionfs.merged(self.mount)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.mount is not None:
            self.ctx.kernel.unionfs.unmount(self.mount)


def _remove_all(ctx: LifecycleContext, store: VolumeStore, volumes: list[Volume]) -> None:
    with ctx.locks.volumes:
        for volume in volumes:
            try:
                store.remove(volume)
            except NoSuchVolume:
                pass


# -- start: the host's side ---------------------------------------------------------------


def prepare_host_side(ctx: LifecycleContext, store: VolumeStore) -> None:
    """Before the container's process exists: its hostname/hosts/resolv.conf
    files, the volumes' filesystems, the bind sources -- and runc's and
    Docker's start-time checks, so a mount that cannot work fails the start
    (the container stays created, as with Docker)."""
    record, host = ctx.record, ctx.kernel.host_mounts
    points = [MountPoint.from_dict(d) for d in record.mounts]
    for point in points:
        _check_proc_mount(point.source if point.type == BIND else point.type, point.destination)
    for destination in record.config.tmpfs:
        _check_proc_mount(TMPFS, mp.clean(destination))
        tmpfs_options(record.config.tmpfs[destination])  # refuses a bad option now
    write_etc_files(record)
    if not points:
        return
    mounted: list[Volume] = []
    ctx.on_undo("release the volumes", lambda: _release(ctx, store, mounted))
    for point in points:
        if point.type == VOLUME:
            with ctx.locks.volumes:  # not mounted and unmounted by an exit at once
                volume = _volume_of(store, point)
                try:
                    store.use(volume, record.id)
                except VolumeError as e:
                    raise MountFailed(str(e)) from None
                mounted.append(volume)
        elif point.type == BIND:
            if point.create_source and not os.path.lexists(point.source):
                try:
                    os.makedirs(point.source, 0o755, exist_ok=True)  # -v makes it; --mount refused earlier
                except OSError as e:
                    if e.errno != errno.ENOTDIR:
                        raise MountFailed(
                            f"error while creating mount source path '{point.source}': {e.strerror}"
                        ) from None
            effective_propagation(host, point)


def _volume_of(store: VolumeStore, point: MountPoint) -> Volume:
    try:
        return store.get(point.name)
    except NoSuchVolume:
        raise MountFailed(
            f"error while mounting volume '{point.source}': no such volume {point.name}"
        ) from None


def effective_propagation(host: HostMounts, point: MountPoint) -> str:
    """Docker's ensureShared / ensureSharedOrSlave: an ``rshared`` bind
    needs its source on a shared host mount, an ``rslave`` one on a shared
    or slave mount.  The ``rslave`` Docker gives a bind of its own state
    directory by itself falls back to private instead of failing."""
    if point.propagation not in ("shared", "rshared", "slave", "rslave"):
        return point.propagation or mp.DEFAULT_PROPAGATION
    where, propagation = host.propagation(point.source)
    if point.propagation in ("shared", "rshared"):
        if propagation != "shared":
            raise MountFailed(f"path {point.source} is mounted on {where} but it is not a shared mount")
        return point.propagation
    if propagation in ("shared", "slave"):
        return point.propagation
    if (point.spec.get("BindOptions") or {}).get("Propagation"):
        raise MountFailed(f"path {point.source} is mounted on {where} but it is not a shared or slave mount")
    return mp.DEFAULT_PROPAGATION  # Docker's fallback for its own root


def _check_proc_mount(source: str, destination: str) -> None:
    """runc's checkProcMount: nothing but a proc filesystem over /proc, and
    nothing under it but a few files lxcfs emulates."""
    if destination == "/proc":
        raise MountFailed(
            f'error mounting "{source}" to rootfs at "/proc": "/proc" cannot be mounted because it is '
            "not of type proc"
        )
    if destination.startswith("/proc/") and destination not in PROC_FILES_ALLOWED:
        raise MountFailed(
            f'error mounting "{source}" to rootfs at "{destination}": "{destination}" cannot be '
            "mounted because it is inside /proc"
        )


def tmpfs_options(data: str) -> tuple[str, ...]:
    """What a ``--tmpfs`` mount gets: Docker's noexec, nosuid, nodev and
    rprivate, then the user's options, merged (the last of each wins)."""
    words = ["noexec", "nosuid", "nodev", "rprivate"] + [w for w in data.split(",") if w]
    try:
        merged = mp.merge_tmpfs_options(words)
    except InvalidConfig as e:
        raise MountFailed(str(e)) from None
    return tuple(merged)


# -- start: in the container --------------------------------------------------------------


def user_destinations(record: ContainerRecord) -> set[str]:
    return {d["destination"] for d in record.mounts} | {mp.clean(d) for d in record.config.tmpfs}


def user_mounts(record: ContainerRecord, host: HostMounts) -> list[MountSpec]:
    """What the container's first process mounts after the defaults: the
    user's mounts, parents before children (``/data`` before
    ``/data/logs``), then the container's own /etc files."""
    specs: list[tuple[str, MountSpec]] = []
    for entry in record.mounts:
        point = MountPoint.from_dict(entry)
        if point.type == TMPFS:
            words = mp.tmpfs_data(point.spec.get("TmpfsOptions"), not point.rw)
            specs.append(
                (point.destination, MountSpec("tmpfs", point.destination, "tmpfs", tmpfs_options(words)))
            )
            continue
        options = ["bind" if point.non_recursive else "rbind"]
        if not point.rw:
            options.append(_readonly_word(point, record, host.recursive_readonly))
        options.append(effective_propagation(host, point) if point.type == BIND else mp.DEFAULT_PROPAGATION)
        specs.append(
            (
                point.destination,
                MountSpec(point.source, point.destination, "bind", tuple(options), source_on_disk=True),
            )
        )
    for destination, data in record.config.tmpfs.items():
        destination = mp.clean(destination)
        specs.append((destination, MountSpec("tmpfs", destination, "tmpfs", tmpfs_options(data))))
    if not specs:
        return etc_mounts(record, set())  # nothing of the user's (the usual start)
    specs.sort(key=lambda item: item[0].count("/"))  # moby's sortMounts: by depth, stably
    taken = {destination for destination, _ in specs}
    return [spec for _, spec in specs] + etc_mounts(record, taken)


def _readonly_word(point: MountPoint, record: ContainerRecord, kernel_can: bool) -> str:
    """``ro`` (this mount only) or ``rro`` (and everything mounted below it).
    Docker 25 (API 1.44) makes read-only binds recursive where the kernel
    can (mount_setattr, Linux 5.12); dockerd 20.10 -- and stepbox for a
    client speaking an older API -- only the top mount."""
    if point.read_only_force_recursive:
        if not kernel_can:
            raise MountFailed("recursively read-only mounts need mount_setattr(2) (Linux 5.12)")
        return "rro"
    if point.read_only_non_recursive or not record.config.recursive_readonly or not kernel_can:
        return "ro"
    return "rro"


def readonly_root(ctx: LifecycleContext) -> None:
    """``--read-only``: after pivot_root, the root itself is remounted
    read-only; volumes, tmpfs and /dev stay writable."""
    if ctx.record.config.readonly_rootfs:
        assert ctx.handle is not None, "the container's process runs"
        ctx.handle.mount(MountSpec("", "/", "bind", ("remount", "ro")), "/")


# -- exit and remove ------------------------------------------------------------------------


def _release(ctx: LifecycleContext, store: VolumeStore, volumes: list[Volume]) -> None:
    with ctx.locks.volumes:
        for volume in volumes:
            store.release(volume, ctx.record.id)


def release_volumes(ctx: LifecycleContext, store: VolumeStore) -> None:
    """The container stopped: it no longer uses its volumes.  A volume's
    filesystem is unmounted after its last user (a tmpfs volume loses its
    data) -- counted, not guessed from who runs: a container in the middle
    of its start does not run yet, but it has readied the volume already."""
    for data in ctx.record.mounts:
        if data["type"] == VOLUME:
            try:
                volume = store.get(data["name"])
            except NoSuchVolume:
                continue
            _release(ctx, store, [volume])


def running_users(containers: ContainerStore, name: str) -> set[str]:
    """IDs of the running (or paused) containers whose mounts use volume
    ``name``: a volume's users as the records tell them, when a program
    first counts them."""
    return {
        r.id
        for r in containers.all()
        if r.state in (RUNNING, PAUSED)
        and any(d.get("type") == VOLUME and d.get("name") == name for d in r.mounts)
    }


def volume_users(containers: ContainerStore, name: str, except_id: str = "") -> list[str]:
    """IDs of the containers (running or not) whose mounts use volume ``name``."""
    return [
        r.id
        for r in containers.all()
        if r.id != except_id and any(d.get("type") == VOLUME and d.get("name") == name for d in r.mounts)
    ]


def remove_anonymous_volumes(ctx: LifecycleContext, store: VolumeStore) -> list[str]:
    """``docker rm -v`` / ``run --rm``: the container's anonymous volumes go
    too -- not named ones, and not one another container still uses."""
    removed: list[str] = []
    with ctx.locks.volumes:
        for data in ctx.record.mounts:
            if data["type"] != VOLUME or not data.get("anonymous") or not data.get("name"):
                continue
            if volume_users(ctx.containers, data["name"], except_id=ctx.record.id):
                continue
            try:
                store.remove(store.get(data["name"]))
                removed.append(data["name"])
            except (NoSuchVolume, VolumeInUse):
                pass
    return removed


def holds(points: list[dict[str, Any]], path: str) -> dict[str, Any] | None:
    """The mount point (deepest) that holds the container path ``path``."""
    best: dict[str, Any] | None = None
    for data in points:
        destination = data["destination"]
        if path == destination or path.startswith(destination.rstrip("/") + "/"):
            if best is None or len(destination) > len(best["destination"]):
                best = data
    return best


__all__ = [
    "MountFailed",
    "create_volumes",
    "holds",
    "plan_mount_points",
    "prepare_host_side",
    "readonly_root",
    "release_volumes",
    "remove_anonymous_volumes",
    "running_users",
    "tmpfs_options",
    "user_destinations",
    "user_mounts",
    "volume_users",
]
