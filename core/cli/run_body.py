"""The request a ``run`` / ``create`` command line makes: the body of
``POST /containers/create`` for its flags (:mod:`.run_options` has the flags).

Apart from :mod:`.run_options` because ``run``'s lean path
(:mod:`.lean_run`) builds the same body without importing click: click is
imported here only to raise its usage errors, on a flag value that cannot be
taken -- which the lean path leaves to click's own path to report.
"""

from __future__ import annotations

import json

from stepbox.core.container.flags import InvalidConfig, parse_cpus, parse_size, parse_ulimit
from stepbox.core.container.mount_flags import binds_and_volumes, parse_mount_flag, tmpfs_map

from .kv_files import KVFileError, env_from, labels_from

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

# --restart's default, as RestartPolicy().to_api() says it (that module, with
# dataclasses, is imported only for another policy: run's lean path does without)
NO_RESTART = {"Name": "no", "MaximumRetryCount": 0}


def _usage_error(message: str, hint: str | None = None, usage: bool = False) -> Exception:
    """click's error for a flag value (BadParameter) or a command line (UsageError)."""
    import click

    return click.UsageError(message) if usage else click.BadParameter(message, param_hint=hint)


def check_platform(platform: str | None) -> None:
    """--platform: stepbox runs the host's images only (it has no emulation)."""
    if not platform:
        return
    import platform as host

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(host.machine(), host.machine())
    if platform.lower() not in ("linux", f"linux/{arch}", arch):
        raise _usage_error(
            f"stepbox runs linux/{arch} images only (no emulation of other platforms): {platform}",
            "'--platform'",
        )


def ulimits_to_api(flags) -> list[dict]:
    """``--ulimit nofile=100:200`` each -> HostConfig.Ulimits; a name given
    twice keeps the last value (the docker CLI keeps them in a map)."""
    limits: dict[str, dict] = {}
    for text in flags:
        try:
            name, soft, hard = parse_ulimit(text)
        except InvalidConfig as e:
            raise _usage_error(f'invalid argument "{text}" for "--ulimit" flag: {e}') from None
        limits[name] = {"Name": name, "Soft": soft, "Hard": hard}
    return list(limits.values())


def create_body(
    image,
    command,
    *,
    hostname,
    env,
    workdir,
    user,
    memory,
    pids_limit,
    cpus,
    network,
    entrypoint,
    auto_remove,
    publish=(),
    publish_all=False,
    expose=(),
    ip="",
    mac_address="",
    network_alias=(),
    dns=(),
    dns_search=(),
    dns_option=(),
    add_host=(),
    volume=(),
    mount=(),
    tmpfs=(),
    volumes_from=(),
    read_only=False,
    cap_add=(),
    cap_drop=(),
    privileged=False,
    security_opt=(),
    device=(),
    device_cgroup_rule=(),
    group_add=(),
    interactive=False,
    tty=False,
    restart="no",
    env_file=(),
    label=(),
    label_file=(),
    stop_signal=None,
    stop_timeout=None,
    platform=None,
    init=False,
    ulimit=(),
    attached=False,
    console_size=None,
    **_ignored,
) -> dict:
    """The body of ``POST /containers/create`` for these flags (docker's
    field names); flag values docker would refuse raise InvalidConfig."""
    if pids_limit is not None:
        try:
            pids_limit = int(pids_limit)
        except ValueError:
            raise _usage_error(
                f'invalid argument "{pids_limit}" for "--pids-limit" flag: '
                f'strconv.ParseInt: parsing "{pids_limit}": invalid syntax'
            ) from None
    check_platform(platform)
    try:
        env = env_from(tuple(env_file), tuple(env))
        labels = labels_from(tuple(label_file), tuple(label))
    except KVFileError as e:
        raise _usage_error(str(e)) from None
    restart_policy = restart_policy_of(restart)
    if auto_remove and restart_policy["Name"] != "no":
        raise _usage_error("Conflicting options: --restart and --rm", usage=True)
    host_config = {"NetworkMode": network, "AutoRemove": auto_remove, "RestartPolicy": restart_policy}
    if init:
        host_config["Init"] = True
    if ulimit:
        host_config["Ulimits"] = ulimits_to_api(ulimit)
    if tty and console_size:
        host_config["ConsoleSize"] = list(console_size)
    binds, anonymous = binds_and_volumes(list(volume))
    if binds:
        host_config["Binds"] = binds
    if mount:
        host_config["Mounts"] = [parse_mount_flag(value) for value in mount]
    if tmpfs:
        host_config["Tmpfs"] = tmpfs_map(list(tmpfs))
    if volumes_from:
        host_config["VolumesFrom"] = list(volumes_from)
    if read_only:
        host_config["ReadonlyRootfs"] = True
    if memory:
        host_config["Memory"] = parse_size(memory)
    if pids_limit is not None:
        host_config["PidsLimit"] = pids_limit
    if cpus:
        nano = round(parse_cpus(cpus) * 1e9)
        if nano:  # --cpus 0: no limit
            host_config["NanoCpus"] = nano
    exposed, port_bindings = _ports(publish, expose)
    if port_bindings:
        host_config["PortBindings"] = port_bindings
    if publish_all:
        host_config["PublishAllPorts"] = True
    for key, values in (
        ("Dns", dns),
        ("DnsSearch", dns_search),
        ("DnsOptions", dns_option),
        ("ExtraHosts", add_host),
    ):
        if values:
            host_config[key] = list(values)
    endpoint: dict[str, Any] = {}
    if ip:
        endpoint["IPAMConfig"] = {"IPv4Address": ip}
    if network_alias:
        endpoint["Aliases"] = list(network_alias)
    if mac_address:
        endpoint["MacAddress"] = mac_address
    host_config.update(
        confinement_config(cap_add, cap_drop, privileged, security_opt, device, device_cgroup_rule)
    )
    if group_add:
        host_config["GroupAdd"] = list(group_add)
    body = {
        "Image": image,
        "Cmd": list(command),
        "Env": list(env),
        "WorkingDir": workdir,
        "User": user,
        "Hostname": hostname,
        "HostConfig": host_config,
        # docker run -i: stdin open; attached (no -d), the end of our input
        # ends the container's (StdinOnce); -t: a terminal.
        "OpenStdin": interactive,
        "AttachStdin": interactive and attached,
        "StdinOnce": interactive and attached,
        "Tty": tty,
        "Labels": labels,
    }
    if stop_signal:
        body["StopSignal"] = stop_signal
    if stop_timeout is not None:
        body["StopTimeout"] = stop_timeout
    if entrypoint is not None:
        body["Entrypoint"] = [entrypoint]  # [""]: no entrypoint at all, as docker sends it
    if exposed:
        body["ExposedPorts"] = exposed
    if endpoint:
        # As the docker CLI sends them: settings of the container's own network.
        name = "bridge" if network == "default" else network
        body["NetworkingConfig"] = {"EndpointsConfig": {name: endpoint}}
    if anonymous:
        body["Volumes"] = {path: {} for path in anonymous}
    return body


