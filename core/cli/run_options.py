"""The flags of ``run`` / ``create`` / ``step``, and the request they make.

docker's CLI turns ``-m 8m --cpus 0.5 -e A=1 busybox sh`` into the JSON body
of ``POST /containers/create`` (sizes in bytes, CPUs in nano-CPUs); so does
this module.  The daemon reads that body back into a ContainerConfig
(:func:`stepbox.core.engine.create_body.config_from_body`), and so does
``stepbox step``, which runs in-process: one way from flags to a config.
"""

from __future__ import annotations

import json
from typing import Any

import click
from stepbox.core.container.flags import InvalidConfig, parse_cpus, parse_size, parse_ulimit
from stepbox.core.container.mount_flags import binds_and_volumes, parse_mount_flag, tmpfs_map
from stepbox.core.container.restart_policy import RestartPolicy

from .kv_files import KVFileError, env_from, labels_from

RUN_OPTIONS = [
    click.option("--name", help="Assign a name to the container"),
    click.option("-h", "--hostname", default="", help="Container host name"),
    click.option("-e", "--env", multiple=True, help="Set environment variables (NAME=value)"),
    click.option("-w", "--workdir", default="", help="Working directory inside the container"),
    click.option("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])"),
    click.option("-m", "--memory", default=None, help="Memory limit (e.g. 8m, 1g)"),
    click.option("--pids-limit", default=None, help="Tune container pids limit (-1 for unlimited)"),
    click.option("--cpus", default=None, help="Number of CPUs (e.g. 0.5)"),
    click.option(
        "--network",
        "--net",
        default="default",
        help="Connect a container to a network: bridge (the default), none, host, a network's name, "
        "or container:NAME (join that container's network namespace)",
    ),
    click.option(
        "-p",
        "--publish",
        multiple=True,
        help="Publish a container's port to the host: [ip:][hostPort:]containerPort[/proto]",
    ),
    click.option("-P", "--publish-all", is_flag=True, help="Publish all exposed ports to free host ports"),
    click.option("--expose", multiple=True, help="Expose a port or a range of ports (for -P)"),
    click.option("--ip", default="", help="IPv4 address (on a user-defined network)"),
    click.option("--mac-address", default="", help="Container MAC address (e.g. 92:d0:c6:0a:29:33)"),
    click.option("--network-alias", multiple=True, help="Add a network-scoped alias for the container"),
    click.option("--dns", multiple=True, help="Set custom DNS servers"),
    click.option("--dns-search", multiple=True, help="Set custom DNS search domains"),
    click.option("--dns-option", multiple=True, help="Set DNS options"),
    click.option("--add-host", multiple=True, help="Add a custom host-to-IP mapping (host:ip)"),
    click.option("--entrypoint", default=None, help="Overwrite the default ENTRYPOINT of the image"),
    click.option(
        "--rm", "auto_remove", is_flag=True, help="Automatically remove the container when it exits"
    ),
    click.option(
        "-v", "--volume", "volume", multiple=True, help="Bind mount a volume (SRC:DST[:OPTS] or DST)"
    ),
    click.option("--mount", "mount", multiple=True, help="Attach a filesystem mount to the container"),
    click.option("--tmpfs", "tmpfs", multiple=True, help="Mount a tmpfs directory (DST[:OPTS])"),
    click.option(
        "--volumes-from", "volumes_from", multiple=True, help="Mount volumes from the specified container(s)"
    ),
    click.option(
        "--read-only", "read_only", is_flag=True, help="Mount the container's root filesystem as read only"
    ),
    click.option("--cap-add", multiple=True, help="Add Linux capabilities (NET_ADMIN, CAP_SYS_TIME, ALL)"),
    click.option("--cap-drop", multiple=True, help="Drop Linux capabilities (CHOWN, ALL)"),
    click.option(
        "--privileged",
        is_flag=True,
        help="Give extended privileges to this container: all capabilities and devices, no seccomp",
    ),
    click.option(
        "--security-opt",
        multiple=True,
        help="Security options: seccomp=PROFILE.json|unconfined, no-new-privileges[=true|false], "
        "systempaths=unconfined",
    ),
    click.option(
        "--device", multiple=True, help="Add a host device to the container (HOST[:CONTAINER][:rwm])"
    ),
    click.option("--device-cgroup-rule", multiple=True, help="Add a rule to the cgroup allowed devices list"),
    click.option("--group-add", multiple=True, help="Add additional groups to join"),
    click.option("--restart", "restart", default="no", help="Restart policy to apply when a container exits"),
    click.option("--env-file", multiple=True, help="Read in a file of environment variables"),
    click.option("-l", "--label", multiple=True, help="Set meta data on a container"),
    click.option("--label-file", multiple=True, help="Read in a line delimited file of labels"),
    click.option("--stop-signal", default=None, help="Signal to stop the container"),
    click.option("--stop-timeout", default=None, type=int, help="Timeout (in seconds) to stop a container"),
    click.option("--platform", default=None, help="Set platform if server is multi-platform capable"),
    click.option(
        "--pull",
        default="missing",
        type=click.Choice(["always", "missing", "never"]),
        help='Pull image before running ("always", "missing", "never")',
    ),
    click.option("--cidfile", default=None, help="Write the container ID to the file"),
    click.option(
        "--init",
        is_flag=True,
        help="Run an init inside the container that forwards signals and reaps processes",
    ),
    click.option("--ulimit", multiple=True, help="Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048)"),
    click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached"),
    click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY"),
    click.argument("image"),
    click.argument("command", nargs=-1),
]

