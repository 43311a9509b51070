"""The flags of ``run`` / ``create`` / ``step``, and the request they make.

docker's CLI turns ``-m 8m --cpus 0.5 -e A=1 busybox sh`` into the JSON body
of ``POST /containers/create`` (sizes in bytes, CPUs in nano-CPUs); so does
this module.  The daemon reads that body back into a ContainerConfig
(:func:`stepbox.core.engine.create_body.config_from_body`), and so does
``stepbox step``, which runs in-process: one way from flags to a config.
"""

from __future__ import annotations

import click

# The body they make (click-free, for run's lean path too), here as before.
from .run_body import check_platform, confinement_config, create_body, ulimits_to_api  # noqa: F401

RUN_FLAGS = [
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
]
RUN_OPTIONS = [*RUN_FLAGS, click.argument("image"), click.argument("command", nargs=-1)]

# `stepbox run busybox ls -l`: everything after the image belongs to the command.
NO_INTERSPERSED = {"allow_interspersed_args": False, "help_option_names": ["--help"]}


def with_run_options(f):
    for option in reversed(RUN_OPTIONS):
        f = option(f)
    return f
