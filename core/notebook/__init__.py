"""What the notebooks share: an engine to experiment on, and ways to show it.

* :mod:`.lab`       -- ``open_lab(BACKEND)``: an engine on a fresh temporary
  state directory, on the real kernel or the simulator; ``lab.close()``
  removes everything it made.
* :mod:`.walks` / :mod:`.controls` -- step through a lifecycle with
  Step / Run to end / Reset buttons, or ``walk.step()`` from code.
* :mod:`.diagrams`  -- SVG: the layer stack, the process/namespace tree,
  the cgroup tree, the client/daemon picture; :mod:`.views` reads their
  data off the live kernel.
* :mod:`.networks`  -- the network topology as SVG, who reaches whom.
* :mod:`.tables`    -- HTML tables; :mod:`.plots` -- matplotlib figures;
  :mod:`.sampling`  -- cgroup counters over time.
* :mod:`.daemon` / :mod:`.spy` -- a real daemon process, the real CLI, and a
  tap on the socket between them that shows every HTTP request.

Nothing here is a separate "demo" path: every step executed is a step of
``core/container/plan/`` (or of the builder), run by the same Stepper as
``stepbox run``.
"""

from .controls import StepView, Walkthrough
from .diagrams import (
    CgroupBox,
    LayerBox,
    Meter,
    ProcNode,
    architecture_svg,
    cgroup_tree_svg,
    layer_stack_svg,
    process_tree_svg,
)
from .lab import Lab, open_lab, resolve_backend
from .networks import reachability, reachability_rows, topology_svg
from .tables import Html, code_list, html_table, side_by_side, size
from .walks import ContainerWalk, container_walk

__all__ = [
    "CgroupBox",
    "ContainerWalk",
    "Html",
    "Lab",
    "LayerBox",
    "Meter",
    "ProcNode",
    "StepView",
    "Walkthrough",
    "architecture_svg",
    "cgroup_tree_svg",
    "code_list",
    "container_walk",
    "html_table",
    "layer_stack_svg",
    "open_lab",
    "process_tree_svg",
    "reachability",
    "reachability_rows",
    "resolve_backend",
    "side_by_side",
    "size",
    "topology_svg",
]
