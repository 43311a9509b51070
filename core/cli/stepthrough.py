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
from typing import Any

import click
from click.core import ParameterSource

from .main import cli
from .run_options import NO_INTERSPERSED, RUN_FLAGS, create_body

# What the walk says around the steps, in each language (the steps' own texts are in
# core/container/in_chinese.py).
# str.format templates, and the "what changed" table's three column headings
WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "intro": "[bold]stepbox step[/]: {total} steps on the [bold]{backend}[/] kernel. Enter = next step, q = quit.",
        "legend": "{legend}; the state directory: {root}",
        "ops": "kernel operations",
        "changed": ("what changed", "before", "after"),
        "more": "… and {n} more",
        "step": "Step {number}/{total}: {title}",
        "next": "next: {title} — Enter: go on, q: quit",
        "undone": "undone: the kernel operations of the undo",
        "stopped": "stopped; everything done so far was undone.",
        "failed": "[bold]the step failed[/]; the container stays {state} (exit code {code}): {error}",
        "output": "container output (exit status {code})",
    },
    "zh": {
        "intro": "[bold]stepbox step[/]：在[bold]{backend}[/]内核上共 {total} 步。回车 = 下一步，q = 退出。",
        "legend": "{legend}；状态目录：{root}",
        "ops": "内核操作",
        "changed": ("变化了什么", "之前", "之后"),
        "more": "…… 还有 {n} 个",
        "step": "第 {number}/{total} 步：{title}",
        "next": "下一步：{title} —— 回车：继续，q：退出",
        "undone": "已撤销：撤销时的内核操作",
        "stopped": "已停止；到目前为止做过的一切都已撤销。",
        "failed": "[bold]这一步失败了[/]；容器保持 {state} 状态（退出码 {code}）：{error}",
        "output": "容器的输出（退出状态 {code}）",
    },
}
LEGEND_ZH = (
    "$ROOT = 引擎存放层和容器的地方（在模拟器上是模拟宿主机的 /var/lib/stepbox）；"
    "$ROOTFS = 容器的根文件系统（合并后的联合挂载，pivot_root 之后的 /）"
)


def render(result, number: int, total: int, state_root: str | None = None, lang: str = "en"):
    """One step as a panel: what it teaches, its kernel operations, what changed."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text
    from stepbox.core.container.in_chinese import text_of

    words = WORDS[lang]
    title, explain = text_of(result.step, lang)
    body = Table.grid(padding=(0, 1))
    # fold, never cut: a line of Chinese has no space for rich to wrap at
    body.add_row(Text(explain, style="italic", overflow="fold"))
    body.add_row(Text(f"seed: {result.step.concept}", style="dim"))
    if result.ops:
        body.add_row(ops_table(words["ops"], result.ops, state_root, lang=lang))
    if result.changes:
        changes = Table(box=None, title_justify="left")
        for heading in words["changed"]:
            changes.add_column(heading, overflow="fold")  # folded, never cut: the end teaches
        for key, before, after in result.changes:
            changes.add_row(key, _short(before, state_root), _short(after, state_root))
        body.add_row(changes)
    return Panel(body, title="[bold]" + words["step"].format(number=number, total=total, title=title))


def ops_table(title: str, ops, state_root: str | None, limit: int = 40, lang: str = "en"):
    from rich.table import Table
    from rich.text import Text
    from stepbox.core.container.readable import readable

    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(overflow="fold")
    for op in ops[:limit]:
        table.add_row(Text(readable(str(op), state_root), style="cyan"))
    if len(ops) > limit:
        table.add_row(WORDS[lang]["more"].format(n=len(ops) - limit))
    return table


def _short(value, state_root: str | None = None, limit: int = 40) -> str:
    from stepbox.core.container.readable import readable

    if value is None:
        return "-"
    if isinstance(value, list):
        shown = "\n".join(readable(str(v), state_root) for v in value[:limit])
        return shown + (f"\n… {len(value) - limit} more" if len(value) > limit else "")
    return readable(str(value), state_root)


def _with_step_options(f):
    """``run``'s flags and arguments, the image optional: ``--bundle`` stands for it."""
    f = click.argument("command", nargs=-1)(f)
    f = click.argument("image", required=False)(f)
    for option in reversed(RUN_FLAGS):
        f = option(f)
    return f


