"""The container lifecycle, step by step.

Each phase Docker has -- create, start, wait, stop, remove -- is a list of
:class:`~.steps.Step`.  ``run`` is create + start + wait (+ remove with
``--rm``).  Read top to bottom, this file *is* the answer to "what does
``docker run`` do?".
"""

from __future__ import annotations

import posixpath
import signal
from datetime import UTC, datetime

from stepbox.core.kernel import (
    DOCKER_DEFAULT_CAPABILITIES,
    NamespaceKind,
    SpawnSpec,
    Stdio,
    UnionMount,
)
from stepbox.core.kernel.namespaces import DEFAULT_CONTAINER_NAMESPACES
from stepbox.core.kernel.processes import MountSpec

from .record import CREATED, EXITED, RUNNING
from .steps import LifecycleContext, Step
from .users import resolve_user


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def layer_id(diff_id: str) -> str:
    """Layers are kept under the hex of their diff ID (the uncompressed digest)."""
    return diff_id.removeprefix("sha256:")


# --------------------------------------------------------------------- create


def resolve_image(ctx: LifecycleContext) -> None:
    image = ctx.images.resolve(ctx.record.config.image)
    ctx.record.image_id = image.id
    ctx.record.image_config = image.config.get("config", {})
    lowers = []
    for blob, diff_id in zip(image.layers, image.diff_ids):
        lid = layer_id(diff_id)
        if not ctx.kernel.unionfs.has_layer(lid):  # unpacked once, shared afterwards
            ctx.kernel.unionfs.import_layer(lid, ctx.images.layer_entries(blob))
        lowers.append(lid)
    ctx.record.lowers = list(reversed(lowers))  # overlayfs wants the top-most first


