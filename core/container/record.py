"""A container's record: everything stepbox remembers about it.

The seed: "一个镜像可以创建多个容器" -- many containers from one image; the record
ties a container to its image, its own layers (init + read-write), its cgroup
and its process, and renders as ``docker inspect`` does.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field, fields
from typing import Any

from stepbox.core.confinement.policy import MASKED_PATHS, READONLY_PATHS

from .config import ContainerConfig

# Docker's states (State.Status)
CREATED, RUNNING, PAUSED, EXITED, DEAD = "created", "running", "paused", "exited", "dead"
ZERO_TIME = "0001-01-01T00:00:00Z"


def new_container_id() -> str:
    return secrets.token_hex(32)


def now() -> str:
    """A timestamp as Docker writes them (``Created``, ``State.StartedAt``)."""
    return timestamp(time.time_ns())


# The text of the last second a timestamp was made in: a lifecycle makes
# three (created, started, finished), mostly in the same second, and the
# date and time of day are a pure function of the second -- only the
# microseconds are new.  One tuple, swapped whole (threads).
_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00")


def timestamp(ns: int) -> str:
    """``ns`` since the epoch as ``datetime.isoformat`` writes it, in UTC
    to the microsecond (rounded down, as ``datetime.now``), with "Z":
    ``2024-01-01T12:00:00.000042Z``."""
    global _last_second
    seconds, micros = divmod(ns // 1000, 1_000_000)
    second, text = _last_second
    if second != seconds:
        t = time.gmtime(seconds)
        text = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        _last_second = (seconds, text)
    return f"{text}.{micros:06d}Z"


@dataclass
class ContainerRecord:
    id: str
    name: str
    created: str
    config: ContainerConfig
    backend: str
    image_id: str = ""
    image_config: dict[str, Any] = field(default_factory=dict)  # the image's "config" section
    state: str = CREATED
    pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    lowers: list[str] = field(default_factory=list)  # image layer ids, top-most first
    mount: dict[str, Any] | None = None  # UnionMount fields while mounted
    cgroup: str = ""
    process: dict[str, Any] | None = None  # ProcessHandle.record() while running
    log_dir: str = ""  # the container's own directory: logs, hostname, hosts, resolv.conf
    mounts: list[dict[str, Any]] = field(default_factory=list)  # MountPoint records (mount_points.py)
    started_once: bool = False  # its /etc files exist (Docker shows their paths from the first start)
    # Network name -> Docker's EndpointSettings: the networks the container
    # is on (kept while stopped); addresses are filled in while it runs.
    networks: dict[str, Any] = field(default_factory=dict)
    ports: dict[str, Any] = field(
        default_factory=dict
    )  # published while running: {"80/tcp": [{"HostIp", "HostPort"}]}
    # Rootless, on the default network: the user-mode network (slirp4netns)
    # serving its namespace -- its process (pid, start time) while running,
    # and what the container sees (address, gateway, DNS).
    user_network: dict[str, Any] | None = None
    # The confinement in force since the last start (capabilities, no_new_privs,
    # seccomp filter, user): what `exec` applies to its processes too.
    privileges: dict[str, Any] | None = None

    # -- derived ----------------------------------------------------------
    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def init_layer(self) -> str:
        return f"{self.id}-init"

    @property
    def rw_layer(self) -> str:
        return self.id

    @property
    def hostname(self) -> str:
        return self.config.hostname or self.short_id

    @property
    def argv(self) -> list[str]:
        """Entrypoint + Cmd, from the container config or else the image."""
        image = self.image_config
        entrypoint = (
            list(self.config.entrypoint)
            if self.config.entrypoint is not None
            else list(image.get("Entrypoint") or [])
        )
        cmd = (
            list(self.config.cmd)
            if self.config.cmd
            else ([] if self.config.entrypoint is not None else list(image.get("Cmd") or []))
        )
        return entrypoint + cmd

    @property
    def env(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        for item in self.image_config.get("Env") or []:
            key, _, value = item.partition("=")
            env[key] = value
        env["HOSTNAME"] = self.hostname
        env.update(self.config.env)
        return env  # HOME comes from the user's passwd line at exec

    @property
    def user(self) -> str:
        """``--user`` or the image's USER: a name or number, maybe ``:group``."""
        return self.config.user or self.image_config.get("User") or ""

    @property
    def workdir(self) -> str:
        return self.config.workdir or self.image_config.get("WorkingDir") or "/"

    # -- persistence ------------------------------------------------------
    def to_dict(self, config: dict[str, Any] | None = None) -> dict[str, Any]:
        """``config``: the config's own ``to_dict()``, if the caller has it
        already (the store keeps it: a config never changes)."""
        # Shallow: the values are already JSON-shaped, and this runs after
        # every step (dataclasses.asdict would deep-copy all of it each time).
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["config"] = self.config.to_dict() if config is None else config
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerRecord:
        data = dict(data)
        data["config"] = ContainerConfig.from_dict(data["config"])
        return cls(**data)

    # -- docker inspect ---------------------------------------------------
    def _security_inspect(self) -> dict[str, Any]:
        """HostConfig's confinement fields, as dockerd shows them ([] where dockerd
        shows null: the API's schema says array, and a Go template prints both as [])."""
        flags = self.config.security
        masked, readonly = flags.masked_paths, flags.readonly_paths
        if not flags.privileged:  # dockerd fills in its defaults at create
            masked = MASKED_PATHS if masked is None else masked
            readonly = READONLY_PATHS if readonly is None else readonly
        return {
            "CapAdd": list(flags.cap_add),
            "CapDrop": list(flags.cap_drop),
            "Privileged": flags.privileged,
            "SecurityOpt": list(flags.security_opt),
            "Devices": [d.to_api() for d in flags.devices],
            "DeviceCgroupRules": list(flags.device_cgroup_rules),
            "GroupAdd": list(self.config.group_add),
            "MaskedPaths": list(masked or ()),
            "ReadonlyPaths": list(readonly or ()),
        }

    def inspect(self, graph_driver: dict[str, Any] | None = None) -> dict[str, Any]:
        argv = self.argv
        limits = self.config
        return {
            "Id": self.id,
            "Created": self.created,
            "Path": argv[0] if argv else "",
            "Args": argv[1:],
            "State": {
                "Status": self.state,
                "Running": self.state in (RUNNING, PAUSED),
                "Paused": self.state == PAUSED,
                "Restarting": False,
                "OOMKilled": self.oom_killed,
                "Dead": self.state == DEAD,
                "Pid": self.pid,
                "ExitCode": self.exit_code,
                "Error": self.error,
                "StartedAt": self.started_at,
                "FinishedAt": self.finished_at,
            },
            "Image": self.image_id,
            "Name": "/" + self.name,
            "Driver": "overlay2",
            "Platform": "linux",
            "LogPath": f"{self.log_dir}/stdout.log" if self.log_dir else "",
            "HostConfig": {
                "Memory": limits.memory or 0,
                "PidsLimit": limits.pids_limit,
                "NanoCpus": int((limits.cpus or 0) * 1e9),
                "NetworkMode": "bridge" if limits.network == "default" else limits.network,
                "AutoRemove": limits.auto_remove,
                "VolumeDriver": limits.volume_driver,
                "ReadonlyRootfs": limits.readonly_rootfs,
                **self._requested_mounts(),
                "PortBindings": dict(limits.port_bindings),
                "PublishAllPorts": limits.publish_all,
                "Dns": list(limits.dns),
                "DnsSearch": list(limits.dns_search),
                "DnsOptions": list(limits.dns_options),
                "ExtraHosts": list(limits.extra_hosts),
                **self._security_inspect(),
            },
            "GraphDriver": graph_driver or {"Name": "overlay2", "Data": None},
            "Mounts": self.mount_points(),
            "Config": {
                "Hostname": self.hostname,
                "User": self.config.user,
                "Env": [f"{k}={v}" for k, v in self.env.items()],
                "Cmd": list(self.config.cmd) or self.image_config.get("Cmd"),
                "Image": self.config.image,
                "WorkingDir": self.config.workdir,
                "Entrypoint": (
                    list(self.config.entrypoint)
                    if self.config.entrypoint is not None
                    else self.image_config.get("Entrypoint")
                ),
                "Labels": {},
                **({"Volumes": self.volume_paths()} if self.volume_paths() else {}),
            },
            "stepbox": {"Backend": self.backend, "Cgroup": self.cgroup},
        }

    def _requested_mounts(self) -> dict[str, Any]:
        """HostConfig's Binds, Mounts, Tmpfs, VolumesFrom as asked.  dockerd
        shows an empty one as null, which the API's schema does not allow;
        left out, it reads the same to a client (``{{json .HostConfig.Binds}}``
        prints null either way)."""
        config = self.config
        shown = {
            "Binds": list(config.binds),
            "Mounts": [dict(m) for m in config.mounts],
            "Tmpfs": dict(config.tmpfs),
            "VolumesFrom": list(config.volumes_from),
        }
        return {key: value for key, value in shown.items() if value}

    def mount_points(self) -> list[dict[str, Any]]:
        """``docker inspect``'s ``Mounts``: volumes and binds (and tmpfs
        asked with ``--mount``), by destination (Docker's order is its Go
        map's: random)."""
        shown = []
        for m in sorted(self.mounts, key=lambda m: m["destination"]):
            entry = {"Type": m["type"]}
            if m["type"] == "volume":
                entry["Name"] = m["name"]
            entry["Source"] = m["source"]
            entry["Destination"] = m.get("destination_as_asked") or m["destination"]
            if m["type"] == "volume":
                entry["Driver"] = m["driver"] or "local"
            entry.update({"Mode": m["mode"], "RW": m["rw"], "Propagation": m["propagation"]})
            shown.append(entry)
        return shown

    def volume_paths(self) -> dict[str, Any] | None:
        """``Config.Volumes``: the anonymous volumes asked with ``-v /path``
        and the image's ``VOLUME``s."""
        paths = list(self.config.volumes) + list((self.image_config.get("Volumes") or {}).keys())
        return {path: {} for path in paths} or None
