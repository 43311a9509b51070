"""The container lifecycle, step by step: every change a container goes through.

Read top to bottom, this package is the answer to "what does ``docker run``
do?" -- and ``docker stop``, ``kill``, ``pause``, ``rm``.  Each change is a
phase, a list of :class:`~..steps.Step`; a verb is a :class:`~..steps.Plan`
of phases, run by the one :class:`~..steps.Stepper` (in ``stepbox run``, in
the daemon, in ``stepbox step`` and the notebooks alike):

========  ==========================================================  ============
phase     steps                                                       module
========  ==========================================================  ============
create    resolve_image, init_layer, rw_layer, volumes                create.py
start     confinement, volumes_on_host, mount_rootfs, cgroup, spawn,  start.py
          hostname, mounts (and the volumes), pivot_root (and
          --read-only), network (lo only) -- or, on a bridge          network.py
          network, ipam, veth, veth_move, interfaces, route,
          etc_files, publish, dns --, seccomp (unless no_new_privs),
          capabilities, no_new_privs (if asked), exec;
          if one fails: start_failed (and remove, with ``--rm``)
exit      wait: record the exit status, unmount, remove the cgroup,   exit.py
          release the volumes
stop      stop_signal, grace_period (then SIGKILL)                    stop.py
kill      kill                                                        stop.py
pause     freeze  /  unpause: thaw                                    pause.py
update    config, limits (the new ones to a running cgroup)           update.py
remove    remove                                                      remove.py
========  ==========================================================  ============

``docker network connect`` and ``disconnect`` on a running container are
phases too (``CONNECT``: the start's network steps for one more network;
``DISCONNECT``), in network.py.

The functions below compose a verb's plan from the phases, for one
container: from its config (``--rm``) and its state (a paused container is
thawed before it is stopped).  A step that only some containers need says
so itself (``Step(..., when=...)``, decided from the config); the
``Runtime`` drops the others when it makes the Stepper.

The exit phase belongs to whoever watches the process (see
:class:`~..context.ExitWatch`): in one program ``run``, ``stop`` and
``kill -9`` end with it; in the daemon its exit monitor runs it.

To add a step (mount the volumes, wire the network, apply a seccomp
profile, allocate a pty): write a function of the
:class:`~..context.LifecycleContext` in the module of its phase, have it
register its undo the moment it has made something (``ctx.on_undo``), and
put a ``Step`` in the phase's list -- with ``when=`` if it is for some
containers only.  Every verb that runs the phase runs it, and
``stepbox step`` shows it.
"""

from __future__ import annotations

import functools
import signal as signals

from ..config import ContainerConfig
from ..context import LifecycleContext
from ..record import PAUSED, RUNNING, ContainerRecord
from ..steps import Phase, Plan
from .create import CREATE, layer_id
from .exit import EXIT, record_exit
from .network import CONNECT, DISCONNECT, plan_config
from .pause import PAUSE, UNPAUSE
from .remove import REMOVE
from .start import (
    DEFAULT_MOUNTS,
    START,
    has_own_network,
    mount_of,
)
from .stop import KILL, STOP, kill_phase, stop_phase
from .update import update_phase

ContainerPlan = Plan[LifecycleContext]


def _plan(*phases: Phase[LifecycleContext] | None) -> ContainerPlan:
    return Plan(tuple(p for p in phases if p is not None))


def start_phase(remove: bool) -> Phase[LifecycleContext]:
    """start; with ``--rm`` a failed start removes the container (moby's containerStart)."""
    return _START_REMOVING if remove else START


_START_REMOVING = START.failing_with(*REMOVE.steps)  # made once: phases are immutable


def run_plan(config: ContainerConfig, *, detach: bool = False, remove: bool | None = None) -> ContainerPlan:
    """``docker run``: create, start, and -- unless detached -- wait for the
    exit and (``--rm``) remove the container.  ``remove`` overrides the
    config's ``--rm`` (``stepbox step`` removes unless ``--keep``)."""
    return _run_plan(config.auto_remove if remove is None else remove, detach)


