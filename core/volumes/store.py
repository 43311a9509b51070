"""The volumes of one state directory.

On disk, as Docker keeps them (``/var/lib/docker/volumes``)::

    volumes/NAME/_data         the data: what containers see at the mount point
    volumes/NAME/volume.json   driver, labels, options, when it was made

``volume.json`` is written to a temporary name and renamed, so a crash
leaves a volume whole or not at all; a directory without it (a create that
was cut short) is not a volume and is swept away at the next start.

Which containers use a volume is not stored here: it is read from the
containers' records whenever it matters (``volume rm``, ``prune``, the
``dangling`` filter), so it can never go stale.

A volume whose driver mounts a filesystem (``-o type=tmpfs``) has *users*
while that filesystem must stay mounted: each container between the start
step that readies its volumes and its exit, a ``docker cp``, a create
copying the image's files in.  As moby's local driver counts them, the
first user mounts and the last one unmounts -- never "whoever exits when no
container is *running*", which would unmount a volume a container in the
middle of its start has just readied.  The users live in this program's
memory only: a program that first touches a volume counts as its users the
running containers the records name (``running_users``), and a daemon
starting up recounts them all (:meth:`VolumeStore.recount`), unmounting
what a crash left mounted for nobody.
"""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from stepbox.core.kernel.atomic import atomic_write_json, read_json
from stepbox.core.kernel.host_mounts import HostMounts
from stepbox.core.kernel.unionfs import FileOps

from . import local
from .errors import InvalidVolume, NoSuchVolume
from .names import anonymous_name, check_volume_name

DATA_DIR = "_data"
RECORD = "volume.json"
LOCAL = "local"
# Docker 25 (API 1.42 and later) labels the volumes it makes for `-v /path`
# and image VOLUMEs, so that `volume prune` removes only those by default.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"


@dataclass
class Volume:
    name: str
    mountpoint: str  # the host directory with the data (volumes/NAME/_data)
    created_at: str  # RFC 3339, seconds, UTC
    driver: str = LOCAL
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return ANONYMOUS_LABEL in self.labels

    @property
    def needs_mount(self) -> bool:
        """Does the driver mount something over the data directory?"""
        return local.needs_mount(self.options)


