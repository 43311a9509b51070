"""Container verbs: run, create, start, stop, kill, rm, ps, logs, inspect, diff, wait."""

from __future__ import annotations

import json
import os
import signal as signals
import sys
import threading
import time

import click

from stepbox.core.container.config import ContainerConfig, parse_cpus, parse_env, parse_size
from stepbox.core.container.errors import ContainerError, NoSuchContainer
from stepbox.core.image.reference import InvalidReference
from stepbox.core.image.store import ImageNotFound
from stepbox.core.container.record import RUNNING

from .format import go_template, ps_table
from .main import cli

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
    click.option("--rm", "auto_remove", is_flag=True, help="Automatically remove the container when it exits"),
    click.argument("image"),
    click.argument("command", nargs=-1),
]


def with_run_options(f):
    for option in reversed(RUN_OPTIONS):
        f = option(f)
    return f


def build_config(image, command, *, hostname, env, workdir, user, memory, pids_limit, cpus, network,
                 entrypoint, auto_remove, **_ignored) -> ContainerConfig:
    if pids_limit is not None:
        try:
            pids_limit = int(pids_limit)
        except ValueError:
            raise click.BadParameter(f'invalid argument "{pids_limit}" for "--pids-limit" flag: '
                                     f'strconv.ParseInt: parsing "{pids_limit}": invalid syntax')
    return ContainerConfig(
        image=image, cmd=tuple(command),
        entrypoint=tuple([entrypoint]) if entrypoint else (() if entrypoint == "" else None),
        env=parse_env(list(env)), workdir=workdir, user=user, hostname=hostname,
        memory=parse_size(memory) if memory else None, pids_limit=pids_limit,
        cpus=parse_cpus(cpus) if cpus else None, network=network, auto_remove=auto_remove)


NO_INTERSPERSED = {"allow_interspersed_args": False, "help_option_names": ["--help"]}


@cli.command(context_settings=NO_INTERSPERSED)
@click.option("-d", "--detach", is_flag=True, help="Run container in background and print container ID")
@with_run_options
@click.pass_obj
def run(session, detach, name, image, command, **flags):
    """Create and run a new container from an image."""
    runtime = session.runtime
    config = build_config(image, command, **flags)
    record = runtime.create(config, name)
    if detach:
        runtime.start(record)
        click.echo(record.id)
        if session.backend == "sim":
            # Simulated processes live in this program only: finish the run in
            # virtual time before exiting (see backends/sim/SIMPLIFICATIONS.md).
            runtime.wait(record)
            if config.auto_remove:
                runtime.remove(record, force=True)
        return
    try:
        with LogFollower(record.log_dir):
            runtime.start(record)
            code = runtime.wait(record)
    finally:
        if config.auto_remove:
            runtime.remove(record, force=True)
    sys.exit(code)


@cli.command(context_settings=NO_INTERSPERSED)
@with_run_options
@click.pass_obj
def create(session, name, image, command, **flags):
    """Create a new container."""
    record = session.runtime.create(build_config(image, command, **flags), name)
    click.echo(record.id)


@cli.command()
@click.option("-a", "--attach", is_flag=True, help="Attach STDOUT/STDERR and wait")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def start(session, attach, containers):
    """Start one or more stopped containers."""
    runtime = session.runtime
    for name in containers:
        record = runtime.get(name)
        if attach:
            with LogFollower(record.log_dir, from_end=True):
                runtime.start(record)
                sys.exit(runtime.wait(record))
        runtime.start(record)
        if session.backend == "sim":
            runtime.wait(record)
        click.echo(name)


@cli.command()
@click.option("-t", "--time", "timeout", default=10, type=int, help="Seconds to wait before killing it")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def stop(session, timeout, containers):
    """Stop one or more running containers."""
    for name in containers:
        session.runtime.stop(session.runtime.get(name), timeout=timeout)
        click.echo(name)


@cli.command()
@click.option("-s", "--signal", "sig", default="KILL", help="Signal to send to the container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def kill(session, sig, containers):
    """Kill one or more running containers."""
    number = parse_signal(sig)
    for name in containers:
        session.runtime.kill(session.runtime.get(name), number)
        click.echo(name)


def parse_signal(text: str) -> int:
    if text.isdigit():
        return int(text)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(getattr(signals.Signals, name))
    except AttributeError:
        raise click.BadParameter(f"Invalid signal: {text}") from None


@cli.command()
@click.option("-f", "--force", is_flag=True, help="Force the removal of a running container")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def rm(session, force, containers):
    """Remove one or more containers."""
    failed = False
    for name in containers:
        try:
            session.runtime.remove(session.runtime.get(name), force=force)
            click.echo(name)
        except ContainerError as e:
            click.echo(f"Error response from daemon: {e}", err=True)
            failed = True
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("-a", "--all", "all_", is_flag=True, help="Show all containers (default shows just running)")
@click.option("-q", "--quiet", is_flag=True, help="Only display container IDs")
@click.pass_obj
def ps(session, all_, quiet):
    """List containers."""
    records = session.runtime.list(all_)
    if quiet:
        for r in records:
            click.echo(r.short_id)
    else:
        click.echo(ps_table(records))


@cli.command()
@click.option("-f", "--follow", is_flag=True, help="Follow log output")
@click.argument("container")
@click.pass_obj
def logs(session, follow, container):
    """Fetch the logs of a container."""
    runtime = session.runtime
    record = runtime.get(container)
    if follow:
        with LogFollower(record.log_dir):
            while runtime.refresh(record).state == RUNNING:
                time.sleep(0.1)
        return
    out, err = runtime.logs(record)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.stderr.buffer.write(err)


@cli.command()
@click.option("-f", "--format", "template", default=None, help="Format output using a Go template")
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def inspect(session, template, containers):
    """Return low-level information on containers."""
    from .images import image_document
    documents = []
    for name in containers:                 # like docker: a container, else an image of that name
        try:
            documents.append(session.runtime.inspect(session.runtime.get(name)))
        except NoSuchContainer:
            try:
                documents.append(image_document(session.runtime.images, session.runtime.images.resolve(name)))
            except (ImageNotFound, InvalidReference):
                raise NoSuchContainer(name) from None
    if template:
        for doc in documents:
            click.echo(go_template(template, doc))
    else:
        click.echo(json.dumps(documents, indent=4))


@cli.command()
@click.argument("container")
@click.pass_obj
def diff(session, container):
    """Inspect changes to files or directories on a container's filesystem."""
    for kind, path in session.runtime.diff(session.runtime.get(container)):
        click.echo(f"{kind} {path}")


@cli.command()
@click.argument("containers", nargs=-1, required=True)
@click.pass_obj
def wait(session, containers):
    """Block until one or more containers stop, then print their exit codes."""
    for name in containers:
        click.echo(session.runtime.wait(session.runtime.get(name)))


class LogFollower:
    """Copies a container's log files to our stdout/stderr while it runs --
    the attached part of ``docker run``."""

    def __init__(self, log_dir: str, from_end: bool = False):
        self.paths = [(os.path.join(log_dir, "stdout.log"), sys.stdout),
                      (os.path.join(log_dir, "stderr.log"), sys.stderr)]
        self.offsets = [self._size(p) if from_end else 0 for p, _ in self.paths]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _size(path: str) -> int:
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def _pump(self) -> None:
        for i, (path, stream) in enumerate(self.paths):
            try:
                with open(path, "rb") as f:
                    f.seek(self.offsets[i])
                    data = f.read()
            except FileNotFoundError:
                continue
            if data:
                self.offsets[i] += len(data)
                stream.buffer.write(data)
                stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            self._pump()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._pump()
        return False