@cli.command(context_settings=NO_INTERSPERSED)
@click.option("--keep", is_flag=True, help="Keep the container at the end (default: remove it)")
@click.option("-y", "--no-pause", is_flag=True, help="Do not wait for Enter between steps")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the explanations (default: zh under a Chinese locale, LANG=zh_*, else en)",
)
@click.option(
    "--bundle",
    default=None,
    metavar="DIR",
    help="Step through what stepbox-runc create + start do for the OCI bundle DIR (its config.json)",
)
@_with_step_options
@click.pass_context
def step(click_ctx, keep, no_pause, lang, bundle, name, image, command, **flags):
    """Run a container one step at a time (Enter: next step, q: quit and undo)."""
    from stepbox.core.language import language

    conn = click_ctx.obj
    if bundle is not None:
        from .step_bundle import step_bundle

        given = [
            "--" + p.name.replace("_", "-")
            for p in click_ctx.command.params
            if p.name not in ("bundle", "no_pause", "lang")
            and click_ctx.get_parameter_source(p.name) != ParameterSource.DEFAULT
        ]
        if given:
            raise click.BadOptionUsage(  # a flag error: exit status 125
                "bundle",
                f"stepbox step --bundle: {', '.join(given)} cannot be used with --bundle: "
                "the bundle's config.json says what the container is",
            )
        step_bundle(conn, bundle, no_pause, language(lang))
        return
    if image is None:
        raise click.UsageError('"stepbox step" requires an IMAGE (or --bundle DIR)')
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
        _step(console, session, runtime, config, name, keep, no_pause, language(lang))
    finally:
        runtime.networks.close()  # this process's proxies and DNS servers


def _step(console, session, runtime, config, name, keep, no_pause, lang: str = "en") -> None:
    from stepbox.core.container import plan

    record = runtime.new_record(config, name)
    # The plan `run` executes; the container is removed at the end (and
    # after a failed start) unless --keep.
    stepper = runtime.stepper(record, plan.run_plan(config, remove=not keep), watch=True)
    from rich.text import Text
    from stepbox.core.container.readable import LEGEND

    words = WORDS[lang]
    console.print(words["intro"].format(total=len(stepper.steps), backend=session.backend))
    legend = LEGEND_ZH if lang == "zh" else LEGEND
    console.print(Text(words["legend"].format(legend=legend, root=session.root), style="dim"))
    try:
        with _terminal_signals_interrupt():
            _walk(
                console,
                stepper,
                no_pause,
                session.root,
                lang,
                quit=lambda: _quit(runtime, record, stepper),
                after_step=lambda result: _show_output(console, runtime, record, result, lang),
                on_failure=lambda: _say_failed(console, record, stepper, lang),
            )
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


def _show_output(console, runtime, record, result, lang: str) -> None:
    """After the wait: what the container printed."""
    from rich.panel import Panel
    from rich.text import Text

    if result.step.key == "wait":
        out, err = runtime.logs(record)
        console.print(
            Panel(
                Text((out + err).decode(errors="replace")),
                title=WORDS[lang]["output"].format(code=record.exit_code),
            )
        )


def _say_failed(console, record, stepper, lang: str) -> None:
    # The plan's failure policy has run (a failed start leaves the
    # container created, with its exit code; --keep keeps it).
    if not stepper.ctx.forgotten:
        console.print(
            WORDS[lang]["failed"].format(state=record.state, code=record.exit_code, error=record.error)
        )


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


def _walk(console, stepper, no_pause, state_root, lang: str, quit, after_step=None, on_failure=None) -> None:
    """Step by step: the next step's title, a key, the step's panel.  ``q``
    calls ``quit`` (undo what was done); ``after_step(result)`` shows more
    after a step; ``on_failure()`` says what a failed step left."""
    from stepbox.core.container.in_chinese import text_of

    words = WORDS[lang]
    number, total = 0, len(stepper.steps)
    while not stepper.done:
        number += 1
        if not no_pause:
            upcoming = text_of(stepper.next_step, lang)[0]
            console.print("[dim]" + words["next"].format(title=upcoming) + "[/]", end="")
            if _read_key() == "q":
                tracer = stepper.ctx.tracer
                mark = tracer.mark()
                quit()
                console.print()
                undone = tracer.since(mark)
                if undone:
                    console.print(ops_table(words["undone"], undone, state_root, lang=lang))
                console.print(words["stopped"])
                return
        # A container may share our stdout (stepbox-runc's inherits it): what
        # the walk said so far goes out before anything the step lets it print.
        console.file.flush()
        try:
            result = stepper.step()
        except Exception:
            if on_failure is not None:
                on_failure()
            raise
        console.print(render(result, number, total, state_root, lang))
        if after_step is not None:
            after_step(result)
