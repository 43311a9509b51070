"""The flags of ``run`` / ``create`` / ``step``, and the request they make.

docker's CLI turns ``-m 8m --cpus 0.5 -e A=1 busybox sh`` into the JSON body
of ``POST /containers/create`` (sizes in bytes, CPUs in nano-CPUs); so does
this module.  The daemon reads that body back into a ContainerConfig
(:func:`stepbox.core.engine.create_body.config_from_body`), and so does
``stepbox step``, which runs in-process: one way from flags to a config.
"""

from __future__ import annotations

import click
from stepbox.core.container.flags import parse_cpus, parse_size

RUN_OPTIONS = [
    click.option("--name", help="Assign a name to the container"),
    click.option("-h", "--hostname", default="", help="Container host name"),
    click.option("-e", "--env", multiple=True, help="Set environment variables (NAME=value)"),
    click.option("-w", "--workdir", default="", help="Working directory inside the container"),
    click.option("-u", "--user", default="", help="Username or UID (format: <name|uid>[:<group|gid>])"),
    click.option("-m", "--memory", default=None, help="Memory limit (e.g. 8m, 1g)"),
    click.option("--pids-limit", default=None, help="Tune container pids limit (-1 for unlimited)"),
    click.option("--cpus", default=None, help="Number of CPUs (e.g. 0.5)"),
    click.option("--network", default="default", help="Connect a container to a network (none, host)"),
    click.option("--entrypoint", default=None, help="Overwrite the default ENTRYPOINT of the image"),
    click.option(
        "--rm", "auto_remove", is_flag=True, help="Automatically remove the container when it exits"
    ),
    click.argument("image"),
    click.argument("command", nargs=-1),
]

# `stepbox run busybox ls -l`: everything after the image belongs to the command.
NO_INTERSPERSED = {"allow_interspersed_args": False, "help_option_names": ["--help"]}


def with_run_options(f):
    for option in reversed(RUN_OPTIONS):
        f = option(f)
    return f


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
    host_config = {"NetworkMode": network, "AutoRemove": auto_remove}
    if memory:
        host_config["Memory"] = parse_size(memory)
    if pids_limit is not None:
        host_config["PidsLimit"] = pids_limit
    if cpus:
        host_config["NanoCpus"] = round(parse_cpus(cpus) * 1e9)
    body = {
        "Image": image,
        "Cmd": list(command),
        "Env": list(env),
        "WorkingDir": workdir,
        "User": user,
        "Hostname": hostname,
        "HostConfig": host_config,
    }
    if entrypoint is not None:
        body["Entrypoint"] = [entrypoint]  # [""]: no entrypoint at all, as docker sends it
    return body
