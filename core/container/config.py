"""What a user asks for when creating a container, checked like docker checks it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from stepbox.core.confinement.policy import ConfinementFlags
from stepbox.core.kernel import RLIMIT_NAMES, CgroupLimits, Rlimit

from .flags import MIN_MEMORY, InvalidConfig, check_ulimit
from .restart_policy import RestartPolicy

# Docker's pattern ends in "+", so it refuses one-character names (dockerd 26
# answers `--name w` with "Invalid container name").  stepbox accepts them:
# the project's own examples use `--name w`, and nothing depends on the length.
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_MAC = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidConfig(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    return name


@dataclass(frozen=True)
class ContainerConfig:
    image: str
    cmd: tuple[str, ...] = ()  # empty: the image's Cmd
    entrypoint: tuple[str, ...] | None = None
    env: dict[str, str] = field(default_factory=dict, hash=False)
    workdir: str = ""
    hostname: str = ""  # empty: the first 12 hex digits of the ID
    user: str = ""
    memory: int | None = None
    pids_limit: int | None = None
    cpus: float | None = None
    # "default" (the daemon's bridge), "bridge", "none", "host", or the name
    # of a user-defined network
    network: str = "default"
    auto_remove: bool = False
    # -- networking, in the Engine API's shapes (see core/network) ----------
    port_bindings: dict[str, Any] = field(
        default_factory=dict, hash=False
    )  # {"80/tcp": [{"HostIp", "HostPort"}]}
    publish_all: bool = False  # -P: every exposed port on a free host port
    exposed_ports: tuple[str, ...] = ()  # "80/tcp", besides the image's EXPOSE
    endpoints: dict[str, Any] = field(default_factory=dict, hash=False)  # NetworkingConfig.EndpointsConfig
    mac_address: str = ""
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()  # "name:ip"
    # What is mounted over the layer stack (see mount_points.py), as asked:
    binds: tuple[str, ...] = ()  # -v SOURCE:DEST[:MODE] (HostConfig.Binds)
    mounts: tuple[dict[str, Any], ...] = field(default=(), hash=False)  # --mount (HostConfig.Mounts)
    tmpfs: dict[str, str] = field(default_factory=dict, hash=False)  # --tmpfs DEST:OPTS
    volumes: tuple[str, ...] = ()  # -v DEST: anonymous volumes (Config.Volumes)
    volumes_from: tuple[str, ...] = ()  # --volumes-from CONTAINER[:MODE]
    volume_driver: str = ""  # --volume-driver: only "local" exists
    readonly_rootfs: bool = False  # --read-only
    # A read-only bind is read-only with everything mounted below it (Docker
    # 25, API 1.44) where the kernel can; False: only the top mount, as
    # dockerd 20.10 did (a client speaking an API older than 1.44).
    recursive_readonly: bool = True
    group_add: tuple[str, ...] = ()  # --group-add: more groups, by name or number
    security: ConfinementFlags = field(default_factory=ConfinementFlags)  # caps, seccomp, devices ...
    # docker run -i / -t: keep stdin open for the engine to write; give the
    # command a pseudo-terminal (of console_size rows and columns, if known);
    # stdin_once: close stdin when the first attached client's input ends.
    open_stdin: bool = False
    tty: bool = False
    stdin_once: bool = False
    console_size: tuple[int, int] | None = None
    # --restart: the daemon's to act on (core/container/restart_policy.py)
    restart_policy: str = "no"
    restart_max_retries: int = 0
    init: bool = False  # --init: tini as PID 1, bound at /sbin/docker-init
    # --ulimit: (name, soft, hard) each, -1 unlimited; set before exec
    ulimits: tuple[tuple[str, int, int], ...] = ()

    def __post_init__(self) -> None:
        if self.memory is not None and 0 < self.memory < MIN_MEMORY:
            raise InvalidConfig("Minimum memory limit allowed is 6MB")
        if self.pids_limit is not None and self.pids_limit == 0:
            raise InvalidConfig("invalid --pids-limit: 0 (use -1 for unlimited)")
        if self.network.startswith("container:"):
            if not _NAME.match(self.joined_container):
                raise InvalidConfig(f"invalid container format container:<name|id>: {self.network}")
        elif not self.network or not _NAME.match(self.network):
            raise InvalidConfig(f"network {self.network} not found")
        if self.mac_address and not _MAC.match(self.mac_address):
            raise InvalidConfig(f"{self.mac_address} is not a valid mac address")
        RestartPolicy(self.restart_policy, self.restart_max_retries)  # checks it
        if self.auto_remove and self.restart_policy != "no":
            raise InvalidConfig("can't create 'AutoRemove' container with restart policy")
        names = [name for name, _, _ in self.ulimits]
        for name, soft, hard in self.ulimits:
            if name not in RLIMIT_NAMES:
                raise InvalidConfig(f"invalid ulimit type: {name}")
            if names.count(name) > 1:
                raise InvalidConfig(f"ulimit {name} given more than once")
            check_ulimit(name, soft, hard)
        if self.workdir and not self.workdir.startswith("/"):
            raise InvalidConfig(
                f"the working directory '{self.workdir}' is invalid, it needs to be an absolute path"
            )
        try:
            self.security.check()
        except ValueError as e:
            raise InvalidConfig(str(e)) from None

    @property
    def joined_container(self) -> str:
        """``--network container:NAME``: NAME (the container whose network
        namespace this one joins); "" for any other network mode."""
        return self.network.partition(":")[2] if self.network.startswith("container:") else ""

    def check_network_mode(self) -> None:
        """What dockerd refuses at create with ``--network container:X``
        (runconfig's validateNetContainerMode): the joined namespace brings
        its own hostname, addresses, ports and name resolution.  (Not in
        __post_init__: the start step itself sets the hostname to X's.)"""
        if not self.joined_container:
            return
        if self.hostname:
            raise InvalidConfig("conflicting options: hostname and the network mode")
        if self.dns:
            raise InvalidConfig("conflicting options: dns and the network mode")
        if self.extra_hosts:
            raise InvalidConfig("conflicting options: custom host-to-IP mapping and the network mode")
        if self.mac_address:
            raise InvalidConfig("conflicting options: mac-address and the network mode")
        if self.port_bindings or self.publish_all:
            raise InvalidConfig("conflicting options: port publishing and the container type network mode")
        if self.exposed_ports:
            raise InvalidConfig("conflicting options: port exposing and the container type network mode")

    @property
    def restart(self) -> RestartPolicy:
        return RestartPolicy(self.restart_policy, self.restart_max_retries)

    @property
    def limits(self) -> CgroupLimits:
        pids = self.pids_limit if self.pids_limit and self.pids_limit > 0 else None
        if self.cpus:
            return CgroupLimits.from_cpus(self.cpus, memory_bytes=self.memory, pids_max=pids)
        return CgroupLimits(memory_bytes=self.memory, pids_max=pids)

    @property
    def rlimits(self) -> tuple[Rlimit, ...]:
        return tuple(Rlimit(name, soft, hard) for name, soft, hard in self.ulimits)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["security"] = self.security.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerConfig:
        data = dict(data)
        data["cmd"] = tuple(data.get("cmd", ()))
        for key in ("exposed_ports", "dns", "dns_search", "dns_options", "extra_hosts"):
            data[key] = tuple(data.get(key, ()))
        for key in ("binds", "mounts", "volumes", "volumes_from"):
            data[key] = tuple(data.get(key) or ())
        if data.get("entrypoint") is not None:
            data["entrypoint"] = tuple(data["entrypoint"])
        data["group_add"] = tuple(data.get("group_add", ()))
        data["security"] = ConfinementFlags.from_dict(data.get("security"))
        if data.get("console_size") is not None:
            data["console_size"] = tuple(data["console_size"])
        data["ulimits"] = tuple(tuple(limit) for limit in data.get("ulimits", ()))
        return cls(**data)
