"""``stepbox step``: walk through ``docker run`` one step at a time.

Each step is shown with its title, what it teaches, the kernel operations it
performed and what changed in the observable state.  Enter goes on, ``q``
stops (and undoes what was done).  It drives the very plan ``stepbox run``
executes -- only the pauses are added.  Unlike the other verbs it runs the
lifecycle in this process (it is the "step" engine), not in the daemon, so
the state directory's daemon does not see the container until it is done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import click

from .main import cli
from .run_options import NO_INTERSPERSED, create_body, with_run_options


def render(result, number: int, total: int):
    """One step as a panel: what it teaches, its kernel operations, what changed."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    body = Table.grid(padding=(0, 1))
    body.add_row(Text(result.step.explain, style="italic"))
    body.add_row(Text(f"seed: {result.step.concept}", style="dim"))
    if result.ops:
        ops = Table(title="kernel operations", title_justify="left", show_header=False, box=None)
        for op in result.ops[:25]:
            ops.add_row(Text(str(op), style="cyan"))
        if len(result.ops) > 25:
            ops.add_row(f"… and {len(result.ops) - 25} more")
        body.add_row(ops)
    if result.changes:
        changes = Table("what changed", "before", "after", box=None, title_justify="left")
        for key, before, after in result.changes:
            changes.add_row(key, _short(before), _short(after))
        body.add_row(changes)
    return Panel(body, title=f"[bold]Step {number}/{total}: {result.step.title}")


def _short(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "\n".join(str(v) for v in value[:12]) + (
            f"\n… {len(value) - 12} more" if len(value) > 12 else ""
        )
    return str(value)


@cli.command(context_settings=NO_INTERSPERSED)
@click.option("--keep", is_flag=True, help="Keep the container at the end (default: remove it)")
@click.option("-y", "--no-pause", is_flag=True, help="Do not wait for Enter between steps")
@with_run_options
@click.pass_obj
def step(conn, keep, no_pause, name, image, command, **flags):
    """Run a container one step at a time (Enter: next step, q: quit and undo)."""
    # The walk drives the lifecycle itself, in this process: no daemon.
    from rich.console import Console
    from stepbox.core.engine.create_body import check_container_name, config_from_body
    from stepbox.core.network.manager import BridgeSettings
    from stepbox.core.session import open_session

    if flags.get("interactive") or flags.get("tty"):
        raise click.UsageError(
            "stepbox step shows the steps and the container's output, it attaches no terminal: "
            "use stepbox run -it for an interactive container"
        )
    # The flags become the request `run` would send, read the way the daemon reads it.
    config, _notes = config_from_body(create_body(image, command, **flags))
    name = check_container_name(name)
    # The network steps wire a real bridge, as the daemon's `run` would
    # (STEPBOX_BRIDGE=none: loopback only, as a daemon with --bridge=none).
    bridge = BridgeSettings(bridge=os.environ.get("STEPBOX_BRIDGE") or BridgeSettings.bridge)
    session = open_session(conn.backend, conn.root_option, conn.say, network=bridge)
    console = Console(highlight=False)
    runtime = session.runtime
    for line in runtime.networks.start():
        conn.say(line)
    try:
        _step(console, session, runtime, config, name, keep, no_pause)
    finally:
        runtime.networks.close()  # this process's proxies and DNS servers


def _step(console, session, runtime, config, name, keep, no_pause) -> None:
    from stepbox.core.container import plan

    record = runtime.new_record(config, name)
    # The plan `run` executes; the container is removed at the end (and
    # after a failed start) unless --keep.
    stepper = runtime.stepper(record, plan.run_plan(config, remove=not keep), watch=True)
    console.print(
        f"[bold]stepbox step[/]: {len(stepper.steps)} steps on the [bold]{session.backend}[/] kernel. "
        "Enter = next step, q = quit."
    )
    try:
        with _terminal_signals_interrupt():
            _walk(console, runtime, record, stepper, no_pause)
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C or a closed terminal mid-way: undo what was done, so no
        # mount, cgroup or process outlives the walk-through.
        _quit(runtime, record, stepper)
        raise
    except Exception:
        # A step failed: the plan's failure policy has run (a failed start
        # leaves the container created, with its exit code, as `run` does).
        if not keep:
            runtime.discard(record)  # as `run --rm` would
        raise


def _quit(runtime, record, stepper) -> None:
    """Undo the unfinished phase, then remove what the finished ones made."""
    stepper.abort()
    runtime.discard(record)


@contextlib.contextmanager
def _terminal_signals_interrupt():
    """SIGTERM and SIGHUP end the walk like Ctrl-C does: through the undo."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    saved = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _walk(console, runtime, record, stepper, no_pause) -> None:
    from rich.panel import Panel
    from rich.text import Text

    number, total = 0, len(stepper.steps)
    while not stepper.done:
        number += 1
        if not no_pause:
            console.print(f"[dim]next: {stepper.next_step.title} — press Enter[/]", end="")
            answer = sys.stdin.readline()
            if answer.strip().lower() == "q":
                _quit(runtime, record, stepper)
                console.print("stopped; everything done so far was undone.")
                return
        try:
            result = stepper.step()
        except Exception:
            # The plan's failure policy has run (a failed start leaves the
            # container created, with its exit code; --keep keeps it).
            if not stepper.ctx.forgotten:
                console.print(
                    f"[bold]the step failed[/]; the container stays {record.state} "
                    f"(exit code {record.exit_code}): {record.error}"
                )
            raise
        console.print(render(result, number, total))
        if result.step.key == "wait":
            out, err = runtime.logs(record)
            console.print(
                Panel(
                    Text((out + err).decode(errors="replace")),
                    title=f"container output (exit status {record.exit_code})",
                )
            )