# The plans of run and start are made once each: a plan is immutable, and
# the same object each time keeps what Plan.for_config works out of it.
@functools.cache
def _run_plan(remove: bool, detach: bool) -> ContainerPlan:
    if detach:
        return _plan(CREATE, start_phase(remove))
    return _plan(CREATE, start_phase(remove), EXIT, REMOVE if remove else None)


def create_plan() -> ContainerPlan:
    return _CREATE_PLAN


_CREATE_PLAN = _plan(CREATE)


def start_plan(record: ContainerRecord) -> ContainerPlan:
    return _START_PLANS[bool(record.config.auto_remove)]


_START_PLANS = {remove: _plan(start_phase(remove)) for remove in (False, True)}


def connect_plan() -> ContainerPlan:
    """``docker network connect`` on a running container (``ctx.connect_to``)."""
    return _plan(CONNECT)


def disconnect_plan() -> ContainerPlan:
    """``docker network disconnect`` (``ctx.disconnect_from``)."""
    return _plan(DISCONNECT)


def exit_plan() -> ContainerPlan:
    return _EXIT_PLAN


_EXIT_PLAN = _plan(EXIT)


def _thaw_first(record: ContainerRecord) -> Phase[LifecycleContext] | None:
    """A frozen process cannot act on a signal (cgroup v1 holds even SIGKILL until thawed)."""
    return UNPAUSE if record.state == PAUSED else None


def stop_plan(
    record: ContainerRecord, sig: int = signals.SIGTERM, timeout: float = 10.0, *, records_exit: bool
) -> ContainerPlan:
    """``docker stop``: the stop signal, a grace period, SIGKILL; then the
    exit is recorded (here if ``records_exit``, else by the exit monitor)."""
    return _plan(_thaw_first(record), stop_phase(sig, timeout), EXIT if records_exit else None)


def kill_plan(record: ContainerRecord, sig: int = signals.SIGKILL, *, records_exit: bool) -> ContainerPlan:
    """``docker kill``: one signal; ``records_exit`` for SIGKILL in one program."""
    return _plan(_thaw_first(record), kill_phase(sig), EXIT if records_exit else None)


def update_plan(new_config: ContainerConfig) -> ContainerPlan:
    """``docker update``: new limits (and restart policy), running or not."""
    return _plan(update_phase(new_config))


def pause_plan() -> ContainerPlan:
    return _plan(PAUSE)


def unpause_plan() -> ContainerPlan:
    return _plan(UNPAUSE)


def restart_plan(record: ContainerRecord, sig: int = signals.SIGTERM, timeout: float = 10.0) -> ContainerPlan:
    """``docker restart`` in one program: stop (if running) and record the
    exit, then start.  (The daemon stops, lets its exit monitor record the
    exit, then starts.)"""
    running = record.state in (RUNNING, PAUSED)
    stop = stop_plan(record, sig, timeout, records_exit=True) if running else _plan()
    return stop + start_plan(record)


def remove_plan(record: ContainerRecord) -> ContainerPlan:
    """``docker rm`` (``-f``: a running container is killed, and its exit recorded, first)."""
    if record.state in (RUNNING, PAUSED):
        return kill_plan(record, signals.SIGKILL, records_exit=True) + REMOVE
    return _plan(REMOVE)


__all__ = [
    "CREATE",
    "DEFAULT_MOUNTS",
    "EXIT",
    "KILL",
    "PAUSE",
    "REMOVE",
    "START",
    "STOP",
    "UNPAUSE",
    "ContainerPlan",
    "connect_plan",
    "create_plan",
    "disconnect_plan",
    "plan_config",
    "exit_plan",
    "has_own_network",
    "kill_phase",
    "kill_plan",
    "layer_id",
    "mount_of",
    "pause_plan",
    "record_exit",
    "remove_plan",
    "restart_plan",
    "run_plan",
    "start_phase",
    "start_plan",
    "stop_phase",
    "stop_plan",
    "unpause_plan",
    "update_phase",
    "update_plan",
]
