"""``stepbox step --bundle DIR``: walk through what ``stepbox-runc create``
and ``start`` do for an OCI bundle, then its ``delete --force``.

The very plans the runtime runs (``core/runtime/plan.py``: create's, up to
the process waiting at the start gate; start's, which opens it; delete's),
read from the bundle by the runtime's own config parser, with the walk of
``stepbox step`` (``stepthrough.py``) -- only the pauses are added.  The
container is removed at the end, and on ``q``, Ctrl-C or a failed step.

The runtime needs the real kernel (as root): the simulator cannot leave a
process waiting at a start gate for a later command (its processes belong
to the engine that made them), so ``--backend sim`` is refused, pointing to
notebook 14, which shows the same create/start split with ``stepbox run``'s
plan on either kernel.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import uuid
from typing import Any

from .errors import CommandFailed
from .stepthrough import LEGEND_ZH, WORDS, _terminal_signals_interrupt, _walk

# What follows the backend's own reason for refusing a bundle walk.
NOT_HERE = (
    "Use --backend linux as root; notebook 14 (notebooks/14-oci-runtime.ipynb) shows the "
    "create/start split on the simulator"
)


def step_bundle(conn, bundle: str, no_pause: bool, lang: str) -> None:
    from rich.console import Console
    from stepbox.core.kernel.backend_lookup import explain_choice, oci_runtime_unavailable
    from stepbox.core.kernel.errors import BackendUnavailable, KernelError
    from stepbox.core.runtime.cli import Runc, RuntimeFailure
    from stepbox.core.runtime.hooks import HookFailed
    from stepbox.core.runtime.log import RuntimeLog
    from stepbox.core.runtime.spec import BadConfig, Unsupported, load_bundle

    try:
        why = oci_runtime_unavailable(explain_choice(conn.backend).module)
    except BackendUnavailable:
        why = None  # the runtime's own kernel says why below
    if why:
        raise CommandFailed(
            "stepbox: Error: stepbox step --bundle runs the OCI runtime's own plan, which needs the "
            f"real kernel (root on Linux): {why}. {NOT_HERE}",
            125,
        )
    try:
        spec = load_bundle(bundle)  # the runtime's own reading of config.json
    except (BadConfig, Unsupported) as e:
        raise CommandFailed(f"stepbox: Error: {e}", 125) from None
    if spec.process.terminal:
        raise CommandFailed(
            "stepbox: Error: process.terminal: stepbox step shows the steps and the container's "
            "output, it attaches no terminal (stepbox-runc create needs --console-socket for one)",
            125,
        )
    # A runtime root of the walk's own, removed at the end: its containers
    # are nobody else's to see.
    root = tempfile.mkdtemp(prefix="stepbox-step-bundle-")
    container_id = "step-" + uuid.uuid4().hex[:12]
    runc = Runc(argparse.Namespace(root=root, debug=True, id=container_id), RuntimeLog(), fork_shims=False)
    console = Console(highlight=False)
    try:
        try:
            ctx = runc.create_context(container_id, spec)
        except RuntimeFailure as e:  # no real kernel here: the backend says why
            raise CommandFailed(f"stepbox: Error: {e}", 125) from None
        _walk_bundle(console, runc, ctx, spec, no_pause, lang)
    except (RuntimeFailure, HookFailed, KernelError, ValueError, OSError) as e:
        # A step failed: its phase was undone; what finished phases made goes too.
        raise CommandFailed(f"stepbox: Error: the step failed: {e}", 125) from None
    finally:
        runc.close()
        shutil.rmtree(root, ignore_errors=True)


def _walk_bundle(console, runc, ctx, spec, no_pause: bool, lang: str) -> None:
    from rich.text import Text
    from stepbox.core.container.readable import LEGEND
    from stepbox.core.container.steps import Stepper
    from stepbox.core.runtime import plan

    stepper = Stepper(ctx, plan.step_through_plan(spec, ctx.record), observe=_observe)
    words = WORDS[lang]
    console.print(words["intro"].format(total=len(stepper.steps), backend="linux"))
    legend = LEGEND_ZH if lang == "zh" else LEGEND
    console.print(Text(words["legend"].format(legend=legend, root=runc.root.root), style="dim"))
    try:
        with _terminal_signals_interrupt():
            _walk(
                console,
                stepper,
                no_pause,
                runc.root.root,
                lang,
                quit=lambda: _remove(runc, stepper),
            )
    except BaseException:
        # Ctrl-C, a closed terminal or a failed step: nothing outlives the walk.
        _remove(runc, stepper)
        raise


def _observe(ctx) -> dict[str, Any]:
    """What ``stepbox-runc state`` would say after each step."""
    from stepbox.core.runtime import plan
    from stepbox.core.runtime.state import state_json

    if not os.path.isdir(ctx.root.dir(ctx.record.id)):
        return {"status": "(no container)"}
    state = state_json(ctx.record, plan.status_of(ctx))
    return {key: state.get(key) for key in ("status", "pid")} | {"cgroup": ctx.record.cgroup or None}


def _remove(runc, stepper) -> None:
    """Undo the unfinished phase, then ``delete --force`` what the finished
    ones made (nothing if create did not finish)."""
    from stepbox.core.container.steps import Plan, Stepper
    from stepbox.core.runtime import plan

    stepper.abort()
    ctx = stepper.ctx
    if not os.path.isdir(ctx.root.dir(ctx.record.id)):
        return
    live = plan.status_of(ctx) != "stopped"
    Stepper(ctx, Plan((plan.delete_phase(force_kill=live),)).for_config(ctx.record)).run()
