"""``stepbox step``: walk through ``docker run`` one step at a time.

Each step is shown with its title, what it teaches, the kernel operations it
performed and what changed in the observable state, made readable
(``core/container/readable.py``: short IDs, ``$ROOT`` and ``$ROOTFS``).
Enter (or space) goes on; ``q`` stops at once -- no Enter needed on a
terminal -- and undoes what was done, showing the undo's operations.  It drives the very plan ``stepbox run``
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


def render(result, number: int, total: int, state_root: str | None = None):
    """One step as a panel: what it teaches, its kernel operations, what changed."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    body = Table.grid(padding=(0, 1))
    body.add_row(Text(result.step.explain, style="italic"))
    body.add_row(Text(f"seed: {result.step.concept}", style="dim"))
    if result.ops:
        body.add_row(ops_table("kernel operations", result.ops, state_root))
    if result.changes:
        changes = Table(box=None, title_justify="left")
        for heading in ("what changed", "before", "after"):
            changes.add_column(heading, overflow="fold")  # folded, never cut: the end teaches
        for key, before, after in result.changes:
            changes.add_row(key, _short(before, state_root), _short(after, state_root))
        body.add_row(changes)
    return Panel(body, title=f"[bold]Step {number}/{total}: {result.step.title}")


def ops_table(title: str, ops, state_root: str | None, limit: int = 40):
    from rich.table import Table
    from rich.text import Text
    from stepbox.core.container.readable import readable

    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(overflow="fold")
    for op in ops[:limit]:
        table.add_row(Text(readable(str(op), state_root), style="cyan"))
    if len(ops) > limit:
        table.add_row(f"… and {len(ops) - limit} more")
    return table


def _short(value, state_root: str | None = None, limit: int = 40) -> str:
    from stepbox.core.container.readable import readable

    if value is None:
        return "-"
    if isinstance(value, list):
        shown = "\n".join(readable(str(v), state_root) for v in value[:limit])
        return shown + (f"\n… {len(value) - limit} more" if len(value) > limit else "")
    return readable(str(value), state_root)


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
    from rich.text import Text
    from stepbox.core.container.readable import LEGEND

    console.print(
        f"[bold]stepbox step[/]: {len(stepper.steps)} steps on the [bold]{session.backend}[/] kernel. "
        "Enter = next step, q = quit."
    )
    console.print(Text(f"{LEGEND}; the state directory: {session.root}", style="dim"))
    try:
        with _terminal_signals_interrupt():
            _walk(console, runtime, record, stepper, no_pause, session.root)
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


def _read_key() -> str:
    """The next key, lower-cased: on a terminal one keypress (no Enter), read
    in cbreak mode (Ctrl-C still interrupts); otherwise the next line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip().lower()[:1]
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # not TCSAFLUSH: keys typed ahead count
        key = os.read(fd, 1).decode(errors="replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    sys.stdout.write("\n")
    return key.lower()


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


def _walk(console, runtime, record, stepper, no_pause, state_root) -> None:
    from rich.panel import Panel
    from rich.text import Text

    number, total = 0, len(stepper.steps)
    while not stepper.done:
        number += 1
        if not no_pause:
            console.print(f"[dim]next: {stepper.next_step.title} — Enter: go on, q: quit[/]", end="")
            if _read_key() == "q":
                tracer = stepper.ctx.tracer
                mark = tracer.mark()
                _quit(runtime, record, stepper)
                console.print()
                undone = tracer.since(mark)
                if undone:
                    console.print(ops_table("undone: the kernel operations of the undo", undone, state_root))
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
        console.print(render(result, number, total, state_root))
        if result.step.key == "wait":
            out, err = runtime.logs(record)
            console.print(
                Panel(
                    Text((out + err).decode(errors="replace")),
                    title=f"container output (exit status {record.exit_code})",
                )
            )
