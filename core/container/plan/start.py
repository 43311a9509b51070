"""start: from layers on disk to a running process in namespaces of its own (``docker start``)."""

from __future__ import annotations

import posixpath
import signal

from stepbox.core.kernel import (
    DOCKER_DEFAULT_CAPABILITIES,
    ExecFailed,
    MountSpec,
    NamespaceKind,
    ProcessHandle,
    SpawnSpec,
    Stdio,
    UnionMount,
)
from stepbox.core.kernel.namespaces import DEFAULT_CONTAINER_NAMESPACES

from .. import mounting
from ..config import ContainerConfig
from ..context import LifecycleContext
from ..errors import BadRequest
from ..record import CREATED, RUNNING, now
from ..steps import Phase, Step
from ..users import resolve_user
from .network import LOOPBACK, NETWORK


def prepare_mounts_on_host(ctx: LifecycleContext) -> None:
    assert ctx.volumes is not None, "the runtime gives every context its volume store"
    mounting.prepare_host_side(ctx, ctx.volumes)
    ctx.record.started_once = True


def mount_rootfs(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    mount = unionfs.mount([record.init_layer, *record.lowers], record.rw_layer, record.id)
    ctx.mount = mount
    record.mount = {
        "target": mount.target,
        "lowers": list(mount.lowers),
        "upper": mount.upper,
        "options": mount.options,
    }
    ctx.on_undo("unmount rootfs", lambda: unmount_rootfs(ctx))


def unmount_rootfs(ctx: LifecycleContext) -> None:
    if ctx.record.mount:
        ctx.kernel.unionfs.unmount(mount_of(ctx.record.mount))
    ctx.record.mount = None
    ctx.mount = None


def mount_of(data: dict[str, object]) -> UnionMount:
    """The union mount a record describes (``record.mount``)."""
    lowers = data["lowers"]
    assert isinstance(lowers, list)
    return UnionMount(str(data["target"]), tuple(lowers), str(data["upper"]), str(data["options"]))


def create_cgroup(ctx: LifecycleContext) -> None:
    record, cgroups = ctx.record, ctx.kernel.cgroups
    record.cgroup = f"stepbox/{record.id}"
    cgroups.create(record.cgroup)
    ctx.on_undo("remove cgroup", lambda: remove_cgroup(ctx))
    cgroups.set_limits(record.cgroup, record.config.limits)


def remove_cgroup(ctx: LifecycleContext) -> None:
    if ctx.record.cgroup:
        ctx.kernel.cgroups.remove(ctx.record.cgroup)
    ctx.record.cgroup = ""


def spawn_process(ctx: LifecycleContext) -> None:
    record = ctx.record
    kinds: tuple[NamespaceKind, ...] = DEFAULT_CONTAINER_NAMESPACES
    if record.config.network == "host":
        kinds = tuple(k for k in kinds if k is not NamespaceKind.NET)
    stdio = Stdio(
        stdout=posixpath.join(record.log_dir, "stdout.log"),
        stderr=posixpath.join(record.log_dir, "stderr.log"),
    )
    handle = ctx.kernel.processes.spawn(SpawnSpec(namespaces=kinds, cgroup=record.cgroup, stdio=stdio))
    ctx.handle = ctx.handles[record.id] = handle
    record.pid = handle.pid
    record.process = handle.record()
    ctx.on_undo("kill the container's process", lambda: kill_and_reap(ctx))


def kill_and_reap(ctx: LifecycleContext) -> None:
    if ctx.handle is not None:
        try:
            ctx.handle.signal(signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended by itself already (a failed exec): only the wait is left
        ctx.handle.wait()
    ctx.handles.pop(ctx.record.id, None)
    ctx.handle = None
    ctx.record.pid = 0
    ctx.record.process = None


def _handle(ctx: LifecycleContext) -> ProcessHandle:
    assert ctx.handle is not None, "spawn runs first"
    return ctx.handle


def _mount(ctx: LifecycleContext) -> UnionMount:
    assert ctx.mount is not None, "mount_rootfs runs first"
    return ctx.mount


def _rootfs(ctx: LifecycleContext) -> str:
    return _mount(ctx).target


def set_hostname(ctx: LifecycleContext) -> None:
    _handle(ctx).sethostname(ctx.record.hostname)


# What Docker mounts in every container (moby oci/defaults.go), in this order.
DEFAULT_MOUNTS = (
    MountSpec("proc", "/proc", "proc", ("nosuid", "noexec", "nodev")),
    MountSpec("tmpfs", "/dev", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
    MountSpec(
        "devpts",
        "/dev/pts",
        "devpts",
        ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
    ),
    MountSpec("sysfs", "/sys", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
    MountSpec("mqueue", "/dev/mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
    MountSpec("shm", "/dev/shm", "tmpfs", ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
)
# Device files a program expects; bind-mounted from the host's /dev.
DEFAULT_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
MASKED_PATHS = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def mount_filesystems(ctx: LifecycleContext) -> None:
    mount_special_filesystems(ctx)
    mount_user_mounts(ctx)


def mount_special_filesystems(ctx: LifecycleContext) -> None:
    handle, rootfs = _handle(ctx), _rootfs(ctx)
    handle.make_mounts_private()
    record = ctx.record
    taken = mounting.user_destinations(record) if record.mounts or record.config.tmpfs else set()
    own_dev = "/dev" in taken
    for spec in DEFAULT_MOUNTS:
        # A user's mount replaces Docker's at the same place; theirs on /dev, all of /dev.
        if spec.target in taken or (own_dev and spec.target.startswith("/dev/")):
            continue
        handle.mount(spec, rootfs)
    for name in DEFAULT_DEVICES:
        if f"/dev/{name}" not in taken and not own_dev:
            handle.mount(MountSpec(f"/dev/{name}", f"/dev/{name}", "bind", ("rbind",)), rootfs)


def mount_user_mounts(ctx: LifecycleContext) -> None:
    """Volumes, bind mounts, tmpfs and the container's own /etc files."""
    for spec in mounting.user_mounts(ctx.record, ctx.kernel.host_mounts):
        _handle(ctx).mount(spec, _rootfs(ctx))


def pivot_root(ctx: LifecycleContext) -> None:
    _handle(ctx).pivot_root(_rootfs(ctx))
    _handle(ctx).mask_paths(MASKED_PATHS, READONLY_PATHS)
    mounting.readonly_root(ctx)


def has_own_network(config: ContainerConfig) -> bool:
    """Not ``--network host``: the container has a network namespace to set up."""
    return config.network != "host"


def drop_capabilities(ctx: LifecycleContext) -> None:
    _handle(ctx).drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)


def exec_command(ctx: LifecycleContext) -> None:
    record = ctx.record
    argv = record.argv
    if not argv:
        raise BadRequest("No command specified")
    uid, gid, home = resolve_user(ctx.kernel.unionfs.merged(_mount(ctx)), record.user)
    env = record.env
    env.setdefault("HOME", home)  # from the user's passwd line, as docker does
    _handle(ctx).exec(argv, env, cwd=record.workdir, user=(uid, gid))
    record.state = RUNNING
    record.started_at = now()
    record.exit_code = 0
    record.error = ""
    record.oom_killed = False


# Docker's exit code for a start that failed for another reason than the
# command (moby daemon/start.go: exitUnknown).
EXIT_UNKNOWN = 128


def record_start_failure(ctx: LifecycleContext) -> None:
    """What a failed start leaves (moby's containerStart): the container is
    still Created, with the error and an exit code -- 127 or 126 when the
    command could not be executed, as a shell says it."""
    record, error = ctx.record, ctx.failure
    record.state = CREATED
    record.error = str(error) if error is not None else ""
    if isinstance(error, ExecFailed):
        record.exit_code = error.exit_code
    elif record.exit_code == 0:
        record.exit_code = EXIT_UNKNOWN


START_FAILED: Step[LifecycleContext] = Step(
    "start_failed",
    "Record why the start failed",
    "Everything the start had set up is undone; the container stays created, and inspect "
    "shows the error and an exit code (127: the command was not found, 126: it could not "
    "be executed) -- as after a failed `docker start`.",
    "Docker容器",
    record_start_failure,
)

START: Phase[LifecycleContext] = Phase(
    "start",
    (
        Step(
            "volumes_on_host",
            "Get the volumes and bind sources ready on the host",
            "Before anything of the container exists, its mounts are made ready on the host: its "
            "own /etc/hostname, /etc/hosts and /etc/resolv.conf are written in its directory, a "
            "volume created with driver options (type=tmpfs) gets its filesystem mounted over its "
            "data directory, and a missing host directory named with -v is created. A mount that "
            "cannot work (over /proc, a propagation the host's mount does not allow) fails the "
            "start here, and the container stays created -- as with Docker.",
            "Docker容器 / VOLUME",
            prepare_mounts_on_host,
        ),
        Step(
            "mount_rootfs",
            "Mount the union filesystem",
            "UnionFS mounts several directories at one place: the image layers (read-only, "
            "lowerdir), the init layer, and the read-write layer (upperdir). The merged "
            "directory is what the container will see as /.",
            "Docker UnionFS",
            mount_rootfs,
        ),
        Step(
            "cgroup",
            "Create the cgroup and set its limits",
            "Namespaces only hide things. A cgroup limits what the container may use -- memory, "
            "number of processes, CPU time -- so one container cannot starve the others, and an "
            "OOM kill hits a process inside the container instead of an innocent one outside.",
            "Docker CGroups",
            create_cgroup,
        ),
        Step(
            "spawn",
            "Create the namespaces and the first process",
            "clone() with CLONE_NEW* flags starts a process in new namespaces: its own PID "
            "numbers (it is PID 1), hostname, mount table, network and IPC. It joins the cgroup "
            "before it runs anything, and waits for the next steps.",
            "Docker namespace",
            spawn_process,
        ),
        Step(
            "hostname",
            "Set the hostname",
            "Inside its own UTS namespace the container can have its own hostname; the host's does not change.",
            "Docker namespace",
            set_hostname,
        ),
        Step(
            "mounts",
            "Mount /proc, /dev and /sys -- and the volumes",
            "In its own mount namespace the container mounts a /proc that shows only its "
            "processes, a small /dev, and a read-only /sys -- without touching the host's mounts. "
            "Then, while host paths can still be reached, each volume and host directory is "
            "bind-mounted at its place (parents before children), each --tmpfs gets a fresh tmpfs, "
            "and the container's own hostname, hosts and resolv.conf are bind-mounted over the init "
            "layer's placeholders. These mounts sit on top of the union filesystem: what is written "
            "there never reaches the read-write layer -- not in `diff`, not in `commit` -- and a "
            "volume outlives the container.",
            "Docker namespace / rootfs / VOLUME",
            mount_filesystems,
        ),
        Step(
            "pivot_root",
            "Switch the root filesystem (pivot_root)",
            "pivot_root makes the merged union mount the new / and detaches the old one, so no "
            "path -- not even ../../.. -- leads back to the host's files (chroot alone can be "
            "escaped). Sensitive /proc files are masked. With --read-only the root is remounted "
            "read-only now; the volumes, tmpfs and /dev mounted on it stay writable.",
            "Docker UnionFS / rootfs",
            pivot_root,
        ),
        # lo only, or -- on a bridge network -- the eight steps that wire it (network.py)
        LOOPBACK,
        *NETWORK,
        Step(
            "capabilities",
            "Drop capabilities",
            "root in a container is not the host's root: most capabilities (mounting, loading "
            "modules, changing the clock...) are dropped, and no_new_privs stops setuid binaries "
            "from getting them back.",
            "Docker namespace",
            drop_capabilities,
        ),
        Step(
            "exec",
            "Execute the command",
            "execve() replaces the waiting process with the container's command. From now on "
            "the container is running: a process, in its own namespaces, limited by its cgroup, "
            "on its own root filesystem.",
            "Docker容器: 容器的实质是进程",
            exec_command,
        ),
    ),
    on_failure=(START_FAILED,),
)
