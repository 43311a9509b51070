"""``POST /containers/create``: Docker's request body -> a ContainerConfig.

The body is Docker's ``ContainerConfig`` with ``HostConfig`` and
``NetworkingConfig`` inside.  Clients send dozens of fields, mostly empty:
:mod:`.create_fields` says for each one whether stepbox honours it, and a
field it does not honour is refused by name when it carries a value (never
ignored).  A field it *does* use must have the right type and a sensible
value, or the answer is 400 with a message that says which field is wrong.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from stepbox.core.confinement.devices import InvalidDevice, device_mapping_from_api
from stepbox.core.confinement.policy import ConfinementFlags
from stepbox.core.container.config import ContainerConfig, check_name
from stepbox.core.container.flags import InvalidConfig, check_ulimit, check_ulimit_name, parse_env
from stepbox.core.container.restart_policy import RestartPolicy

from .create_fields import canonical_body, check_fields
from .engine import ContainerNotes, signal_number
from .errors import BadParameter

MAX_ARGS = 4096  # an absurd command line is refused, not carried around


def _typed(body: dict, key: str, kind, what: str):
    value = body.get(key)
    if value is None:
        return None
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise BadParameter(f"invalid value for {key}: expected {what}, got {type(value).__name__}")
    return value


def _string_list(body: dict, key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):  # Docker accepts a string for Cmd/Entrypoint
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadParameter(f"invalid value for {key}: expected a list of strings")
    if len(value) > MAX_ARGS:
        raise BadParameter(f"invalid value for {key}: more than {MAX_ARGS} items")
    return value


def _strings(section: dict, key: str, where: str = "HostConfig") -> tuple[str, ...]:
    value = section.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadParameter(f"invalid value for {where}.{key}: expected a list of strings")
    if len(value) > MAX_ARGS:
        raise BadParameter(f"invalid value for {where}.{key}: more than {MAX_ARGS} items")
    return tuple(value)


def confinement_flags(host: dict) -> ConfinementFlags:
    """The HostConfig fields that say what the container may do."""
    devices = host.get("Devices") or []
    if not isinstance(devices, list):
        raise BadParameter("invalid value for HostConfig.Devices: expected a list")
    try:
        mappings = tuple(device_mapping_from_api(entry) for entry in devices)
    except InvalidDevice as e:
        raise BadParameter(str(e)) from None
    masked = host.get("MaskedPaths")
    readonly = host.get("ReadonlyPaths")
    return ConfinementFlags(
        cap_add=_strings(host, "CapAdd"),
        cap_drop=_strings(host, "CapDrop"),
        privileged=bool(_typed(host, "Privileged", bool, "a boolean")),
        security_opt=_strings(host, "SecurityOpt"),
        devices=mappings,
        device_cgroup_rules=_strings(host, "DeviceCgroupRules"),
        masked_paths=None if masked is None else _strings(host, "MaskedPaths"),
        readonly_paths=None if readonly is None else _strings(host, "ReadonlyPaths"),
    )


def _int(section: dict, key: str, low: int, high: int) -> int | None:
    value = _typed(section, key, int, "an integer")
    if value is not None and not low <= value <= high:
        raise BadParameter(f"invalid value for {key}: {value} is out of range [{low}, {high}]")
    return value


def _string_map(section: dict, key: str) -> dict[str, str]:
    value = section.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadParameter(f"invalid value for {key}: expected an object of strings")
    return dict(value)


def _volume_paths(body: dict) -> list[str]:
    """``Config.Volumes``: ``{"/data": {}}`` -- anonymous volumes (``-v /data``)."""
    value = body.get("Volumes")
    if value is None:
        return []
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and (v is None or isinstance(v, dict)) for k, v in value.items()
    ):
        raise BadParameter('invalid value for Volumes: expected an object like {"/data": {}}')
    return list(value)


# What of a Mount object stepbox knows; the rest is refused by name.
_MOUNT_KEYS = {
    "Type",
    "Source",
    "Target",
    "ReadOnly",
    "Consistency",
    "BindOptions",
    "VolumeOptions",
    "TmpfsOptions",
}
# Each known field of the Mount's option objects, with the JSON type Go would
# decode it into (a wrong type is a 400 there, before anything looks at it).
_STRING_MAP = "an object of strings"
_BIND_KEYS = {
    "Propagation": str,
    "NonRecursive": bool,
    "CreateMountpoint": bool,
    "ReadOnlyNonRecursive": bool,
    "ReadOnlyForceRecursive": bool,
}
_VOLUME_KEYS = {"NoCopy": bool, "Labels": _STRING_MAP, "DriverConfig": dict}
_DRIVER_KEYS = {"Name": str, "Options": _STRING_MAP}
_TMPFS_KEYS = {"SizeBytes": int, "Mode": int}


def _mounts(host: dict, api_version: str) -> list[dict]:
    """``HostConfig.Mounts`` (``--mount``): a list of Mount objects, their
    shapes checked here and their meaning when the container is created."""
    value = host.get("Mounts")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise BadParameter("invalid value for Mounts: expected a list of Mount objects")
    mounts = []
    for mount in value:
        _known(mount, _MOUNT_KEYS, "Mounts")
        for key in ("Type", "Source", "Target", "Consistency"):
            if mount.get(key) is not None and not isinstance(mount[key], str):
                raise BadParameter(f"invalid value for Mounts.{key}: expected a string")
        if mount.get("ReadOnly") is not None and not isinstance(mount["ReadOnly"], bool):
            raise BadParameter("invalid value for Mounts.ReadOnly: expected a boolean")
        mount = {k: v for k, v in mount.items() if v not in (None, "", False)}  # Go's omitempty
        bind = mount.get("BindOptions")
        if bind is not None:
            _known(bind, _BIND_KEYS, "Mounts.BindOptions")
            _types(bind, _BIND_KEYS, "Mounts.BindOptions")
            if _older(api_version, "1.44"):
                # Added in API 1.44 (Docker 25): an older client cannot mean them.
                bind.pop("ReadOnlyNonRecursive", None)
                if bind.get("ReadOnlyForceRecursive"):
                    raise BadParameter("BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer")
        volume = mount.get("VolumeOptions")
        if volume is not None:
            _known(volume, _VOLUME_KEYS, "Mounts.VolumeOptions")
            _types(volume, _VOLUME_KEYS, "Mounts.VolumeOptions")
            driver = volume.get("DriverConfig")
            if driver is not None:
                _known(driver, _DRIVER_KEYS, "Mounts.VolumeOptions.DriverConfig")
                _types(driver, _DRIVER_KEYS, "Mounts.VolumeOptions.DriverConfig")
        tmpfs = mount.get("TmpfsOptions")
        if tmpfs is not None:
            _known(tmpfs, _TMPFS_KEYS, "Mounts.TmpfsOptions")
            _types(tmpfs, _TMPFS_KEYS, "Mounts.TmpfsOptions")
        mounts.append(mount)
    return mounts


def _types(section: dict, types: dict[str, Any], where: str) -> None:
    """Each field present (not null) has the type Go decodes it into."""
    names = {bool: "a boolean", int: "an integer", str: "a string", dict: "an object"}
    for key, kind in types.items():
        value = section.get(key)
        if value is None:
            continue
        if kind == _STRING_MAP:
            ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise BadParameter(f"invalid value for {where}.{key}: expected {names.get(kind, kind)}")


def _known(section, keys: Iterable[str], where: str) -> None:
    if not isinstance(section, dict):
        raise BadParameter(f"invalid value for {where}: expected an object")
    unknown = sorted(k for k, v in section.items() if k not in keys and v not in (None, "", False, {}, []))
    if unknown:
        raise BadParameter(f"{where}.{unknown[0]} is not supported by stepbox")


def _older(version: str, than: str) -> bool:
    try:
        return tuple(int(p) for p in version.split(".")) < tuple(int(p) for p in than.split("."))
    except ValueError:
        return False


def config_from_body(
    body, auto_name: str | None = None, api_version: str = "1.44"
) -> tuple[ContainerConfig, ContainerNotes]:
    if not isinstance(body, dict):
        raise BadParameter("the request body must be a JSON object (Docker's container config)")
    body = canonical_body(body)
    image = _typed(body, "Image", str, "a string")
    if not image:
        raise BadParameter("config: Image is required")
    cmd = _string_list(body, "Cmd") or []
    entrypoint = _string_list(body, "Entrypoint")
    if entrypoint == [""]:
        entrypoint = []  # --entrypoint "": no entrypoint at all
    env_list = _string_list(body, "Env") or []
    host = body.get("HostConfig") or {}
    if not isinstance(host, dict):
        raise BadParameter("invalid value for HostConfig: expected an object")
    networking = body.get("NetworkingConfig")
    if networking is not None and not isinstance(networking, dict):
        raise BadParameter("invalid value for NetworkingConfig: expected an object")
    check_fields(body)
    memory = _int(host, "Memory", 0, 1 << 50)
    pids = _int(host, "PidsLimit", -1, 1 << 22)
    nano_cpus = _int(host, "NanoCpus", -(1 << 62), 1 << 62)
    check_cpus(nano_cpus / 1e9 if nano_cpus else None)
    network = _typed(host, "NetworkMode", str, "a string") or "default"
    net = _networking(body, host, network)
    labels = _typed(body, "Labels", dict, "an object") or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise BadParameter("invalid value for Labels: keys and values must be strings")
    stop_signal = _typed(body, "StopSignal", str, "a string") or ""
    if stop_signal:
        signal_number(stop_signal)
    stop_timeout = _int(body, "StopTimeout", -1, 1 << 31)
    console_size = _console_size(host)
    restart = restart_policy_from_api(host.get("RestartPolicy"))
    try:
        config = ContainerConfig(
            image=image,
            cmd=tuple(cmd),
            entrypoint=tuple(entrypoint) if entrypoint is not None else None,
            env=parse_env(env_list),
            workdir=_typed(body, "WorkingDir", str, "a string") or "",
            hostname=_typed(body, "Hostname", str, "a string") or "",
            user=_typed(body, "User", str, "a string") or "",
            memory=memory or None,
            # API: 0 and -1 both mean "no limit"; the core wants None for that
            pids_limit=pids if pids and pids > 0 else None,
            cpus=nano_cpus / 1e9 if nano_cpus else None,
            network=network,
            auto_remove=bool(_typed(host, "AutoRemove", bool, "a boolean")),
            **net,
            binds=tuple(_string_list(host, "Binds") or ()),
            mounts=tuple(_mounts(host, api_version)),
            tmpfs=_string_map(host, "Tmpfs"),
            volumes=tuple(_volume_paths(body)),
            volumes_from=tuple(_string_list(host, "VolumesFrom") or ()),
            volume_driver=_typed(host, "VolumeDriver", str, "a string") or "",
            readonly_rootfs=bool(_typed(host, "ReadonlyRootfs", bool, "a boolean")),
            recursive_readonly=not _older(api_version, "1.44"),
            group_add=_strings(host, "GroupAdd"),
            security=confinement_flags(host),
            open_stdin=bool(_typed(body, "OpenStdin", bool, "a boolean")),
            tty=bool(_typed(body, "Tty", bool, "a boolean")),
            stdin_once=bool(_typed(body, "StdinOnce", bool, "a boolean")),
            console_size=console_size,
            restart_policy=restart.name,
            restart_max_retries=restart.maximum_retry_count,
            init=bool(_typed(host, "Init", bool, "a boolean")),
            ulimits=ulimits_from_api(host.get("Ulimits")),
        )
        config.check_network_mode()
    except InvalidConfig as e:
        raise BadParameter(str(e)) from None
    if config.hostname and (
        len(config.hostname) > 63 or not all(c.isalnum() or c in "-." for c in config.hostname)
    ):
        raise BadParameter(f"invalid hostname format: {config.hostname}")
    notes = ContainerNotes(
        tty=bool(body.get("Tty")),
        open_stdin=bool(body.get("OpenStdin")),
        labels=dict(labels),
        stop_signal=stop_signal,
        stop_timeout=stop_timeout,
    )
    return config, notes


def _networking(body: dict, host: dict, network: str) -> dict:
    """The create body's network fields -> ContainerConfig's (checked here,
    so a bad value is a 400 that names the field)."""
    from stepbox.core.network.etc_files import parse_extra_host
    from stepbox.core.network.ipam import check_mac
    from stepbox.core.network.ports import bindings_from_api, bindings_to_api, exposed_from_api

    port_bindings = body_port_bindings = host.get("PortBindings")
    bindings = bindings_from_api(body_port_bindings)  # BadPortSpec -> 400
    if bindings:
        _, port_bindings = bindings_to_api(bindings)  # normalised: "" -> "" and ports as strings
    exposed = [f"{port}/{proto}" for port, proto in exposed_from_api(body.get("ExposedPorts"))]
    extra_hosts = _strings(host, "ExtraHosts")
    for entry in extra_hosts:
        parse_extra_host(entry)  # BadHostEntry -> 400
    dns = _strings(host, "Dns")
    for server in dns:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise BadParameter(f"invalid value for Dns: {server} is not an IP address") from None
    networking = body.get("NetworkingConfig") or {}
    if not isinstance(networking, dict):
        raise BadParameter("invalid value for NetworkingConfig: expected an object")
    endpoints = networking.get("EndpointsConfig") or {}
    if not isinstance(endpoints, dict) or not all(isinstance(v, dict | None) for v in endpoints.values()):
        raise BadParameter(
            "invalid value for NetworkingConfig.EndpointsConfig: expected an object of objects"
        )
    for name, settings in endpoints.items():
        check_endpoint_settings(name, settings or {})
    mac = _typed(body, "MacAddress", str, "a string") or ""
    if mac:
        check_mac(mac)
    return {
        "port_bindings": port_bindings or {},
        "publish_all": bool(_typed(host, "PublishAllPorts", bool, "a boolean")),
        "exposed_ports": tuple(exposed),
        "endpoints": {name: dict(settings or {}) for name, settings in endpoints.items()},
        "mac_address": mac,
        "dns": dns,
        "dns_search": _strings(host, "DnsSearch"),
        "dns_options": _strings(host, "DnsOptions"),
        "extra_hosts": extra_hosts,
    }


def check_endpoint_settings(name: str, settings: dict) -> None:
    """One network's EndpointSettings in a create or connect request."""
    from stepbox.core.network.ipam import check_mac

    if not isinstance(settings, dict):
        raise BadParameter(f"invalid value for EndpointsConfig[{name}]: expected an object")
    for key in ("Links", "DriverOpts"):
        if settings.get(key):
            raise BadParameter(f"NetworkingConfig.EndpointsConfig[{name}].{key} is not supported by stepbox")
    aliases = settings.get("Aliases")
    if aliases is not None and (
        not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases)
    ):
        raise BadParameter(f"invalid value for EndpointsConfig[{name}].Aliases: expected a list of strings")
    ipam = settings.get("IPAMConfig") or {}
    if not isinstance(ipam, dict):
        raise BadParameter(f"invalid value for EndpointsConfig[{name}].IPAMConfig: expected an object")
    if ipam.get("IPv6Address") or ipam.get("LinkLocalIPs"):
        raise BadParameter(
            f"EndpointsConfig[{name}]: IPv6 and link-local addresses are not supported by stepbox"
        )
    if ipam.get("IPv4Address"):
        try:
            ipaddress.IPv4Address(ipam["IPv4Address"])
        except ValueError:
            raise BadParameter(f"invalid IPv4 address: {ipam['IPv4Address']}") from None
    if settings.get("MacAddress"):
        if not isinstance(settings["MacAddress"], str):
            raise BadParameter(f"invalid value for EndpointsConfig[{name}].MacAddress: expected a string")
        check_mac(settings["MacAddress"])


