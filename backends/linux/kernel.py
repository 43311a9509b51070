"""``LinuxKernel``: the four interfaces on the real kernel, bundled.

Everything the backend keeps on disk lives under ``state_dir``::

    overlay/            layers and mounts (:mod:`.unionfs`)
    linux/runs/<token>  one directory per started process (:mod:`.processes`)
    linux/config.json   settings a later program must agree on (the cgroup base)
"""

from __future__ import annotations

import json
import os
import shutil
import stat as statmod
import struct
import subprocess

from stepbox.core.kernel.atomic import atomic_write_json
from stepbox.core.kernel.capabilities import capability_names
from stepbox.core.kernel.devices import DeviceNode
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.kernel import HostFacts, Kernel
from stepbox.core.kernel.observe import MountEntry
from stepbox.core.kernel.trace import Tracer

from . import libc, procfs
from .cgroups import LinuxCgroups, detect_layout
from .cgroups.delegation import RefusingCgroups, rootless_cgroups
from .cgroups.detect import CgroupLayout
from .host_mounts import LinuxHostMounts
from .namespaces import LinuxNamespaces
from .network import LinuxNetwork
from .processes import LinuxProcesses
from .rootless import in_initial_user_namespace, pause_file, release_if_idle, stop_pause
from .unionfs import LinuxUnionFS, private
from .user_network import find_user_network

DOCKER_INIT_PATHS = (
    "/usr/libexec/docker/docker-init",
    "/usr/local/bin/docker-init",
    "/usr/bin/docker-init",
    "/usr/bin/tini-static",
)
BUSYBOX_PATHS = (
    "/usr/bin/busybox",
    "/bin/busybox",
    "/usr/local/bin/busybox",
    "/usr/sbin/busybox",
    "/sbin/busybox",
)
PT_INTERP = 3


def is_static_elf(data: bytes) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP):
    it needs no dynamic loader or libc from the image, so it runs in an
    image that contains nothing else."""
    if data[:4] != b"\x7fELF":
        return False
    is64, little = data[4] == 2, data[5] == 1
    end = "<" if little else ">"
    if is64:
        (phoff,) = struct.unpack_from(end + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
    else:
        (phoff,) = struct.unpack_from(end + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
    for i in range(phnum):
        (p_type,) = struct.unpack_from(end + "I", data, phoff + i * phentsize)
        if p_type == PT_INTERP:
            return False
    return True


def engine_capabilities() -> frozenset[str]:
    """The capabilities this program holds (permitted and in its bounding
    set): all a container can be given here.  A host's root is not always
    almighty -- this VM's lacks CAP_SYS_RESOURCE."""
    masks = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("CapPrm", "CapBnd"):
                masks[key] = int(value.strip(), 16)
    return capability_names(masks.get("CapPrm", 0) & masks.get("CapBnd", 0))


def host_devices(path: str) -> list[DeviceNode]:
    """The device files at ``path``: one (a symlink is followed, as moby's
    DevicesFromPath does), or all under a directory; [] if there are none."""

    def node(at: str, st: os.stat_result) -> DeviceNode | None:
        if statmod.S_ISCHR(st.st_mode):
            kind = "c"
        elif statmod.S_ISBLK(st.st_mode):
            kind = "b"
        else:
            return None
        return DeviceNode(
            at, kind, os.major(st.st_rdev), os.minor(st.st_rdev), st.st_mode & 0o7777, st.st_uid, st.st_gid
        )

    resolved = os.path.realpath(path) if os.path.islink(path) else path
    try:
        st = os.stat(resolved)
    except OSError:
        return []
    found = node(path, st)
    if found is not None:
        return [found]
    if not statmod.S_ISDIR(st.st_mode):
        return []
    nodes = []
    for dirpath, dirnames, filenames in os.walk(resolved):
        dirnames[:] = [d for d in dirnames if d not in ("pts", "shm", "mqueue")]  # mounts of their own
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            found = node(os.path.join(path, os.path.relpath(full, resolved)), st)
            if found is not None:
                nodes.append(found)
    return nodes