class VolumeStore:
    def __init__(self, root: str | None, host: HostMounts):
        """``root=None``: a scratch directory, made on first use and removed
        with the store (in-process engines: tests, notebooks, benchmarks)."""
        self._root = root
        self.host = host
        # Who needs each mounted volume's filesystem (see the module's
        # docstring); a volume's entry is made from running_users the first
        # time this program touches it.
        self.running_users: Callable[[str], set[str]] = lambda name: set()
        self._users: dict[str, set[str]] = {}
        self._users_lock = threading.Lock()  # a mount and its count change together
        if root:
            os.makedirs(root, mode=0o701, exist_ok=True)
            self._sweep_unfinished()

    @property
    def root(self) -> str:
        if self._root is None:
            self._root = tempfile.mkdtemp(prefix="stepbox-volumes-")
            weakref.finalize(self, shutil.rmtree, self._root, True)
        return self._root

    def _dir(self, name: str) -> str:
        return os.path.join(self.root, name)

    def _sweep_unfinished(self) -> None:
        for name in os.listdir(self.root):
            path = self._dir(name)
            if os.path.isdir(path) and not os.path.exists(os.path.join(path, RECORD)):
                shutil.rmtree(path, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------
    def get(self, name: str) -> Volume:
        if not name or "/" in name or name in (".", ".."):
            raise NoSuchVolume(name)
        try:
            data = read_json(os.path.join(self._dir(name), RECORD))
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchVolume(name) from None
        return Volume(**data)

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except NoSuchVolume:
            return False
        return True

    def list(self) -> list[Volume]:
        if self._root is None:
            return []
        volumes = []
        for name in sorted(os.listdir(self.root)):
            try:
                volumes.append(self.get(name))
            except (NoSuchVolume, ValueError, TypeError):
                continue  # not a volume (yet): a create in progress
        return volumes

    # -- creating and removing -----------------------------------------------------------
    def create(
        self,
        name: str | None = None,
        *,
        driver: str = LOCAL,
        options: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        anonymous: bool = False,
    ) -> tuple[Volume, bool]:
        """The volume ``name`` -- made now if it does not exist (then the
        flag is True).  Docker returns an existing volume of that name as it
        is, whatever options or labels were asked for now."""
        driver = driver or LOCAL
        name = name or anonymous_name()
        if driver != LOCAL:
            raise InvalidVolume(
                "create", name, f'error looking up volume plugin {driver}: plugin "{driver}" not found'
            )
        check_volume_name(name)
        options = local.check_options(name, dict(options or {}))
        try:
            return self.get(name), False
        except NoSuchVolume:
            pass
        labels = dict(labels or {})
        if anonymous:
            labels.setdefault(ANONYMOUS_LABEL, "")
        directory = self._dir(name)
        data = os.path.join(directory, DATA_DIR)
        volume = Volume(
            name=name,
            mountpoint=data,
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            driver=driver,
            labels=labels,
            options=options,
        )
        try:
            os.mkdir(directory, 0o701)
            os.mkdir(data, 0o755)
            os.chmod(data, 0o755)  # whatever the umask
            atomic_write_json(os.path.join(directory, RECORD), asdict(volume))
        except FileExistsError:
            return self.get(name), False  # made meanwhile by someone else
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return volume, True

    def remove(self, volume: Volume) -> None:
        """Delete the volume and its data (the caller has checked that no
        container uses it).  The record goes first: a crash half-way leaves
        a directory the next start sweeps, never a volume without data."""
        directory = self._dir(volume.name)
        if volume.needs_mount:
            with self._users_lock:
                self._users.pop(volume.name, None)
                if self.host.is_mounted(volume.mountpoint):
                    self.host.unmount(volume.mountpoint)
        try:
            os.unlink(os.path.join(directory, RECORD))
        except FileNotFoundError:
            raise NoSuchVolume(volume.name, op="remove") from None
        shutil.rmtree(directory, ignore_errors=True)

    # -- using --------------------------------------------------------------------------
    def use(self, volume: Volume, user: str) -> str:
        """``user`` (a container's ID, or a name for a shorter use) needs the
        volume's data from now on; the host path to bind.  A volume with
        options gets its filesystem mounted over ``_data`` by its first user."""
        if not volume.needs_mount:
            return volume.mountpoint
        with self._users_lock:
            users = self._users_of(volume.name)
            if not self.host.is_mounted(volume.mountpoint):
                self._mount(volume)
            users.add(user)
        return volume.mountpoint

    def release(self, volume: Volume, user: str) -> None:
        """``user`` is done with the volume; its filesystem is unmounted when
        no user is left.  Releasing twice (an exit, then an undo) is harmless."""
        if not volume.needs_mount:
            return
        with self._users_lock:
            users = self._users_of(volume.name)
            users.discard(user)
            if not users and self.host.is_mounted(volume.mountpoint):
                self.host.unmount(volume.mountpoint)

    def users(self, volume: Volume) -> set[str]:
        """Who holds the volume's filesystem mounted now (a copy)."""
        with self._users_lock:
            return set(self._users_of(volume.name))

    def recount(self) -> builtins.list[str]:
        """Start-up: every volume's users are the running containers the
        records name (``running_users``); a volume mounted for nobody -- a
        daemon killed between a mount and its release -- is unmounted.  A
        line per volume unmounted."""
        report = []
        with self._users_lock:
            self._users.clear()
            for volume in self.list():
                if not volume.needs_mount:
                    continue
                users = self._users_of(volume.name)
                if not users and self.host.is_mounted(volume.mountpoint):
                    try:
                        self.host.unmount(volume.mountpoint)
                    except OSError as e:
                        report.append(f"could not unmount volume {volume.name}, which no container uses: {e}")
                        continue
                    report.append(f"unmounted volume {volume.name}: no running container uses it")
        return report

    def _users_of(self, name: str) -> set[str]:
        users = self._users.get(name)
        if users is None:
            users = self._users[name] = set(self.running_users(name))
        return users

    def _mount(self, volume: Volume) -> None:
        source, fstype, options = local.mount_args(volume.options)
        try:
            self.host.mount(source, volume.mountpoint, fstype, options)
        except OSError as e:
            raise InvalidVolume(
                "error while mounting volume",
                f"'{volume.mountpoint}'",
                f"failed to mount local volume: mount {source}:{volume.mountpoint}, "
                f"type {fstype}, options '{options}': {os.strerror(e.errno or 5).lower()}",
            ) from None

    def files(self, volume: Volume) -> FileOps:
        """The volume's files (confined to its data directory)."""
        return self.host.files(volume.mountpoint)

    def size(self, volume: Volume) -> int:
        """Bytes of data, as ``docker system df`` counts them (file sizes,
        each hard-linked file once); -1 for a volume whose data is a mount."""
        if volume.needs_mount:
            return -1
        total, seen = 0, set()
        for dirpath, _dirs, files in os.walk(volume.mountpoint):
            for name in files:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_size
        return total
