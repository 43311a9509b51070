"""start: from layers on disk to a running process in namespaces of its own (``docker start``)."""

from __future__ import annotations

import functools
import posixpath
import signal

from stepbox.core.confinement.devices import DEV_SYMLINKS, InvalidDevice
from stepbox.core.confinement.policy import Confinement, decide, loads_seccomp, sets_no_new_privs
from stepbox.core.kernel import (
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
from ..record import CREATED, RUNNING, ContainerRecord, now
from ..steps import Phase, Step
from ..users import ExecUser, resolve_user
from .network import JOIN, LOOPBACK, NETWORK, RELAYED_PORTS, USER_MODE_NETWORK


def prepare_mounts_on_host(ctx: LifecycleContext) -> None:
    assert ctx.volumes is not None, "the runtime gives every context its volume store"
    mounting.prepare_host_side(ctx, ctx.volumes)
    ctx.record.started_once = True


def decide_confinement(ctx: LifecycleContext) -> None:
    """What the container may do, from its flags and this host (Docker
    builds its OCI spec at this moment too)."""
    record, kernel = ctx.record, ctx.kernel
    try:
        confinement = decide(record.config.security, kernel.host_facts(), kernel.host_devices)
    except InvalidDevice as e:
        raise BadRequest(str(e)) from None
    ctx.confinement = confinement
    for note in confinement.notes:
        ctx.say(note)
    # What a later `exec` in this container gets too (runc keeps its config.json);
    # its seccomp filter follows from the config and these capabilities.
    record.privileges = {
        "capabilities": list(_in_order(confinement.capabilities)),
        "no_new_privs": confinement.no_new_privs,
    }


@functools.lru_cache(maxsize=64)
def _in_order(capabilities: frozenset[str]) -> tuple[str, ...]:
    """A set of capabilities sorted, once per set (a value) -- each start asked."""
    return tuple(sorted(capabilities))


def _confinement(ctx: LifecycleContext) -> Confinement:
    assert ctx.confinement is not None, "confinement runs first"
    return ctx.confinement


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
    ensure_workdir(ctx)


def ensure_workdir(ctx: LifecycleContext) -> None:
    """A missing working directory is made (mkdir -p, root's, 0755) before
    anything runs -- as dockerd does at start, from outside the container, so
    no filter or user inside has a say; the paths resolve inside the rootfs."""
    files = ctx.kernel.unionfs.merged(_mount(ctx))
    path = ""
    for part in [p for p in ctx.record.workdir.split("/") if p]:
        path += "/" + part
        if not files.exists(path):
            files.mkdir(path, 0o755)


def _mount(ctx: LifecycleContext) -> UnionMount:
    assert ctx.mount is not None, "mount_rootfs runs first"
    return ctx.mount


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
    cgroups.set_devices(record.cgroup, list(_confinement(ctx).device_rules))


def remove_cgroup(ctx: LifecycleContext) -> None:
    if ctx.record.cgroup:
        ctx.kernel.cgroups.remove(ctx.record.cgroup)
    ctx.record.cgroup = ""


def spawn_process(ctx: LifecycleContext) -> None:
    record = ctx.record
    kinds: tuple[NamespaceKind, ...] = DEFAULT_CONTAINER_NAMESPACES
    if record.config.network == "host":
        kinds = tuple(k for k in kinds if k is not NamespaceKind.NET)
    config = record.config
    stdio = Stdio(
        stdout=posixpath.join(record.log_dir, "stdout.log"),
        stderr=posixpath.join(record.log_dir, "stderr.log"),
        open_stdin=config.open_stdin,
        tty=config.tty,
        window=config.console_size,
    )
    join: tuple[tuple[NamespaceKind, str], ...] = ()
    if ctx.joined_pid:  # --network container:X (the join_network step found X)
        join = ((NamespaceKind.NET, f"/proc/{ctx.joined_pid}/ns/net"),)
    handle = ctx.kernel.processes.spawn(
        SpawnSpec(namespaces=kinds, cgroup=record.cgroup, stdio=stdio, join=join)
    )
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


def mount_filesystems(ctx: LifecycleContext) -> None:
    # runc's order: every mount, then the device nodes and /dev's symlinks --
    # so a --device below a user's mount (--tmpfs /dev/snd --device
    # /dev/null:/dev/snd/x) lands in that mount, not under it.
    mount_special_filesystems(ctx)
    mount_user_mounts(ctx)
    make_devices(ctx)


def _taken(record: ContainerRecord) -> set[str]:
    """The places in the container the user's own mounts take."""
    return mounting.user_destinations(record) if record.mounts or record.config.tmpfs else set()


def mount_special_filesystems(ctx: LifecycleContext) -> None:
    handle, rootfs = _handle(ctx), _rootfs(ctx)
    handle.make_mounts_private()
    taken = _taken(ctx.record)
    own_dev = "/dev" in taken
    for spec in DEFAULT_MOUNTS:
        # A user's mount replaces Docker's at the same place; theirs on /dev, all of /dev.
        if spec.target in taken or (own_dev and spec.target.startswith("/dev/")):
            continue
        handle.mount(spec, rootfs)


def make_devices(ctx: LifecycleContext) -> None:
    """Fresh device files in the container's own /dev (a tmpfs): a chmod of
    them inside changes nothing of the host's.  A user's mount at one of
    their places takes that place instead; a user's /dev, all of them."""
    taken = _taken(ctx.record)
    if "/dev" in taken:
        return
    handle, rootfs = _handle(ctx), _rootfs(ctx)
    # (Sifted only when the user took places: the usual start took none.)
    nodes = _confinement(ctx).device_nodes
    handle.make_device_nodes([n for n in nodes if n.path not in taken] if taken else list(nodes), rootfs)
    links = [link for link in DEV_SYMLINKS if link[1] not in taken] if taken else list(DEV_SYMLINKS)
    handle.make_symlinks(links, rootfs)


def mount_user_mounts(ctx: LifecycleContext) -> None:
    """Volumes, bind mounts, tmpfs and the container's own /etc files."""
    handle, rootfs = _handle(ctx), _rootfs(ctx)
    for spec in mounting.user_mounts(ctx.record, ctx.kernel.host_mounts):
        handle.mount(spec, rootfs)


def pivot_root(ctx: LifecycleContext) -> None:
    confinement = _confinement(ctx)
    _handle(ctx).pivot_root(_rootfs(ctx))
    _handle(ctx).mask_paths(list(confinement.masked_paths), list(confinement.readonly_paths))
    mounting.readonly_root(ctx)


DOCKER_INIT = "/sbin/docker-init"


def mount_init(ctx: LifecycleContext) -> None:
    """--init: bind the host's static init (tini) read-only at /sbin/docker-init."""
    source = ctx.kernel.docker_init()
    if source is None:
        raise BadRequest(
            "--init: this host has no static init to bind at /sbin/docker-init "
            "(install Debian's tini: apt-get install tini, for /usr/bin/tini-static)"
        )
    _handle(ctx).mount(MountSpec(source, DOCKER_INIT, "bind", ("ro",)), _rootfs(ctx))


def wants_init(config: ContainerConfig) -> bool:
    return config.init


def open_terminal(ctx: LifecycleContext) -> None:
    _handle(ctx).open_terminal(ctx.record.config.console_size)


def wants_terminal(config: ContainerConfig) -> bool:
    """``docker run -t``."""
    return config.tty


def set_rlimits(ctx: LifecycleContext) -> None:
    _handle(ctx).set_rlimits(ctx.record.config.rlimits)


def wants_ulimits(config: ContainerConfig) -> bool:
    """``docker run --ulimit``."""
    return bool(config.ulimits)


def has_own_network(config: ContainerConfig) -> bool:
    """Not ``--network host``: the container has a network namespace to set up."""
    return config.network != "host"


def load_seccomp_early(ctx: LifecycleContext) -> None:
    confinement = _confinement(ctx)
    if confinement.seccomp is not None and not confinement.no_new_privs:
        _handle(ctx).load_seccomp(confinement.seccomp)


def drop_capabilities(ctx: LifecycleContext) -> None:
    """Resolve ``--user`` and ``--group-add`` in the container's own
    /etc/passwd and /etc/group, then switch to that user and drop the
    capabilities (runc's finalizeNamespace)."""
    record, confinement = ctx.record, _confinement(ctx)
    user = resolve_user(ctx.kernel.unionfs.merged(_mount(ctx)), record.user, record.config.group_add)
    ctx.user = user
    record.privileges = {
        **(record.privileges or {}),
        "user": [user.uid, user.gid, list(user.groups)],
        "home": user.home,
        # Docker's spec gives effective/permitted capabilities only to a root
        # user; an exec inherits the spec's sets whoever it runs as.
        "effective": sorted(confinement.capabilities) if user.uid == 0 else [],
    }
    _handle(ctx).drop_capabilities(confinement.capabilities, user.credentials)


def set_no_new_privs(ctx: LifecycleContext) -> None:
    confinement = _confinement(ctx)
    if confinement.no_new_privs:
        _handle(ctx).set_no_new_privs()
        if confinement.seccomp is not None:
            _handle(ctx).load_seccomp(confinement.seccomp)


def _user(ctx: LifecycleContext) -> ExecUser:
    assert ctx.user is not None, "capabilities runs first"
    return ctx.user


def exec_command(ctx: LifecycleContext) -> None:
    record = ctx.record
    argv = record.argv
    if not argv:
        raise BadRequest("No command specified")
    if record.config.init:
        argv = [DOCKER_INIT, "--", *argv]  # tini runs the command as its child
    env = record.env
    env.setdefault("HOME", _user(ctx).home)  # from the user's passwd line, as docker does
    _handle(ctx).exec(argv, env, cwd=record.workdir)
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
            "confinement",
            "Decide the confinement",
            "Before anything runs, work out what the container will be allowed to do: which of "
            "root's capabilities it keeps (Docker keeps 14 of 41), which system calls its seccomp "
            "profile allows, which device files it may open, and whether no_new_privs is set. "
            "Flags like --cap-add, --privileged and --security-opt change this.",
            "Docker namespace",
            decide_confinement,
            saves=False,  # privileges: worked out again at every start, read by no recovery
        ),
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
            saves=False,  # started_once: the /etc files exist; what it mounts, the volume store records
        ),
        Step(
            "mount_rootfs",
            "Mount the union filesystem",
            "UnionFS mounts several directories at one place: the image layers (read-only, "
            "lowerdir), the init layer, and the read-write layer (upperdir). The merged "
            "directory is what the container will see as /.",
            "Docker UnionFS",
            mount_rootfs,
            saves=False,  # recovery finds union mounts by asking the kernel; the cgroup step saves next
        ),
        Step(
            "cgroup",
            "Create the cgroup and set its limits",
            "Namespaces only hide things. A cgroup limits what the container may use -- memory, "
            "number of processes, CPU time, and which device files it may open -- so one "
            "container cannot starve the others or read the host's disk, and an OOM kill hits a "
            "process inside the container instead of an innocent one outside.",
            "Docker CGroups",
            create_cgroup,
        ),
        JOIN,  # --network container:X only
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
            saves=False,  # the record does not change
        ),
        Step(
            "mounts",
            "Mount /proc, /dev and /sys -- and the volumes",
            "In its own mount namespace the container mounts a /proc that shows only its "
            "processes, a small /dev of its own (fresh device files made with mknod, never the "
            "host's), and a read-only /sys -- without touching the host's mounts. "
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
            "init",
            "Bind an init as PID 1 (--init)",
            "docker run --init: a tiny init (tini) from the host is bind-mounted read-only at "
            "/sbin/docker-init and becomes PID 1, with the command as its child. It reaps orphaned "
            "processes (a namespace's init must, or they stay zombies) and passes signals on: the "
            "kernel gives a namespace's init only the signals it has handlers for, so a plain "
            "program as PID 1 ignores docker stop's SIGTERM.",
            "Docker容器: 容器的实质是进程",
            mount_init,
            when=wants_init,
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
            saves=False,  # the record does not change
        ),
        Step(
            "terminal",
            "Open a pseudo-terminal",
            "docker run -t: a pseudo-terminal is opened from the container's own /dev/pts. Its "
            "slave side becomes the command's stdin, stdout and stderr and its controlling "
            "terminal (and /dev/console); the master side stays outside, with the shim, which "
            "types what the client sends and copies what the terminal shows to the log. The "
            "kernel's line discipline in between echoes keys, edits lines, and turns ^C into "
            "SIGINT -- which is why a shell now prints a prompt.",
            "Docker容器: 容器的实质是进程",
            open_terminal,
            when=wants_terminal,
        ),
        # lo only (and, rootless, a user-mode network and ports relayed into
        # it), or -- on a bridge network -- the eight steps that wire it (network.py)
        LOOPBACK,
        USER_MODE_NETWORK,
        RELAYED_PORTS,
        *NETWORK,
        Step(
            "ulimits",
            "Set resource limits (--ulimit)",
            "docker run --ulimit nofile=100:200: setrlimit() on the waiting process, whose limits "
            "its command keeps across execve() and hands down to its children. Unlike a cgroup, a "
            "limit of this kind counts per process (open files, stack size, core dumps...). It is "
            "set before capabilities are dropped: raising a hard limit needs CAP_SYS_RESOURCE.",
            "Docker容器: 容器的实质是进程",
            set_rlimits,
            when=wants_ulimits,
        ),
        Step(
            "seccomp",
            "Load the seccomp filter",
            "From now on every system call passes a filter: Docker's default profile refuses "
            "about 50 of them (unshare, mount, reboot, loading modules...) with EPERM. Loaded "
            "before the capabilities are dropped, because without no_new_privs only a process "
            "holding CAP_SYS_ADMIN may install one. (With --security-opt no-new-privileges it "
            "comes last instead; --privileged and seccomp=unconfined load none.)",
            "Docker namespace",
            load_seccomp_early,
            saves=False,  # the record does not change
            when=lambda config: loads_seccomp(config.security) and not sets_no_new_privs(config.security),
        ),
        Step(
            "capabilities",
            "Switch user and drop capabilities",
            "root in a container is not the host's root: most capabilities (mounting, loading "
            "modules, changing the clock...) leave the bounding set for good. Then the process "
            "becomes the container's user (with its groups, from the image's /etc/passwd and "
            "/etc/group); a non-root user keeps no capabilities at all.",
            "Docker namespace",
            drop_capabilities,
            saves=False,  # privileges (the user it runs as): saved by exec, next
        ),
        Step(
            "no_new_privs",
            "Set no_new_privs, then load the seccomp filter",
            "--security-opt no-new-privileges: no setuid program or file capability can raise "
            "privileges again -- and the seccomp filter is loaded now, as late as possible. "
            "Docker leaves no_new_privs off by default, so setuid programs in images work.",
            "Docker namespace",
            set_no_new_privs,
            when=lambda config: sets_no_new_privs(config.security),
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