def _ports(publish, expose) -> tuple[dict, dict]:
    """-p and --expose -> (ExposedPorts, PortBindings); a bad spec is a usage error."""
    if not publish and not expose:
        return {}, {}  # without importing the ports' module (and dataclasses): run's lean path
    from stepbox.core.network.ports import BadPortSpec, bindings_to_api, parse_port_key, parse_publish

    try:
        bindings = [b for spec in publish for b in parse_publish(spec)]
        exposed, port_bindings = bindings_to_api(bindings)
        for spec in expose:
            body, _, proto = spec.partition("/")
            low, _, high = body.partition("-")
            for port in (
                range(int(low), int(high or low) + 1)
                if low.isdecimal() and (high or low).isdecimal()
                else [-1]
            ):
                number, proto_ = parse_port_key(f"{port}/{proto or 'tcp'}" if port > 0 else spec)
                exposed[f"{number}/{proto_}"] = {}
    except BadPortSpec as e:
        raise _usage_error(str(e)) from None
    return exposed, port_bindings


def confinement_config(cap_add, cap_drop, privileged, security_opt, device, device_cgroup_rule) -> dict:
    """The HostConfig fields of the confinement flags, made as the docker
    CLI makes them: it reads a seccomp profile itself and sends its content,
    and turns ``systempaths=unconfined`` into empty MaskedPaths/ReadonlyPaths."""
    host: dict = {}
    if cap_add:
        host["CapAdd"] = list(cap_add)
    if cap_drop:
        host["CapDrop"] = list(cap_drop)
    if privileged:
        host["Privileged"] = True
    options = []
    for opt in security_opt:
        if opt == "systempaths=unconfined":
            host["MaskedPaths"], host["ReadonlyPaths"] = [], []
            continue
        key, sep, value = opt.partition("=")
        if not sep and opt != "no-new-privileges":
            if ":" not in opt:
                raise InvalidConfig(f'Invalid --security-opt: "{opt}"')
            key, _, value = opt.partition(":")
        if key == "seccomp" and value not in ("unconfined", "builtin"):
            opt = "seccomp=" + _read_profile(value)
        options.append(opt)
    if options:
        host["SecurityOpt"] = options
    if device:  # the module (with dataclasses and core.kernel) only then: run's lean path
        from stepbox.core.confinement.devices import InvalidDevice, parse_device

        try:
            host["Devices"] = [parse_device(spec).to_api() for spec in device]
        except InvalidDevice as e:
            raise InvalidConfig(str(e)) from None
    if device_cgroup_rule:
        host["DeviceCgroupRules"] = list(device_cgroup_rule)
    return host


def _read_profile(path: str) -> str:
    """The profile file's JSON, compacted (docker's json.Compact)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InvalidConfig(
            f"opening seccomp profile ({path}) failed: open {path}: {(e.strerror or str(e)).lower()}"
        ) from None
    try:
        return json.dumps(json.loads(data), separators=(",", ":"))
    except ValueError as e:
        raise InvalidConfig(f"compacting json for seccomp profile ({path}) failed: {e}") from None


def restart_policy_of(restart: str | None) -> dict:
    """``--restart`` as the API's RestartPolicy (a bad value: click's usage error)."""
    if not restart or restart == "no":
        return dict(NO_RESTART)
    from stepbox.core.container.restart_policy import RestartPolicy

    try:
        return RestartPolicy.parse(restart).to_api()
    except InvalidConfig as e:
        raise _usage_error(str(e), "'--restart'") from None
