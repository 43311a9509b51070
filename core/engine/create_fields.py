"""Every field of ``POST /containers/create``, and what stepbox does with it.

The docker CLI sends nearly every field of Docker's create body on every
``docker run`` -- most of them empty (``"CpuShares": 0``, ``"Binds": null``,
``"RestartPolicy": {"Name": "no"}``).  dockerd acts on what is set; a daemon
that silently ignored a set field would let a user believe ``--read-only``
or ``--ulimit`` applied.  So each field of the v1.44 body is one row here:

* **honoured** -- stepbox does what Docker does with it;
* **refused** -- a value other than the field's zero value is answered with
  400 ``stepbox does not support HostConfig.X``; the row names the tracker
  issue that is to implement it, and flips to honoured when it lands.

A field that is not in the table at all (a newer API's) is treated like a
refused one.  ``docs/engine-api-fields.md`` is generated from this table
(``python -m stepbox.core.engine.create_fields``) and a test keeps the two
the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import BadParameter

HONOURED, REFUSED = "honoured", "refused"
# Tracker issues that own refused fields (the rows flip when they land).


def is_zero(value) -> bool:
    """Go's zero values as JSON shows them: null, false, 0, "" -- and
    objects or lists made only of those ({} and [] included)."""
    if value is None or value is False:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, str):
        return value == ""
    if isinstance(value, dict):
        return all(is_zero(v) for v in value.values())
    if isinstance(value, list):
        return all(is_zero(v) for v in value)
    return False


def zero_or(*allowed) -> Callable[[object], bool]:
    """Default when zero or one of ``allowed`` (what the CLI sends when the flag is not given)."""
    return lambda value: is_zero(value) or value in allowed


@dataclass(frozen=True)
class Row:
    name: str
    status: str
    what: str  # what it is, in a few words
    owner: int | None = None  # the tracker issue to implement a refused field
    is_default: Callable[[object], bool] = is_zero

    def refuses(self, value) -> bool:
        return self.status == REFUSED and not self.is_default(value)


def honoured(name: str, what: str) -> Row:
    return Row(name, HONOURED, what)


def refused(name: str, what: str, owner: int | None = None, is_default=is_zero) -> Row:
    return Row(name, REFUSED, what, owner, is_default)


def _log_default(value) -> bool:
    return is_zero(value) or (
        isinstance(value, dict)
        and value.get("Type") in ("", "json-file", None)
        and is_zero(value.get("Config"))
    )


CONFIG: tuple[Row, ...] = (
    honoured("Hostname", "the container's hostname (-h)"),
    refused("Domainname", "the NIS domain name"),
    honoured("User", "the user the command runs as (-u), with its groups from the image"),
    honoured("AttachStdin", "attach the client's stdin (-i)"),
    honoured("AttachStdout", "stream stdout to an attached client"),
    honoured("AttachStderr", "stream stderr to an attached client"),
    honoured("ExposedPorts", "ports the container listens on (--expose, -p; for -P)"),
    honoured("Tty", "a pseudo-terminal (-t)"),
    honoured("OpenStdin", "keep stdin open (-i)"),
    honoured("StdinOnce", "close stdin after the first attach"),
    honoured("Env", "environment variables (-e)"),
    honoured("Cmd", "the command"),
    refused("Healthcheck", "a health check (--health-cmd)"),
    refused("ArgsEscaped", "Windows command-line escaping"),
    honoured("Image", "the image"),
    honoured("Volumes", "anonymous volumes (-v /path)"),
    honoured("WorkingDir", "the working directory (-w)"),
    honoured("Entrypoint", "the entrypoint (--entrypoint)"),
    refused("NetworkDisabled", "no network at all (use --network none)"),
    honoured("MacAddress", "the MAC address (--mac-address)"),
    refused("OnBuild", "ONBUILD triggers (image metadata)"),
    honoured("Labels", "labels (-l)"),
    honoured("StopSignal", "the signal `docker stop` sends"),
    honoured("StopTimeout", "the grace period of `docker stop`"),
    refused("Shell", "the SHELL of RUN lines (image metadata)"),
)

HOST_CONFIG: tuple[Row, ...] = (
    refused("CpuShares", "relative CPU weight (-c)"),
    honoured("Memory", "memory limit (-m)"),
    refused("CgroupParent", "the parent cgroup"),
    refused("BlkioWeight", "block IO weight"),
    refused("BlkioWeightDevice", "block IO weight per device"),
    refused("BlkioDeviceReadBps", "read rate limit per device"),
    refused("BlkioDeviceWriteBps", "write rate limit per device"),
    refused("BlkioDeviceReadIOps", "read IO/s limit per device"),
    refused("BlkioDeviceWriteIOps", "write IO/s limit per device"),
    refused("CpuPeriod", "CFS period (--cpu-period)"),
    refused("CpuQuota", "CFS quota (--cpu-quota)"),
    refused("CpuRealtimePeriod", "real-time period"),
    refused("CpuRealtimeRuntime", "real-time runtime"),
    refused("CpusetCpus", "CPUs allowed (--cpuset-cpus)"),
    refused("CpusetMems", "memory nodes allowed"),
    honoured("Devices", "host devices made in the container and allowed (--device)"),
    honoured("DeviceCgroupRules", "more device cgroup rules (--device-cgroup-rule)"),
    refused("DeviceRequests", "GPUs and other device drivers (--gpus)"),
    refused("KernelMemoryTCP", "TCP buffer memory limit"),
    refused("MemoryReservation", "memory soft limit"),
    refused("MemorySwap", "memory+swap limit", is_default=zero_or(-1)),
    refused("MemorySwappiness", "swappiness", is_default=zero_or(-1)),
    honoured("NanoCpus", "CPU limit (--cpus)"),
    refused("OomKillDisable", "no OOM killer"),
    honoured("Init", "an init process as PID 1 (--init)"),
    honoured("PidsLimit", "process limit (--pids-limit)"),
    honoured("Ulimits", "resource limits (--ulimit)"),
    refused("CpuCount", "CPU count (Windows)"),
    refused("CpuPercent", "CPU percent (Windows)"),
    refused("IOMaximumIOps", "IO/s limit (Windows)"),
    refused("IOMaximumBandwidth", "IO bandwidth limit (Windows)"),
    honoured("Binds", "bind mounts and named volumes (-v)"),
    honoured("ContainerIDFile", "the file the client writes the ID to (--cidfile): the client's job"),
    refused("LogConfig", "a log driver other than json-file (--log-driver)", is_default=_log_default),
    honoured("NetworkMode", "bridge, none, host, container:NAME or a user-defined network (--network)"),
    honoured("PortBindings", "published ports (-p)"),
    honoured("RestartPolicy", "restart policy (--restart)"),
    honoured("AutoRemove", "remove when it exits (--rm)"),
    honoured(
        "VolumeDriver", "the volume driver (--volume-driver): local; any other is not found, no plugins"
    ),
    honoured("VolumesFrom", "volumes of another container (--volumes-from)"),
    honoured("Mounts", "mounts (--mount): bind, volume, tmpfs"),
    honoured("ConsoleSize", "the terminal size (-t)"),
    refused("Annotations", "OCI annotations"),
    honoured("CapAdd", "capabilities added (--cap-add)"),
    honoured("CapDrop", "capabilities dropped (--cap-drop)"),
    refused("CgroupnsMode", "host cgroup namespace (--cgroupns host)", is_default=zero_or("private")),
    honoured("Dns", "DNS servers (--dns)"),
    honoured("DnsOptions", "resolver options (--dns-option)"),
    honoured("DnsSearch", "DNS search domains (--dns-search)"),
    honoured("ExtraHosts", "more /etc/hosts lines (--add-host)"),
    honoured("GroupAdd", "supplementary groups (--group-add)"),
    refused("IpcMode", "shared IPC namespace (--ipc)", is_default=zero_or("private", "shareable")),
    refused("Cgroup", "another container's cgroup"),
    refused("Links", "legacy links (--link; user-defined networks resolve names)"),
    refused("OomScoreAdj", "OOM score adjustment"),
    refused("PidMode", "shared PID namespace (--pid)"),
    honoured("Privileged", "all capabilities and devices, no seccomp or masked paths (--privileged)"),
    honoured("PublishAllPorts", "publish every exposed port (-P)"),
    honoured("ReadonlyRootfs", "a read-only root filesystem (--read-only)"),
    honoured("SecurityOpt", "seccomp=, no-new-privileges (apparmor=unconfined, label=disable)"),
    refused("StorageOpt", "storage driver options"),
    honoured("Tmpfs", "tmpfs mounts (--tmpfs)"),
    refused("UTSMode", "the host's UTS namespace (--uts host)"),
    refused("UsernsMode", "user namespace mode (--userns)", is_default=zero_or("host")),
    refused("ShmSize", "size of /dev/shm (--shm-size)"),
    refused("Sysctls", "namespaced sysctls (--sysctl)"),
    refused("Runtime", "another OCI runtime (--runtime)"),
    refused("Isolation", "isolation technology (Windows)", is_default=zero_or("default")),
    honoured("MaskedPaths", "paths hidden in the container (--security-opt systempaths=unconfined: none)"),
    honoured("ReadonlyPaths", "paths read-only in the container"),
)

NETWORKING_CONFIG: tuple[Row, ...] = (
    # Checked field by field in create_body.check_endpoint_settings: Links,
    # DriverOpts and IPv6/link-local addresses are refused there by name.
    honoured("EndpointsConfig", "per-network settings: aliases, IPv4 address, MAC address"),
)

SECTIONS: dict[str, tuple[Row, ...]] = {
    "Config": CONFIG,
    "HostConfig": HOST_CONFIG,
    "NetworkingConfig": NETWORKING_CONFIG,
}
_BY_NAME = {section: {row.name: row for row in rows} for section, rows in SECTIONS.items()}
_NESTED = ("HostConfig", "NetworkingConfig")


def canonical(section: dict, names) -> dict:
    """``section`` with its keys spelled as ``names`` spells them.  dockerd's
    JSON decoder (Go) matches field names ignoring case, so a client may
    send ``hostconfig``; reading only the canonical spelling would drop it."""
    by_lower = {name.lower(): name for name in names}
    out = {}
    for key, value in section.items():
        out[by_lower.get(key.lower(), key) if isinstance(key, str) else key] = value
    return out


def canonical_body(body: dict) -> dict:
    """The create body with every known key in its canonical spelling."""
    body = canonical(body, [*_BY_NAME["Config"], *_NESTED])
    for section in _NESTED:
        if isinstance(body.get(section), dict):
            body[section] = canonical(body[section], _BY_NAME[section])
    return body


def check_fields(body: dict) -> None:
    """400 for the first field stepbox would otherwise have to ignore
    (``body`` with canonical keys: :func:`canonical_body`)."""
    parts = [("Config", {k: v for k, v in body.items() if k not in _NESTED})]
    for section in _NESTED:
        value = body.get(section)
        if isinstance(value, dict):
            parts.append((section, value))
    for section, fields in parts:
        table = _BY_NAME[section]
        for name, value in fields.items():
            row = table.get(name)
            if row is None:
                if not is_zero(value):
                    raise BadParameter(f"stepbox does not support {section}.{name}: a field it does not know")
            elif row.refuses(value):
                later = f" (tracker issue {row.owner} is to add it)" if row.owner else ""
                raise BadParameter(f"stepbox does not support {section}.{name} ({row.what}){later}")


def markdown() -> str:
    """The table as docs/engine-api-fields.md shows it."""
    lines = [
        "# `POST /containers/create`: the fields stepbox honours",
        "",
        "Generated from `core/engine/create_fields.py` (`python -m stepbox.core.engine.create_fields`);",
        "a test checks that this file and the table agree.",
        "",
        "A **refused** field carrying anything but its zero value (the docker CLI sends most fields",
        'empty on every run) is answered with `400 {"message": "stepbox does not support HostConfig.X ..."}`;',
        "`stepbox run` and `docker run` exit 125 with that message (`create` exits 1, as docker's CLI",
        "does). Nothing is accepted and silently ignored.",
        "",
    ]
    for section, rows in SECTIONS.items():
        lines += [f"## {section}", "", "| field | status | what |", "|---|---|---|"]
        for row in rows:
            status = row.status if not row.owner else f"{row.status} (until tracker issue {row.owner})"
            lines.append(f"| `{row.name}` | {status} | {row.what} |")
        lines.append("")
    honoured_count = sum(row.status == HONOURED for rows in SECTIONS.values() for row in rows)
    total = sum(len(rows) for rows in SECTIONS.values())
    lines.append(f"{honoured_count} of {total} fields honoured.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates the doc
    print(markdown(), end="")
