"""Walkthroughs of a container's lifecycle, with the pictures each step deserves.

``container_walk(lab, config)`` steps through ``docker run`` (or any list of
steps from ``core/container/plan/``) on a new container; Reset removes
that container and starts over with another.  After the steps that change
them it draws the layer stack, the process/namespace tree or the cgroup
tree -- only then, so a walk through fourteen steps stays readable.
"""

from __future__ import annotations

from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.steps import Plan, Step, Stepper
from stepbox.core.kernel import KernelError

from .controls import Walkthrough
from .diagrams import cgroup_tree_svg, layer_stack_svg, process_tree_svg
from .networks import network_picture
from .tables import code_list, html_table
from .views import cgroup_boxes, container_layer_boxes, namespace_rows, process_nodes

# Which steps change what each picture shows.
LAYER_STEPS = {"resolve_image", "init_layer", "rw_layer", "mount_rootfs", "wait", "remove"}
PROCESS_STEPS = {"spawn", "pivot_root", "exec"}
CGROUP_STEPS = {"cgroup", "spawn"}


def layers_picture(lab, when=frozenset(LAYER_STEPS)):
    def draw(ctx, result) -> str:
        if result.step.key not in when:
            return ""
        return layer_stack_svg(container_layer_boxes(lab, ctx.record), "the layer stack now")

    return draw


# A real process does not wait to be looked at: a short command may be gone
# by the time the picture is drawn.
GONE = (ProcessLookupError, FileNotFoundError, KernelError)


def processes_picture(lab, when=frozenset(PROCESS_STEPS)):
    def draw(ctx, result) -> str:
        record = ctx.record
        if result.step.key not in when or not record.pid:
            return ""
        try:
            return process_tree_svg(
                process_nodes(lab, [record]), "processes: host PIDs, and PIDs inside"
            ) + html_table(
                namespace_rows(lab, record), ("namespace", "host (outside)", "container (inside)", "")
            )
        except GONE:
            return code_list([f"PID {record.pid} has already exited: nothing left to draw"])

    return draw


def cgroups_picture(lab, when=frozenset(CGROUP_STEPS)):
    def draw(ctx, result) -> str:
        if result.step.key not in when or not ctx.record.cgroup:
            return ""
        return cgroup_tree_svg(cgroup_boxes(lab, [ctx.record]), "the cgroup tree now")

    return draw


def output_picture(lab):
    """After ``wait``: what the container printed, and how it ended."""

    def draw(ctx, result) -> str:
        if result.step.key != "wait":
            return ""
        record = ctx.record
        lines = lab.output(record).splitlines() or ["(no output)"]
        how = f"exit status {record.exit_code}" + (" — killed by the OOM killer" if record.oom_killed else "")
        return code_list(lines, f"the container's output ({how})", limit=30)

    return draw


PICTURES = {
    "layers": layers_picture,
    "processes": processes_picture,
    "cgroups": cgroups_picture,
    "output": output_picture,
    "network": network_picture,
}


def discard_container(lab, stepper: Stepper) -> None:
    """Undo a container walk: the unfinished phase through its undo chain,
    then ``docker rm -f`` whatever the finished phases made."""
    stepper.abort()
    lab.runtime.discard(stepper.ctx.record)


class ContainerWalk(Walkthrough):
    @property
    def record(self):
        """The container being stepped through (a new one after each Reset)."""
        return self.stepper.ctx.record


def container_walk(
    lab,
    config: ContainerConfig,
    steps: Plan | list[Step] | None = None,
    name: str | None = None,
    show: tuple[str, ...] = ("layers", "processes", "cgroups", "output"),
) -> ContainerWalk:
    """Step through ``steps`` -- phases of ``core/container/plan/``, e.g.
    ``plan.CREATE + plan.START`` (default: ``docker run`` without ``--rm``)
    -- on a new container."""
    plan_steps = steps if steps is not None else plan.run_plan(config, remove=False)

    def start() -> Stepper:
        record = lab.new_container(config, name)
        return lab.runtime.stepper(record, plan_steps, watch=True)

    walk = ContainerWalk(
        start,
        lambda stepper: discard_container(lab, stepper),
        [PICTURES[what](lab) for what in show],
        lab.shorten,
    )
    walk.lang = lab.lang
    walk.twin = lambda: container_walk(lab, config, steps, name, show)
    return walk


__all__ = [
    "ContainerWalk",
    "container_walk",
    "discard_container",
    "layers_picture",
    "processes_picture",
    "cgroups_picture",
    "output_picture",
]
