"""The container runtime: Docker's verbs on top of the step plans.

Every verb that changes a container -- create, start, run, wait (the exit),
stop, kill, pause, unpause, restart, remove -- composes its plan from the
phases in ``plan/`` and hands it to a :class:`~.steps.Stepper`: the same
object ``stepbox step`` drives one step at a time, with the same failure
policy.  The runtime's own job is bookkeeping: records, names, which
transitions are allowed (with Docker's error messages), and noticing
containers that exited while nobody watched.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import os
import signal as signals
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from stepbox.core.confinement.policy import seccomp_filter
from stepbox.core.image.archive import export_rootfs
from stepbox.core.image.bootstrap import BUSYBOX_REF, ensure_busybox
from stepbox.core.image.commit import commit_layer
from stepbox.core.image.flatten import flatten
from stepbox.core.image.lineage import released_layers
from stepbox.core.image.reference import parse_reference
from stepbox.core.image.store import Image, ImageNotFound, ImageStore
from stepbox.core.kernel import (
    DOCKER_DEFAULT_CAPABILITIES,
    Credentials,
    Kernel,
    Privileges,
    ProcessHandle,
    Stdio,
)
from stepbox.core.kernel.contents import Writable
from stepbox.core.kernel.network import Topology
from stepbox.core.volumes.errors import NoSuchVolume, VolumeInUse
from stepbox.core.volumes.store import VolumeStore

from . import mounting, plan
from .changes import container_changes
from .config import ContainerConfig, check_name
from .context import ExitWatch, LifecycleContext
from .errors import Conflict
from .locks import StoreLocks
from .mount_points import MountPoint
from .names import random_name
from .observe import observe
from .record import CREATED, EXITED, PAUSED, RUNNING, ContainerRecord, new_container_id, now
from .steps import Phase, Plan, Step, Stepper
from .store import ContainerStore
from .users import resolve_user

if TYPE_CHECKING:
    from stepbox.core.network.manager import NetworkManager
    from stepbox.core.network.store import NetworkRecord

PAUSED_FOR_COMMIT = "paused-for-commit"  # in the container's directory while a commit holds it frozen

ContainerPlan = Plan[LifecycleContext]


class Runtime:
    def __init__(
        self,
        kernel: Kernel,
        images: ImageStore,
        containers: ContainerStore,
        say: Callable[[str], None] = lambda message: None,
        exits: ExitWatch | None = None,
        networks: NetworkManager | None = None,
        volumes: VolumeStore | None = None,
        state_root: str | None = None,
    ):
        self.kernel = kernel
        self.images = images
        self.containers = containers
        self.say = say
        # None: containers get loopback only (in-process engines, tests); the
        # daemon has one (core/network), which also asks us who is running.
        self.networks = networks
        if networks is not None:
            networks.running = self.wired_records
        # Volumes outlive containers; an in-process engine keeps them in a
        # scratch directory (see VolumeStore).
        self.volumes = volumes if volumes is not None else VolumeStore(None, kernel.host_mounts)
        # A volume's users, when this program first counts them: the running
        # containers the records name (later, the store keeps the count).
        self.volumes.running_users = lambda name: mounting.running_users(self.containers, name)
        self.state_root = state_root  # Docker's "daemon root": binds of it get rslave
        # Who records exits: this program (the default), or the daemon's
        # exit monitors (the Engine sets its own).
        self.exits = exits or ExitWatch()
        # Processes this program started; a later program re-finds them from
        # the record (Processes.reattach).
        self._handles: dict[str, ProcessHandle] = {}
        # Images and layers in use by the plans running now (locks.py).
        self.locks = StoreLocks()

    # -- records ------------------------------------------------------------
    def new_record(
        self, config: ContainerConfig, name: str | None = None, say: Callable[[str], None] | None = None
    ) -> ContainerRecord:
        """A container's record, before any step has run (the create phase
        saves it); ``say``: where remarks go (else the runtime's ``say``)."""
        self._ensure_image(config.image, say or self.say)
        if name:
            check_name(name)
            self.containers.check_name_free(name)
        else:
            name = random_name({r.name for r in self.containers.all()})
        cid = new_container_id()
        mounts = self._mount_points(config)  # refuses bad input before anything exists
        log_dir = self.containers.container_dir(cid) or os.path.join(_scratch_dir(), cid)
        _make_dir(log_dir)
        record = ContainerRecord(
            id=cid,
            name=name,
            created=now(),
            config=config,
            backend=self.kernel.name,
            log_dir=log_dir,
            mounts=[m.to_dict() for m in mounts],
        )
        record.networks = self._attachments(config)
        return record

    def _attachments(self, config: ContainerConfig) -> dict[str, Any]:
        """The networks a new container is on: its --network (the default
        bridge unless the daemon has none) and any further ones the
        request's EndpointsConfig names, in Docker's EndpointSettings shape."""
        manager = self.networks
        if manager is None or config.joined_container:
            return {}  # container:X -- X's namespace, X's networks
        mode = config.network
        if mode == "default":
            mode = "bridge" if manager.store.by_name("bridge") else "none"
        primary = manager.find(mode)
        # The docker CLI keys the settings by what --network said ("default"
        # when nothing), the API may use the network's name or ID.
        own: dict[str, Any] = next(
            (
                config.endpoints[k]
                for k in (config.network, mode, primary.name, primary.id)
                if config.endpoints.get(k)
            ),
            {},
        )
        wanted = {primary.name: dict(own)}
        for name, settings in config.endpoints.items():
            if name not in (mode, primary.name, primary.id, config.network):
                wanted[manager.find(name).name] = dict(settings or {})
        # A kernel without bridges that relays ports into the container's own
        # namespace (rootless) publishes them for a container on the default
        # network, which is loopback only there; --network none/host refuse them, as Docker.
        relayed = (
            self.kernel.network is None and self.kernel.port_relay is not None and config.network == "default"
        )
        if (
            primary.driver in ("host", "null")
            and (config.port_bindings or config.publish_all)
            and not relayed
        ):
            from .errors import BadRequest

            unwired = self.kernel.no_network_why if self.kernel.network is None else ""
            why = (
                ""
                if manager.store.by_name("bridge") or config.network != "default"
                else f" (this daemon has no bridge network: {unwired})"
                if unwired
                else " (this daemon has no bridge network: it was started with --bridge=none, "
                "or its kernel has no network wiring)"
            )
            raise BadRequest(f"conflicting options: port publishing and the network mode {primary.name}{why}")
        attachments = {}
        for name, settings in wanted.items():
            network = manager.find(name)
            if network.driver in ("host", "null") and len(wanted) > 1:
                raise Conflict(f"container cannot be connected to network {name} and others at once")
            attachments[network.name] = self._endpoint_settings(
                network, settings, primary=network is primary, config=config
            )
        return attachments

    @staticmethod
    def _endpoint_settings(
        network: NetworkRecord, settings: dict[str, Any], *, primary: bool, config: ContainerConfig
    ) -> dict[str, Any]:
        from stepbox.core.network.manager import new_endpoint_settings

        from .errors import BadRequest

        aliases = settings.get("Aliases") or []
        ip = (settings.get("IPAMConfig") or {}).get("IPv4Address") or ""
        mac = settings.get("MacAddress") or (config.mac_address if primary else "")
        if not network.user_defined:
            if ip:
                raise BadRequest("user specified IP address is supported on user defined networks only")
            if aliases:
                raise BadRequest(
                    "network-scoped alias is supported only for containers in user defined networks"
                )
        if network.driver in ("host", "null") and mac:
            raise BadRequest(f"conflicting options: mac-address and the network mode {network.name}")
        return new_endpoint_settings(network, aliases, ip, mac)

    def wired_records(self) -> list[ContainerRecord]:
        """Containers holding addresses (running ones), for the network manager."""
        return [
            r for r in self.containers.all() if any(s.get("IPAddress") for s in (r.networks or {}).values())
        ]

    def _mount_points(self, config: ContainerConfig) -> builtins.list[MountPoint]:
        """What the request asks to mount, checked now (the image's VOLUMEs
        join in the create phase's volumes step, once the image is resolved)."""
        if not (config.binds or config.mounts or config.tmpfs or config.volumes or config.volumes_from):
            return []
        return mounting.plan_mount_points(config, {}, self.containers.find, self.state_root)

    def _ensure_image(self, name: str, say: Callable[[str], None]) -> None:
        try:
            self.images.image_id(name)  # the plan's first step resolves it
        except ImageNotFound:
            if str(parse_reference(name)) == str(parse_reference(BUSYBOX_REF)):
                ensure_busybox(self.images, self.kernel, say)
            else:
                raise

    def get(self, name_or_id: str) -> ContainerRecord:
        return self.refresh(self.containers.find(name_or_id))

    def list(self, all_: bool = False) -> builtins.list[ContainerRecord]:
        records = [self.refresh(r) for r in self.containers.all()]
        records.sort(key=lambda r: r.created, reverse=True)
        return records if all_ else [r for r in records if r.state in (RUNNING, PAUSED)]

    # -- contexts and steppers -----------------------------------------------
    def context(self, record: ContainerRecord) -> LifecycleContext:
        ctx = LifecycleContext(
            self.kernel,
            self.images,
            self.containers,
            record,
            handles=self._handles,
            waiter=self.exits.waiter(record),
            say=self.say,
            networks=self.networks,
            volumes=self.volumes,
            # --rm takes the container's anonymous volumes along (moby's AutoRemove)
            remove_volumes=record.config.auto_remove,
            locks=self.locks,
        )
        if record.mount:
            ctx.mount = plan.mount_of(record.mount)
        if record.state in (RUNNING, PAUSED) and record.process:
            ctx.handle = self._handles.get(record.id) or self.kernel.processes.reattach(record.process)
        return ctx

    def stepper(
        self,
        record: ContainerRecord,
        steps: ContainerPlan | Phase[LifecycleContext] | Sequence[Step[LifecycleContext]],
        *,
        watch: bool = False,
        ctx: LifecycleContext | None = None,
    ) -> Stepper[LifecycleContext]:
        """A Stepper over the steps of ``steps`` (a plan, a phase) that apply
        to this container (its config, with the network this engine will
        really give it: see plan.plan_config); ``watch`` observes the state
        after each."""
        whole = Plan.of(steps).for_config(plan.plan_config(record, self.networks))
        return Stepper(ctx or self.context(record), whole, observe if watch else None)

    def execute(
        self, record: ContainerRecord, steps: ContainerPlan, ctx: LifecycleContext | None = None
    ) -> LifecycleContext:
        """Run a plan to its end (or its failure) on ``record``."""
        stepper = self.stepper(record, steps, ctx=ctx)
        stepper.finish()
        return stepper.ctx

    # -- verbs --------------------------------------------------------------
    def create(
        self, config: ContainerConfig, name: str | None = None, say: Callable[[str], None] | None = None
    ) -> ContainerRecord:
        """``docker create``; ``say``: where this create's remarks go (a
        daemon serving several clients tells each its own)."""
        record = self.new_record(config, name, say)
        ctx = self.context(record)
        if say is not None:
            ctx.say = say
        self.execute(record, plan.create_plan(), ctx)
        return record

    def start(self, record: ContainerRecord) -> LifecycleContext:
        if record.state in (RUNNING, PAUSED):
            return self.context(record)  # docker: starting a running container is a no-op
        return self.execute(record, plan.start_plan(record))

    def wait(self, record: ContainerRecord) -> int:
        """Block until the container exits (and record it); its exit code."""
        if record.state in (RUNNING, PAUSED):
            self.execute(record, plan.exit_plan())
        return record.exit_code

    def run(self, config: ContainerConfig, name: str | None = None, detach: bool = False) -> ContainerRecord:
        """``docker run``: the plan ``stepbox step`` walks, run to its end."""
        record = self.new_record(config, name)
        self.execute(record, plan.run_plan(config, detach=detach))
        return record

    def stop(self, record: ContainerRecord, timeout: float = 10.0, sig: int = signals.SIGTERM) -> None:
        if record.state not in (RUNNING, PAUSED):
            return  # docker: stopping a stopped container succeeds
        self.execute(record, plan.stop_plan(record, sig, timeout, records_exit=self.exits.records_exits))

    def kill(
        self, record: ContainerRecord, sig: int = signals.SIGKILL, *, record_exit: bool | None = None
    ) -> None:
        """``docker kill``.  After SIGKILL the exit is recorded at once when
        this program records exits (``record_exit`` overrides that)."""
        if record.state not in (RUNNING, PAUSED):
            raise Conflict(f"Cannot kill container: {record.name}: Container {record.id} is not running")
        if record_exit is None:
            record_exit = self.exits.records_exits and sig == signals.SIGKILL
        self.execute(record, plan.kill_plan(record, sig, records_exit=record_exit))

    def pause(self, record: ContainerRecord) -> None:
        if record.state != RUNNING:
            raise Conflict(f"Container {record.id} is not running")
        self.execute(record, plan.pause_plan())

    def unpause(self, record: ContainerRecord) -> None:
        if record.state != PAUSED:
            raise Conflict(f"Container {record.id} is not paused")
        self.execute(record, plan.unpause_plan())

    def update(self, record: ContainerRecord, new_config: ContainerConfig) -> None:
        """``docker update``: the update phase."""
        self.execute(record, plan.update_plan(new_config))

    def rename(self, record: ContainerRecord, new_name: str) -> None:
        """``docker rename``: only the record changes (the name is not the kernel's business)."""
        check_name(new_name)
        if new_name != record.name:
            self.containers.check_name_free(new_name)
        record.name = new_name
        self.containers.save(record)

    def restart(self, record: ContainerRecord, timeout: float = 10.0, sig: int = signals.SIGTERM) -> None:
        self.execute(record, plan.restart_plan(record, sig, timeout))

    def remove(self, record: ContainerRecord, force: bool = False, volumes: bool = False) -> None:
        """``docker rm``; ``volumes`` (``-v``) removes its anonymous volumes too."""
        if record.state in (RUNNING, PAUSED) and not force:
            raise Conflict(
                f"You cannot remove a running container {record.id}. "
                "Stop the container before attempting removal or force remove"
            )
        ctx = self.context(record)
        ctx.remove_volumes = ctx.remove_volumes or volumes
        self.execute(record, plan.remove_plan(record), ctx)

    # -- volumes ------------------------------------------------------------------
    def volume_users(self, name: str) -> builtins.list[str]:
        return mounting.volume_users(self.containers, name)

    def remove_volume(self, name: str, force: bool = False) -> None:
        """``docker volume rm``: refused (409) while any container -- running
        or not -- uses it; ``force`` only ignores a volume that does not exist."""
        with self.locks.volumes:  # no create picks it meanwhile (locks.py)
            try:
                volume = self.volumes.get(name)
            except NoSuchVolume:
                if force:
                    return
                raise
            users = self.volume_users(name)
            if users:
                raise VolumeInUse(name, users)
            self.volumes.remove(volume)

    def discard(self, record: ContainerRecord) -> None:
        """Whatever a walk left of a container, gone (``docker rm -f``, or
        only its record if no step saved it yet)."""
        if any(r.id == record.id for r in self.containers.all()):
            self.remove(self.refresh(record), force=True)
        else:
            self.context(record).forget()

    # -- networks -------------------------------------------------------------------
    def connect(
        self, record: ContainerRecord, network_name: str, settings: dict[str, Any] | None = None
    ) -> None:
        """``docker network connect``: put the container on one more network
        (wired at once if it runs, else at its next start)."""
        manager = self.network_manager()
        network = manager.find(network_name)
        if network.name in record.networks:
            raise Conflict(f"endpoint with name {record.name} already exists in network {network.name}")
        current = [manager.find(n) for n in record.networks if _exists(manager, n)]
        if network.driver in ("host", "null") or any(n.driver in ("host", "null") for n in current):
            raise Conflict(
                "container sharing network namespace with another container or host cannot be "
                "connected to any other network"
                if network.driver != "null"
                else "container cannot be disconnected from host network or connected to host network"
            )
        record.networks[network.name] = self._endpoint_settings(
            network, dict(settings or {}), primary=False, config=record.config
        )
        if record.state in (RUNNING, PAUSED):
            ctx = self.context(record)
            ctx.connect_to = network.name
            try:
                self.execute(record, plan.connect_plan(), ctx)
            except BaseException:
                record.networks.pop(network.name, None)
                self.containers.save(record)
                raise
        self.containers.save(record)

    def disconnect(self, record: ContainerRecord, network_name: str, force: bool = False) -> None:
        manager = self.network_manager()
        try:
            name = manager.find(network_name).name
        except Exception:
            if not (force and network_name in record.networks):
                raise
            name = network_name
        if name not in record.networks:
            raise Conflict(f"container {record.id} is not connected to network {network_name}")
        if manager.store.by_name(name) and manager.find(name).driver == "host":
            raise Conflict("container cannot be disconnected from host network or connected to host network")
        ctx = self.context(record)
        ctx.disconnect_from = name
        self.execute(record, plan.disconnect_plan(), ctx)
        self.containers.save(record)

    def topology(self) -> Topology:
        """What the kernel holds of the networks: the engine's namespace and
        each running container's (interfaces, addresses, routes, sockets)."""
        from stepbox.core.network.topology import read_topology

        if self.kernel.network is None:
            return Topology()
        running = [(r.name, r.pid) for r in self.list() if r.pid]
        return read_topology(self.kernel.network, running)

    def network_manager(self) -> NetworkManager:
        if self.networks is None:
            from stepbox.core.network.manager import NetworkUnavailable

            raise NetworkUnavailable("this engine manages no networks (containers get loopback only)")
        return self.networks

    def forget(self, record: ContainerRecord) -> None:
        """Drop the record and its logs (the remove phase's last act)."""
        self.context(record).forget()

    def exec_identity(
        self, record: ContainerRecord, user: str = "", privileged: bool = False
    ) -> tuple[Credentials, Privileges, str]:
        """Who an ``exec`` in ``record`` runs as and what it may do: the
        container's user and confinement (as its start decided them), or
        ``user`` resolved in the container's /etc/passwd with its
        ``--group-add``; ``privileged`` gives every capability (the seccomp
        filter and no_new_privs stay the container's, as in Docker).
        Also the user's home directory (for HOME)."""
        held = record.privileges or {}
        if user:
            assert record.mount is not None, "a running container is mounted"
            found = resolve_user(
                self.kernel.unionfs.merged(plan.mount_of(record.mount)), user, record.config.group_add
            )
            credentials, home = found.credentials, found.home
        elif held.get("user"):
            uid, gid, groups = held["user"]
            credentials, home = Credentials(uid, gid, tuple(groups)), held.get("home", "")
        else:
            credentials, home = Credentials(), ""
        capabilities = frozenset(held.get("capabilities") or DOCKER_DEFAULT_CAPABILITIES)
        effective = frozenset(held["effective"]) if "effective" in held else None
        if privileged:
            capabilities = effective = self.kernel.host_facts().capabilities
        container_caps = frozenset(held.get("capabilities") or DOCKER_DEFAULT_CAPABILITIES)
        seccomp = seccomp_filter(record.config.security, self.kernel.host_facts(), container_caps)
        return credentials, Privileges(capabilities, bool(held.get("no_new_privs")), seccomp, effective), home

    def exec(
        self,
        record: ContainerRecord,
        argv: builtins.list[str],
        env: dict[str, str] | None = None,
        workdir: str = "",
        user: str = "",
        privileged: bool = False,
    ) -> tuple[int, bytes, bytes]:
        """``docker exec``: run ``argv`` in the running container's namespaces
        and cgroup, as its user (or ``user``) and confined like it; its exit
        code, stdout and stderr."""
        if record.state != RUNNING:
            raise Conflict(f"Container {record.id} is not running")
        import tempfile

        credentials, privileges, home = self.exec_identity(record, user, privileged)
        with tempfile.TemporaryDirectory(prefix="stepbox-exec-") as scratch:
            stdio = Stdio(stdout=os.path.join(scratch, "stdout"), stderr=os.path.join(scratch, "stderr"))
            handle = self.kernel.processes.exec_in(
                record.pid,
                argv,
                {**record.env, **({"HOME": home} if home else {}), **(env or {})},
                workdir or record.workdir,
                stdio,
                user=credentials,
                privileges=privileges,
                rlimits=record.config.rlimits,
            )
            status = handle.wait()
            assert status is not None
            with open(stdio.stdout, "rb") as out, open(stdio.stderr, "rb") as err:
                return status.code, out.read(), err.read()

    # -- images from containers -------------------------------------------------
    def commit(
        self,
        record: ContainerRecord,
        ref: str | None = None,
        *,
        message: str = "",
        author: str = "",
        changes: Sequence[str] = (),
        pause: bool = True,
    ) -> Image:
        """``docker commit``: the read-write layer becomes the top layer of a new
        image.  A running container is frozen meanwhile so the layer is read
        in one consistent state."""
        paused_here = pause and record.state == RUNNING
        if paused_here:
            # Marked first: a daemon killed before the thaw leaves a frozen
            # container, which the next one thaws (thaw_interrupted_commit).
            self._commit_marker(record, present=True)
            self.pause(record)
        try:
            parent = self.images.resolve(record.image_id)
            entries = list(self.kernel.unionfs.changes(record.rw_layer))
            container_config = {
                "Cmd": list(record.config.cmd) or None,
                "Entrypoint": (
                    list(record.config.entrypoint) if record.config.entrypoint is not None else None
                ),
                "Env": [
                    f"{k}={v}" for k, v in {**_env_dict(record.image_config), **record.config.env}.items()
                ],
                "WorkingDir": record.config.workdir or None,
            }
            return commit_layer(
                self.images,
                parent,
                entries,
                container_config=container_config,
                created_by=" ".join(record.argv),
                ref=ref,
                message=message,
                author=author,
                change_lines=list(changes),
            )
        finally:
            if paused_here:
                self.unpause(record)
                self._commit_marker(record, present=False)

    def _commit_marker(self, record: ContainerRecord, present: bool) -> None:
        directory = self.containers.container_dir(record.id)
        if directory is None:
            return  # records in memory: nothing outlives this program
        path = os.path.join(directory, PAUSED_FOR_COMMIT)
        if present:
            with open(path, "w"):
                pass
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def thaw_interrupted_commit(self, record: ContainerRecord) -> bool:
        """A container a commit froze and nobody thawed (the program died
        half-way): thaw it; whether there was one."""
        directory = self.containers.container_dir(record.id)
        if directory is None or not os.path.exists(os.path.join(directory, PAUSED_FOR_COMMIT)):
            return False
        if record.state == PAUSED:
            self.unpause(record)
        self._commit_marker(record, present=False)
        return True

    def export(self, record: ContainerRecord, out: Writable) -> None:
        """``docker export``: the container's whole filesystem as one flat tar."""
        unionfs = self.kernel.unionfs
        stack = [record.rw_layer, record.init_layer, *record.lowers]
        export_rootfs(flatten(list(unionfs.changes(layer)) for layer in reversed(stack)), out)

    def remove_image(self, name: str, force: bool = False) -> builtins.list[str]:
        """``docker rmi``: untag, and delete the image once no name and no
        container refers to it; then collect what nothing uses any more."""
        image = self.images.resolve(name)
        its_layers = self.images.layer_diff_ids(image)  # (read while its blobs are there)
        # Exclusive: containers being created from it have named it in their
        # records (or wait, and then find it gone) -- see locks.py.
        with self.locks.images.exclusive(image.id):
            report, deleted = self._remove_image(name, self.images.resolve(image.id), force)
        if deleted:  # its blobs and layers go once its lock is free (collect_garbage takes layers')
            report += [f"Deleted: {digest}" for digest in self.collect_garbage() if digest == image.id]
            if not any(
                r.image_id == image.id for r in self.containers.all()
            ):  # (rmi -f: a container keeps them)
                # as Docker's layer store: the layers nothing else stands on, by ChainID
                remaining = [self.images.layer_diff_ids(other) for other in self.images.list()]
                report += [f"Deleted: {chain}" for chain in released_layers(its_layers, remaining)]
        return report

    def _remove_image(self, name: str, image: Image, force: bool) -> tuple[builtins.list[str], bool]:
        """Untag, or delete from the index; the report, and whether it was deleted."""
        users = [r for r in self.containers.all() if r.image_id == image.id]
        untag_only = (
            name not in (image.id, image.short_id) and not name.startswith("sha256:") and len(image.tags) > 1
        )
        if users and not force and not untag_only:
            raise Conflict(
                f'conflict: unable to remove repository reference "{name}" (must force) - '
                f"container {users[0].short_id} is using its referenced image {image.short_id}"
            )
        if untag_only:
            self.images.untag(name)
            return [f"Untagged: {parse_reference(name).familiar_str()}"], False
        report = [f"Untagged: {tag}" for tag in image.tags]
        self.images.delete(image)
        return report, True

    def collect_garbage(self) -> builtins.list[str]:
        """Delete blobs and unpacked layers that no image or container uses.

        While containers are created and removed meanwhile, the order is
        what makes it safe: the layers are listed first, then the images,
        then the records.  A layer unpacked for a container being created
        belongs to an image that is either still in the index when it is
        read, or was deleted after the container's record named the layer
        (the image's lock, see locks.py) -- so the records read last name
        it.  A layer created after the listing is not in it."""
        with self.locks.collecting:
            layers = self.kernel.unionfs.layers()
            removed = self.images.gc()
            used = {plan.layer_id(d) for img in self.images.list() for d in img.diff_ids}
            for record in self.containers.all():
                used |= {record.rw_layer, record.init_layer, *record.lowers}
            for layer in layers:
                if layer not in used:
                    with self.locks.layers.exclusive(layer):
                        self.kernel.unionfs.remove_layer(layer)
        return removed

    # -- looking at a container -----------------------------------------------
    def refresh(self, record: ContainerRecord) -> ContainerRecord:
        """A container whose process ended while no program waited for it (a
        detached run, a crashed CLI) gets its exit recorded now: the exit phase."""
        if record.state not in (RUNNING, PAUSED):
            return record
        ctx = self.context(record)
        if ctx.handle is None or ctx.handle.wait(timeout=0) is not None:
            self.execute(record, plan.exit_plan(), ctx)
        return record

    def diff(self, record: ContainerRecord) -> builtins.list[tuple[str, str]]:
        return container_changes(self.kernel, record)

    def logs(self, record: ContainerRecord) -> tuple[bytes, bytes]:
        def read(name: str) -> bytes:
            try:
                with open(os.path.join(record.log_dir, name), "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return b""

        return read("stdout.log"), read("stderr.log")

    def inspect(self, record: ContainerRecord) -> dict[str, Any]:
        mount = record.mount
        data = None
        if mount:
            data = {
                "LowerDir": ":".join(mount["lowers"]),
                "UpperDir": mount["upper"],
                "MergedDir": mount["target"],
                "WorkDir": "",
            }
        return record.inspect({"Name": "overlay2", "Data": data})


def _exists(manager: NetworkManager, name: str) -> bool:
    try:
        manager.find(name)
    except Exception:
        return False
    return True


def _env_dict(image_config: dict[str, Any]) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in image_config.get("Env") or [])


def _make_dir(path: str) -> None:
    """mkdir -p, mode 0700; its parent is there but for the first container."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
    except FileNotFoundError:
        os.makedirs(path, mode=0o700, exist_ok=True)


@functools.cache
def _scratch_dir() -> str:
    """Where an in-memory store keeps its containers' logs: memory-backed
    /dev/shm where there is one (a log dir is made and removed per
    container; on a disk that costs as much as the rest of a simulated
    lifecycle), one directory per user."""
    import tempfile

    base = (
        "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    )
    return os.path.join(base, f"stepbox-logs-{os.getuid() if hasattr(os, 'getuid') else 'user'}")


__all__ = ["Runtime", "CREATED", "EXITED"]