def check_cpus(cpus: float | None) -> None:
    """dockerd: ``--cpus`` below 0 or above the host's CPU count is refused
    (0 means no limit)."""
    import os

    count = os.cpu_count() or 1
    if cpus and not 0 < cpus <= count:
        raise BadParameter(
            f"Range of CPUs is from 0.01 to {count}.00, as there are only {count} CPUs available"
        )


def restart_policy_from_api(value) -> RestartPolicy:
    """``HostConfig.RestartPolicy``: ``{"Name": "on-failure", "MaximumRetryCount": 2}``."""
    if value is None:
        return RestartPolicy()
    if not isinstance(value, dict):
        raise BadParameter("invalid value for HostConfig.RestartPolicy: expected an object")
    name = value.get("Name") or "no"
    count = value.get("MaximumRetryCount") or 0
    if not isinstance(name, str) or not isinstance(count, int) or isinstance(count, bool):
        raise BadParameter("invalid value for HostConfig.RestartPolicy")
    try:
        return RestartPolicy(name, count)
    except InvalidConfig as e:
        raise BadParameter(str(e)) from None


def ulimits_from_api(value) -> tuple[tuple[str, int, int], ...]:
    """``HostConfig.Ulimits``: ``[{"Name": "nofile", "Soft": 100, "Hard": 200}]``;
    a name given twice keeps the last (setrlimit in order, as runc does)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadParameter("invalid value for HostConfig.Ulimits: expected a list of objects")
    limits: dict[str, tuple[str, int, int]] = {}
    for item in value:
        name, soft, hard = item.get("Name"), item.get("Soft"), item.get("Hard")
        if not isinstance(name, str) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in (soft, hard)
        ):
            raise BadParameter("invalid value for HostConfig.Ulimits: each needs Name, Soft and Hard")
        try:
            check_ulimit_name(name)
            check_ulimit(name, soft, hard)
        except InvalidConfig as e:
            raise BadParameter(str(e)) from None
        limits[name] = (name, soft, hard)
    return tuple(limits.values())


def _console_size(host: dict) -> tuple[int, int] | None:
    """``HostConfig.ConsoleSize``: [rows, columns] of the client's terminal
    (the CLI sends it with -t so the first prompt has the right width)."""
    value = host.get("ConsoleSize")
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 0xFFFF for v in value)
    ):
        raise BadParameter("invalid value for HostConfig.ConsoleSize: expected [rows, columns]")
    return None if value == [0, 0] else (value[0], value[1])


def check_container_name(name: str | None) -> str | None:
    if not name:
        return None
    name = name.removeprefix("/")
    try:
        return check_name(name)
    except InvalidConfig as e:
        raise BadParameter(str(e)) from None