HOSTS = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def prepare_init_layer(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unionfs.create_layer(record.init_layer)
    ctx.on_undo("remove init layer", lambda: unionfs.remove_layer(record.init_layer))
    files = unionfs.layer_files(record.init_layer)
    for directory in ("/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc", "/proc", "/sys"):
        files.mkdir(directory, 0o755)
    files.write("/etc/hostname", f"{record.hostname}\n".encode())
    files.write("/etc/hosts", HOSTS.encode())
    files.write("/etc/resolv.conf", b"# stepbox: containers have no network beyond lo\n")
    files.write("/.dockerenv", b"")


def prepare_rw_layer(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unionfs.create_layer(record.rw_layer)
    ctx.on_undo("remove read-write layer", lambda: unionfs.remove_layer(record.rw_layer))


CREATE = [
    Step(
        "resolve_image",
        "Resolve the image to its layers",
        "An image is a stack of read-only layers, each holding only what changed against "
        "its parent. Find the image's layers and make sure each one is unpacked -- once; every "
        "container of this image shares them.",
        "Docker镜像和容器 / Docker“层”",
        resolve_image,
    ),
    Step(
        "init_layer",
        "Prepare the init layer",
        "Docker puts a thin layer on top of the image with what belongs to this container "
        "only: its hostname, /etc/hosts, /etc/resolv.conf and the empty mount points. "
        "The seed calls it the init layer.",
        "init layer",
        prepare_init_layer,
    ),
    Step(
        "rw_layer",
        "Prepare the read-write layer",
        "An empty layer on top of everything: the only place the container's processes can "
        "write. Whatever they change lands here, and `commit` turns it into an image layer.",
        "read-write layer",
        prepare_rw_layer,
    ),
]


# ---------------------------------------------------------------------- start


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
    ctx.on_undo("unmount rootfs", lambda: _unmount(ctx))


def _unmount(ctx: LifecycleContext) -> None:
    if ctx.record.mount:
        ctx.kernel.unionfs.unmount(mount_of(ctx.record.mount))
    ctx.record.mount = None
    ctx.mount = None


def mount_of(data: dict) -> UnionMount:
    return UnionMount(data["target"], tuple(data["lowers"]), data["upper"], data["options"])


def create_cgroup(ctx: LifecycleContext) -> None:
    record, cgroups = ctx.record, ctx.kernel.cgroups
    record.cgroup = f"stepbox/{record.id}"
    cgroups.create(record.cgroup)
    ctx.on_undo("remove cgroup", lambda: cgroups.remove(record.cgroup))
    cgroups.set_limits(record.cgroup, record.config.limits)


def spawn_process(ctx: LifecycleContext) -> None:
    record = ctx.record
    kinds = DEFAULT_CONTAINER_NAMESPACES
    if record.config.network == "host":
        kinds = tuple(k for k in kinds if k is not NamespaceKind.NET)
    stdio = Stdio(
        stdout=posixpath.join(record.log_dir, "stdout.log"),
        stderr=posixpath.join(record.log_dir, "stderr.log"),
    )
    handle = ctx.kernel.processes.spawn(SpawnSpec(namespaces=kinds, cgroup=record.cgroup, stdio=stdio))
    ctx.handle = handle
    record.pid = handle.pid
    record.process = handle.record()
    ctx.on_undo("kill the container's process", lambda: _kill_and_reap(ctx))


def _kill_and_reap(ctx: LifecycleContext) -> None:
    if ctx.handle is not None:
        ctx.handle.signal(signal.SIGKILL)
        ctx.handle.wait()
    ctx.record.pid = 0
    ctx.record.process = None


def set_hostname(ctx: LifecycleContext) -> None:
    ctx.handle.sethostname(ctx.record.hostname)


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


def mount_special_filesystems(ctx: LifecycleContext) -> None:
    handle, rootfs = ctx.handle, ctx.mount.target
    handle.make_mounts_private()
    for spec in DEFAULT_MOUNTS:
        handle.mount(spec, rootfs)
    for name in DEFAULT_DEVICES:
        handle.mount(MountSpec(f"/dev/{name}", f"/dev/{name}", "bind", ("rbind",)), rootfs)


def pivot_root(ctx: LifecycleContext) -> None:
    ctx.handle.pivot_root(ctx.mount.target)
    ctx.handle.mask_paths(MASKED_PATHS, READONLY_PATHS)


def set_up_network(ctx: LifecycleContext) -> None:
    if ctx.record.config.network != "host":
        ctx.handle.bring_up_loopback()


def drop_capabilities(ctx: LifecycleContext) -> None:
    ctx.handle.drop_capabilities(DOCKER_DEFAULT_CAPABILITIES)


def exec_command(ctx: LifecycleContext) -> None:
    record = ctx.record
    argv = record.argv
    if not argv:
        from .errors import BadRequest

        raise BadRequest("No command specified")
    uid, gid, home = resolve_user(ctx.kernel.unionfs.merged(ctx.mount), record.user)
    env = record.env
    env.setdefault("HOME", home)  # from the user's passwd line, as docker does
    ctx.handle.exec(argv, env, cwd=record.workdir, user=(uid, gid))
    record.state = RUNNING
    record.started_at = now()
    record.exit_code = 0
    record.error = ""
    record.oom_killed = False


START = [
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
        "Mount /proc, /dev and /sys",
        "In its own mount namespace the container mounts a /proc that shows only its "
        "processes, a small /dev, and a read-only /sys -- without touching the host's mounts.",
        "Docker namespace / rootfs",
        mount_special_filesystems,
    ),
    Step(
        "pivot_root",
        "Switch the root filesystem (pivot_root)",
        "pivot_root makes the merged union mount the new / and detaches the old one, so no "
        "path -- not even ../../.. -- leads back to the host's files (chroot alone can be "
        "escaped). Sensitive /proc files are masked.",
        "Docker UnionFS / rootfs",
        pivot_root,
    ),
    Step(
        "network",
        "Bring up the loopback interface",
        "A new network namespace starts with only `lo`, and it is down. stepbox gives "
        "containers loopback only (like --network none).",
        "Docker namespace",
        set_up_network,
    ),
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
]


# ----------------------------------------------------------------- wait / stop


def release_after_exit(ctx: LifecycleContext, status) -> None:
    """What happens when the container's PID 1 has ended: record how, read the
    OOM counter before the cgroup goes, unmount the rootfs.  The read-write
    layer stays for `diff`, `commit` and `start`."""
    record, kernel = ctx.record, ctx.kernel
    if record.cgroup and kernel.cgroups.exists(record.cgroup):
        events = kernel.cgroups.stats(record.cgroup).memory_events
        record.oom_killed = events.get("oom_kill", 0) > 0
        kernel.cgroups.remove(record.cgroup)
    record.cgroup = ""
    _unmount(ctx)
    record.state = EXITED
    record.exit_code = status.code if status is not None else record.exit_code
    record.finished_at = now()
    record.pid = 0
    record.process = None
    ctx.handle = None
    ctx.exit_status = status


def wait_for_exit(ctx: LifecycleContext) -> None:
    status = ctx.handle.wait()
    release_after_exit(ctx, status)


WAIT = [
    Step(
        "wait",
        "Wait for the container to exit",
        "The container lives as long as its first process. When PID 1 exits, the kernel "
        "kills everything else in its PID namespace; stepbox records the exit status "
        "(128+N for a signal: 137 = SIGKILL, e.g. by the OOM killer), then unmounts the "
        "rootfs and removes the cgroup. The read-write layer stays.",
        "Docker容器",
        wait_for_exit,
    ),
]


def stop_container(ctx: LifecycleContext) -> None:
    handle = ctx.handle
    handle.signal(ctx.stop_signal)
    status = handle.wait(timeout=ctx.stop_timeout)
    if status is None:  # PID 1 ignored SIGTERM: no handler in a new pid ns
        ctx.say(
            f"container did not exit within {ctx.stop_timeout:g}s of signal "
            f"{ctx.stop_signal}; sending SIGKILL"
        )
        handle.signal(signal.SIGKILL)
        status = handle.wait()
    release_after_exit(ctx, status)


STOP = [
    Step(
        "stop",
        "Stop: SIGTERM, a grace period, then SIGKILL",
        "docker stop asks politely first (SIGTERM) and waits. A PID 1 that installed no "
        "handler ignores SIGTERM -- the kernel protects a namespace's init -- so after the "
        "grace period SIGKILL ends it for sure.",
        "Docker容器",
        stop_container,
    ),
]


# --------------------------------------------------------------------- remove


def remove_container(ctx: LifecycleContext) -> None:
    record, kernel = ctx.record, ctx.kernel
    _unmount(ctx)
    if record.cgroup:
        kernel.cgroups.remove(record.cgroup)
        record.cgroup = ""
    kernel.unionfs.remove_layer(record.rw_layer)
    kernel.unionfs.remove_layer(record.init_layer)
    record.state = "removing"


REMOVE = [
    Step(
        "remove",
        "Remove the container",
        "Unmount (if still mounted), delete the cgroup, and delete the container's own "
        "layers -- the init layer and the read-write layer. The image's layers stay: "
        "other containers share them.",
        "Docker容器",
        remove_container,
    ),
]


def run_plan(auto_remove: bool) -> list[Step]:
    return CREATE + START + WAIT + (REMOVE if auto_remove else [])


__all__ = [
    "CREATE",
    "START",
    "WAIT",
    "STOP",
    "REMOVE",
    "run_plan",
    "release_after_exit",
    "layer_id",
    "mount_of",
    "now",
    "CREATED",
]