# `stepbox run busybox ls -l`: everything after the image belongs to the command.
NO_INTERSPERSED = {"allow_interspersed_args": False, "help_option_names": ["--help"]}


def with_run_options(f):
    for option in reversed(RUN_OPTIONS):
        f = option(f)
    return f


def check_platform(platform: str | None) -> None:
    """--platform: stepbox runs the host's images only (it has no emulation)."""
    if not platform:
        return
    import platform as host

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(host.machine(), host.machine())
    if platform.lower() not in ("linux", f"linux/{arch}", arch):
        raise click.BadParameter(
            f"stepbox runs linux/{arch} images only (no emulation of other platforms): {platform}",
            param_hint="'--platform'",
        )


def ulimits_to_api(flags) -> list[dict]:
    """``--ulimit nofile=100:200`` each -> HostConfig.Ulimits; a name given
    twice keeps the last value (the docker CLI keeps them in a map)."""
    limits: dict[str, dict] = {}
    for text in flags:
        try:
            name, soft, hard = parse_ulimit(text)
        except InvalidConfig as e:
            raise click.BadParameter(f'invalid argument "{text}" for "--ulimit" flag: {e}') from None
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
            raise click.BadParameter(
                f'invalid argument "{pids_limit}" for "--pids-limit" flag: '
                f'strconv.ParseInt: parsing "{pids_limit}": invalid syntax'
            ) from None
    check_platform(platform)
    try:
        env = env_from(tuple(env_file), tuple(env))
        labels = labels_from(tuple(label_file), tuple(label))
    except KVFileError as e:
        raise click.BadParameter(str(e)) from None
    try:
        policy = RestartPolicy.parse(restart or "no")
    except InvalidConfig as e:
        raise click.BadParameter(str(e), param_hint="'--restart'") from None
    if auto_remove and not policy.is_none:
        raise click.UsageError("Conflicting options: --restart and --rm")
    host_config = {"NetworkMode": network, "AutoRemove": auto_remove, "RestartPolicy": policy.to_api()}
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
    from stepbox.core.network.ports import BadPortSpec, bindings_to_api, parse_port_key, parse_publish

    try:
        bindings = [b for spec in publish for b in parse_publish(spec)]
        exposed, port_bindings = bindings_to_api(bindings)
        for spec in expose:
            body, _, proto = spec.partition("/")
            low, _, high = body.partition("-")
            for port in (
                range(int(low), int(high or low) + 1) if low.isdigit() and (high or low).isdigit() else [-1]
            ):
                number, proto_ = parse_port_key(f"{port}/{proto or 'tcp'}" if port > 0 else spec)
                exposed[f"{number}/{proto_}"] = {}
    except BadPortSpec as e:
        raise click.BadParameter(str(e)) from None
    return exposed, port_bindings


def confinement_config(cap_add, cap_drop, privileged, security_opt, device, device_cgroup_rule) -> dict:
    """The HostConfig fields of the confinement flags, made as the docker
    CLI makes them: it reads a seccomp profile itself and sends its content,
    and turns ``systempaths=unconfined`` into empty MaskedPaths/ReadonlyPaths."""
    from stepbox.core.confinement.devices import InvalidDevice, parse_device

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
    try:
        devices = [parse_device(spec).to_api() for spec in device]
    except InvalidDevice as e:
        raise InvalidConfig(str(e)) from None
    if devices:
        host["Devices"] = devices
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
