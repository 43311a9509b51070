"""The container runtime: Docker's verbs on top of the step plans.

Every verb builds a :class:`~.steps.LifecycleContext` for the container and
runs the verb's plan through a :class:`~.steps.Stepper` -- the same object
``stepbox step`` drives one step at a time.  The runtime's own job is
bookkeeping: records, names, which transitions are allowed (with Docker's
error messages), and noticing containers that exited while nobody watched.
"""

from __future__ import annotations

import os
import shutil
import signal as signals
from collections.abc import Callable

from stepbox.core.image.archive import export_rootfs
from stepbox.core.image.bootstrap import BUSYBOX_REF, ensure_busybox
from stepbox.core.image.commit import commit_layer
from stepbox.core.image.flatten import flatten
from stepbox.core.image.reference import parse_reference
from stepbox.core.image.store import Image, ImageNotFound, ImageStore
from stepbox.core.kernel import ExecFailed, Kernel, Stdio

from . import plan
from .changes import container_changes
from .config import ContainerConfig, check_name
from .errors import Conflict
from .names import random_name
from .observe import observe
from .record import CREATED, EXITED, PAUSED, RUNNING, ContainerRecord, new_container_id
from .steps import LifecycleContext, Step, Stepper
from .store import ContainerStore


class Runtime:
    def __init__(
        self,
        kernel: Kernel,
        images: ImageStore,
        containers: ContainerStore,
        say: Callable[[str], None] = lambda message: None,
    ):
        self.kernel = kernel
        self.images = images
        self.containers = containers
        self.say = say
        # Processes this program started; a later program re-finds them from
        # the record (Processes.reattach).
        self._handles: dict[str, object] = {}

    # -- records ------------------------------------------------------------
    def new_record(self, config: ContainerConfig, name: str | None = None) -> ContainerRecord:
        """A container's record, before any step has run."""
        self._ensure_image(config.image)
        if name:
            check_name(name)
            self.containers.check_name_free(name)
        else:
            name = random_name({r.name for r in self.containers.all()})
        cid = new_container_id()
        log_dir = self.containers.container_dir(cid) or os.path.join(_scratch_dir(), cid)
        os.makedirs(log_dir, exist_ok=True)
        record = ContainerRecord(
            id=cid, name=name, created=plan.now(), config=config, backend=self.kernel.name, log_dir=log_dir
        )
        return record

    def _ensure_image(self, name: str) -> None:
        try:
            self.images.resolve(name)
        except ImageNotFound:
            if str(parse_reference(name)) == str(parse_reference(BUSYBOX_REF)):
                ensure_busybox(self.images, self.kernel, self.say)
            else:
                raise

    def get(self, name_or_id: str) -> ContainerRecord:
        return self.refresh(self.containers.find(name_or_id))

    def list(self, all_: bool = False) -> list[ContainerRecord]:
        records = [self.refresh(r) for r in self.containers.all()]
        records.sort(key=lambda r: r.created, reverse=True)
        return records if all_ else [r for r in records if r.state in (RUNNING, PAUSED)]

    # -- contexts and steppers -----------------------------------------------
    def context(self, record: ContainerRecord) -> LifecycleContext:
        ctx = LifecycleContext(self.kernel, self.images, self.containers, record, say=self.say)
        if record.mount:
            ctx.mount = plan.mount_of(record.mount)
        if record.state in (RUNNING, PAUSED) and record.process:
            ctx.handle = self._handles.get(record.id) or self.kernel.processes.reattach(record.process)
        return ctx

    def stepper(
        self,
        record: ContainerRecord,
        steps: list[Step],
        *,
        watch: bool = False,
        ctx: LifecycleContext | None = None,
    ) -> Stepper:
        """A stepper over ``steps``; ``watch`` observes the state after each."""
        return Stepper(ctx or self.context(record), steps, observe if watch else None)

    def _execute(
        self, record: ContainerRecord, steps: list[Step], ctx: LifecycleContext | None = None
    ) -> LifecycleContext:
        stepper = self.stepper(record, steps, ctx=ctx)
        stepper.run()
        return stepper.ctx

    # -- verbs --------------------------------------------------------------
    def create(self, config: ContainerConfig, name: str | None = None) -> ContainerRecord:
        record = self.new_record(config, name)
        try:
            self._execute(record, plan.CREATE)
        except BaseException:
            self.containers.delete(record)
            raise
        return record

    def start(self, record: ContainerRecord) -> LifecycleContext:
        if record.state in (RUNNING, PAUSED):
            return self.context(record)  # docker: starting a running container is a no-op
        ctx = self.context(record)
        try:
            self._execute(record, plan.START, ctx)
        except ExecFailed as e:
            record.exit_code, record.error = e.exit_code, str(e)
            record.state = CREATED
            self.containers.save(record)
            raise
        self._handles[record.id] = ctx.handle
        return ctx

    def wait(self, record: ContainerRecord) -> int:
        """Block until the container exits; its exit code."""
        if record.state not in (RUNNING, PAUSED):
            return record.exit_code
        ctx = self.context(record)
        self._execute(record, plan.WAIT, ctx)
        self._handles.pop(record.id, None)
        return record.exit_code

    def run(self, config: ContainerConfig, name: str | None = None, detach: bool = False) -> ContainerRecord:
        record = self.create(config, name)
        try:
            self.start(record)
            if not detach:
                self.wait(record)
        finally:
            if config.auto_remove and record.state != RUNNING:
                self.remove(record, force=True)
        return record

    def stop(self, record: ContainerRecord, timeout: float = 10.0) -> None:
        if record.state not in (RUNNING, PAUSED):
            return  # docker: stopping a stopped container succeeds
        if record.state == PAUSED:
            self.unpause(record)
        ctx = self.context(record)
        ctx.stop_timeout = timeout
        self._execute(record, plan.STOP, ctx)
        self._handles.pop(record.id, None)

    def kill(self, record: ContainerRecord, sig: int = signals.SIGKILL) -> None:
        if record.state not in (RUNNING, PAUSED):
            raise Conflict(f"Cannot kill container: {record.name}: Container {record.id} is not running")
        ctx = self.context(record)
        ctx.handle.signal(sig)
        if sig == signals.SIGKILL:
            status = ctx.handle.wait()
            plan.release_after_exit(ctx, status)
            self.containers.save(record)

    def pause(self, record: ContainerRecord) -> None:
        if record.state != RUNNING:
            raise Conflict(f"Container {record.id} is not running")
        self.kernel.cgroups.freeze(record.cgroup)
        record.state = PAUSED
        self.containers.save(record)

    def unpause(self, record: ContainerRecord) -> None:
        if record.state != PAUSED:
            raise Conflict(f"Container {record.id} is not paused")
        self.kernel.cgroups.thaw(record.cgroup)
        record.state = RUNNING
        self.containers.save(record)

    def remove(self, record: ContainerRecord, force: bool = False) -> None:
        if record.state in (RUNNING, PAUSED):
            if not force:
                raise Conflict(
                    f"You cannot remove a running container {record.id}. "
                    "Stop the container before attempting removal or force remove"
                )
            if record.state == PAUSED:
                self.unpause(record)
            self.kill(record)
        self._execute(record, plan.REMOVE)
        self.forget(record)

    def forget(self, record: ContainerRecord) -> None:
        """Drop the record and its logs (after the remove plan has run)."""
        self._handles.pop(record.id, None)
        self.containers.delete(record)
        shutil.rmtree(record.log_dir, ignore_errors=True)  # in-memory stores keep logs in a scratch dir

    def exec(
        self, record: ContainerRecord, argv: list[str], env: dict[str, str] | None = None, workdir: str = ""
    ) -> tuple[int, bytes, bytes]:
        """``docker exec``: run ``argv`` in the running container's namespaces
        and cgroup; its exit code, stdout and stderr."""
        if record.state != RUNNING:
            raise Conflict(f"Container {record.id} is not running")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="stepbox-exec-") as scratch:
            stdio = Stdio(stdout=os.path.join(scratch, "stdout"), stderr=os.path.join(scratch, "stderr"))
            handle = self.kernel.processes.exec_in(
                record.pid, argv, {**record.env, **(env or {})}, workdir or record.workdir, stdio
            )
            status = handle.wait()
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
        changes: list[str] = (),
        pause: bool = True,
    ) -> Image:
        """``docker commit``: the read-write layer becomes the top layer of a new
        image.  A running container is frozen meanwhile so the layer is read
        in one consistent state."""
        paused_here = pause and record.state == RUNNING
        if paused_here:
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

    def export(self, record: ContainerRecord, out) -> None:
        """``docker export``: the container's whole filesystem as one flat tar."""
        unionfs = self.kernel.unionfs
        stack = [record.rw_layer, record.init_layer, *record.lowers]
        export_rootfs(flatten(list(unionfs.changes(layer)) for layer in reversed(stack)), out)

    def remove_image(self, name: str, force: bool = False) -> list[str]:
        """``docker rmi``: untag, and delete the image once no name and no
        container refers to it; then collect what nothing uses any more."""
        image = self.images.resolve(name)
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
            return [f"Untagged: {parse_reference(name).familiar_str()}"]
        report = [f"Untagged: {tag}" for tag in image.tags]
        self.images.delete(image)
        report += [f"Deleted: {digest}" for digest in self.collect_garbage() if digest == image.id]
        return report

    def collect_garbage(self) -> list[str]:
        """Delete blobs and unpacked layers that no image or container uses."""
        removed = self.images.gc()
        used = {plan.layer_id(d) for img in self.images.list() for d in img.diff_ids}
        for record in self.containers.all():
            used |= {record.rw_layer, record.init_layer, *record.lowers}
        for layer in self.kernel.unionfs.layers():
            if layer not in used:
                self.kernel.unionfs.remove_layer(layer)
        return removed

    # -- looking at a container -----------------------------------------------
    def refresh(self, record: ContainerRecord) -> ContainerRecord:
        """A container whose process ended while no program waited for it (a
        detached run, or a crashed CLI) is recorded as exited now."""
        if record.state not in (RUNNING, PAUSED):
            return record
        ctx = self.context(record)
        status = ctx.handle.wait(timeout=0) if ctx.handle else None
        if ctx.handle is None or status is not None:
            if ctx.handle is None:
                record.error = "the container's process is gone (it ended while stepbox was not watching)"
            plan.release_after_exit(ctx, status)
            self.containers.save(record)
            self._handles.pop(record.id, None)
        return record

    def diff(self, record: ContainerRecord) -> list[tuple[str, str]]:
        return container_changes(self.kernel, record)

    def logs(self, record: ContainerRecord) -> tuple[bytes, bytes]:
        def read(name: str) -> bytes:
            try:
                with open(os.path.join(record.log_dir, name), "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return b""

        return read("stdout.log"), read("stderr.log")

    def inspect(self, record: ContainerRecord) -> dict:
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


def _env_dict(image_config: dict) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in image_config.get("Env") or [])


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