def _config(state_dir: str) -> dict:
    try:
        with open(os.path.join(state_dir, "linux", "config.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class LinuxKernel(Kernel):
    name = "linux"
    thread_safe = True
    containers_outlive_program = True
    storage_driver = "overlay2"
    description = "the real Linux kernel (root: real namespaces, cgroups, overlayfs)"
    # The interfaces, as this backend implements them (with more than the
    # interfaces offer: cleanup() uses the rest).
    cgroups: LinuxCgroups | RefusingCgroups
    unionfs: LinuxUnionFS
    processes: LinuxProcesses
    namespaces: LinuxNamespaces

    def __init__(
        self,
        state_dir: str,
        tracer: Tracer | None = None,
        cgroup_base: str | None = None,
        layout: CgroupLayout | None = None,
        fork_shims: bool = False,
    ):
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(os.path.join(self.state_dir, "linux"), exist_ok=True)
        private(self.state_dir, 0o710)  # the way to the rootfs: see LinuxUnionFS
        private(os.path.join(self.state_dir, "linux"), 0o700)
        self.tracer = tracer or Tracer()
        # The cgroup base must be the same for every program using this state
        # dir (a later CLI call must find the groups), so it is remembered.
        config = _config(self.state_dir)
        if cgroup_base is None:
            cgroup_base = config.get("cgroup_base", "")
        if config.get("cgroup_base") != cgroup_base:
            path = os.path.join(self.state_dir, "linux", "config.json")
            atomic_write_json(path, {**config, "cgroup_base": cgroup_base})
        # A layout can be given (tests: the v2 device program on a hybrid
        # host, by leaving the v1 devices hierarchy out).
        self.layout = layout or detect_layout()
        # Rootless (in a user namespace, see .rootless): cgroups only in a
        # subtree delegated to the user, or none and every limit refused.
        self.rootless = not in_initial_user_namespace()
        if self.rootless:
            self.cgroups = rootless_cgroups(self.tracer)
            self.security_options = ("name=rootless",)
            self.description = self._rootless_description()
        else:
            self.cgroups = LinuxCgroups(self.layout, self.tracer, base=cgroup_base)
        self.unionfs = LinuxUnionFS(self.state_dir, self.tracer)
        self.host_mounts = LinuxHostMounts(self.tracer)
        self.processes = LinuxProcesses(self.state_dir, self.tracer, self.cgroups, fork_shims=fork_shims)
        self.namespaces = LinuxNamespaces()
        # Acts in the namespace this program runs in (the daemon's), or in
        # STEPBOX_NETNS (a path under /run/netns or /proc/PID/ns/net): how a
        # test keeps an in-process engine's bridges off the host; "private":
        # in a new namespace of the engine's own (a notebook's lab).
        self.linux_network = LinuxNetwork(self.tracer, netns_path=os.environ.get("STEPBOX_NETNS") or None)
        # Rootless, bridges and veths cannot be made on the host: containers
        # get loopback (--network none), or the host's network (--network host).
        self.network = None if self.rootless else self.linux_network
        if self.rootless:
            self.no_network_why = (
                "rootless, bridges and veths need root on the host; containers get loopback "
                "(published ports are relayed into it), or the host's network with --network host"
            )
            # Published ports as rootless Docker's builtin port driver: a
            # listener in the engine's namespace, each connection relayed by
            # a socket opened inside the container's (the engine is root of
            # the user namespace that owns it, so it may setns there).
            self.port_relay = self.linux_network
            # A way out: slirp4netns in each container's namespace (tap0,
            # 10.0.2.100/24), as rootless podman; without it, loopback only.
            self.user_network, self.no_user_network_why = find_user_network(self.tracer)
        self.sweep()  # what a crashed earlier program left behind

    def _rootless_description(self) -> str:
        try:
            with open(pause_file(self.state_dir)) as f:
                maps = json.load(f).get("maps", "")
        except (OSError, ValueError):
            maps = "in a user namespace made by someone else"
        if isinstance(self.cgroups, RefusingCgroups):
            groups = f"no cgroups, so limits are refused ({self.cgroups.reason})"
        else:
            groups = f"cgroups in the delegated subtree {self.cgroups.hierarchies[0].dir()}"
        return f"the real Linux kernel, rootless: root of a user namespace, {maps}; {groups}"

    def cgroup_version(self) -> str:
        return "2" if self.layout.mode == "v2" else "1"

    def mounts(self, pid: int) -> list[MountEntry]:
        return procfs.read_mounts(pid)

    def capabilities(self, pid: int) -> frozenset[str]:
        return capability_names(procfs.read_status(pid).cap_eff)

    def docker_init(self) -> str | None:
        """Docker's own docker-init if installed, else Debian's tini-static (what
        docker.io's docker-init is): static, so it runs in any image."""
        for path in DOCKER_INIT_PATHS:
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        return None

    def busybox(self) -> tuple[bytes, list[str]] | None:
        for path in BUSYBOX_PATHS:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if not is_static_elf(data):
                continue  # needs a libc the image would not have
            out = subprocess.run([path, "--list"], capture_output=True, check=False)
            applets = sorted(set(out.stdout.decode().split()))
            return data, applets
        return None

    def host_facts(self) -> HostFacts:
        uname = os.uname()
        return HostFacts(uname.machine, uname.release, engine_capabilities())

    def host_devices(self, path: str) -> list[DeviceNode]:
        return host_devices(path)

    def close(self) -> None:
        """Let the shim launcher go (containers and their shims stay), and
        the netlink worker; rootless, the namespaces too when nothing else
        uses them (:func:`.rootless.release_if_idle`)."""
        self.processes.launcher.close()
        self.linux_network.close()
        if self.rootless:
            release_if_idle(self.state_dir)

    # -- crash safety ------------------------------------------------------------------
    def sweep(self) -> dict[str, list]:
        """Startup sweep (run by the constructor): remove only what is
        certainly stale -- layer imports whose program died, mount dirs of
        stacks no longer mounted.  Container processes need no sweep: an init
        whose engine died before ``exec`` exits by itself (its control pipe
        reaches end-of-file) and the shim records that.  Cgroups and mounts
        still in use by a container record are the engine's to release; use
        :func:`cleanup` to tear down everything."""
        return {"overlay": self.unionfs.sweep()}

    def cleanup(self) -> dict[str, list]:
        """Tear down *everything* this state dir started: kill its processes,
        unmount its stacks, remove its cgroups and run records."""
        return cleanup(self.state_dir, kernel=self)


def cleanup(state_dir: str, kernel: LinuxKernel | None = None) -> dict[str, list]:
    """Undo everything the Linux backend did for ``state_dir`` (after a crash,
    or at the end of a test).  Safe to run twice."""
    kernel = kernel or LinuxKernel(state_dir, Tracer(enabled=False))
    # Frozen tasks cannot act on SIGKILL (cgroup v1): thaw first, then kill.
    if "freezer" in kernel.cgroups.controller:
        for path in kernel.cgroups.list():
            try:
                kernel.cgroups.thaw(path)
            except (OSError, KernelError):  # gone already, or stuck: the kill below still tries
                pass
    done: dict[str, list] = {"killed": kernel.processes.kill_all()}
    prefix = kernel.state_dir.rstrip("/") + "/"
    unmounted = []
    # Deepest first, so that mounts stacked on a merged dir go before it.
    for m in sorted(procfs.read_mountinfo(), key=lambda m: -len(m.mountpoint)):
        if m.mountpoint.startswith(prefix):
            try:
                libc.umount2(m.mountpoint, libc.MNT_DETACH)
                unmounted.append(m.mountpoint)
            except OSError:
                pass
    done["unmounted"] = unmounted
    removed = []
    for path in sorted(kernel.cgroups.list(), key=lambda p: -p.count("/")):
        kernel.cgroups.remove(path)
        removed.append(path)
    kernel.cgroups.remove_base()
    done["cgroups"] = removed
    if kernel.rootless:
        done["pause"] = [pid for pid in [stop_pause(kernel.state_dir)] if pid]
    runs = kernel.processes.runs
    for token in os.listdir(runs):
        shutil.rmtree(os.path.join(runs, token), ignore_errors=True)
    done["overlay"] = kernel.unionfs.sweep() + kernel.unionfs.remove_all_mount_dirs()
    return done
