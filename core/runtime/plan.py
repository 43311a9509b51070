"""The OCI runtime's verbs as plans of Steps, run by the one Stepper.

``stepbox-runc create`` runs the same start steps as ``stepbox run`` --
cgroup, spawn, hostname, mounts, pivot_root, network, capabilities -- with
the bundle's config.json instead of an image's, and stops where the exec
would be: the process waits at the *start gate* (runc's exec.fifo) with
its command already looked up.  ``start`` opens the gate: that is the
exec.  The steps keep the keys, titles and explanations of
``core/container/plan/start.py`` where they do the same thing, so
``stepbox step`` and this runtime tell one story.

========  ==============================================================
create    state_dir, cgroup, spawn, [hooks], hostname, [sysctl], mounts,
          pivot_root, [network], exec (user, capabilities; waits for start)
start     start (open the gate), [poststart]
kill      kill                       pause / resume: freeze / thaw
delete    [kill], remove_cgroup, [poststop], forget
exec      exec_in
========  ==============================================================
"""

from __future__ import annotations

import errno
import os
import signal as signals
import time
from collections.abc import Callable
from typing import Any

from stepbox.core.container.steps import Phase, Plan, Step
from stepbox.core.kernel import Kernel, MountSpec, ProcessSettings, SpawnSpec
from stepbox.core.kernel.seccomp import SeccompFilter

from .context import OciContext
from .hooks import run_hooks
from .spec import BundleSpec
from .state import CREATED, CREATING, RUNNING, STOPPED, RuntimeRecord, state_json

OciPlan = Plan[OciContext]


def _like(
    key: str, run: Callable[[OciContext], None], when: Callable[[Any], bool] | None = None
) -> Step[OciContext]:
    """The start step ``key`` of ``stepbox run`` (its title and explanation),
    doing its job from a config.json."""
    # Imported here: only create needs the container plans (and their
    # imports), and every other command is one Python start-up of its own.
    from stepbox.core.container.plan.start import START

    base = next(step for step in START.steps if step.key == key)
    return Step(base.key, base.title, base.explain, base.concept, run, when)


# -- create ---------------------------------------------------------------------------


def make_state_dir(ctx: OciContext) -> None:
    ctx.root.make(ctx.record.id)
    ctx.on_undo("remove the state directory", lambda: ctx.root.forget(ctx.record.id))
    ctx.save()


def create_cgroup(ctx: OciContext) -> None:
    spec, cgroups, record = ctx.need_spec(), ctx.kernel.cgroups, ctx.record
    record.cgroup = spec.cgroups_path or f"stepbox-runc/{record.id}"
    if not cgroups.exists(record.cgroup):
        cgroups.create(record.cgroup)
        record.owns_cgroup = True
        ctx.on_undo("remove cgroup", lambda: cgroups.remove(record.cgroup))
    cgroups.set_limits(record.cgroup, spec.limits)
    if spec.device_rules is not None:
        from stepbox.core.confinement.devices import RUNC_DEVICE_RULES

        # runc appends its defaults (/dev/null, /dev/pts/*, mknod of any...)
        cgroups.set_devices(record.cgroup, list(spec.device_rules + RUNC_DEVICE_RULES))


def spawn_process(ctx: OciContext) -> None:
    spec, record = ctx.need_spec(), ctx.record
    handle = ctx.kernel.processes.spawn(
        SpawnSpec(
            namespaces=spec.namespaces,
            join=spec.join,
            cgroup=record.cgroup,
            uid_map=spec.uid_map,
            gid_map=spec.gid_map,
            # the caller's pipes (containerd's shim, conmon) -- unless the
            # process gets a terminal: then the caller reads the output of
            # create itself until end-of-file (go-runc does), so the init
            # must hold none of its fds (stdin, stdout, stderr are the pty)
            inherit_stdio=not spec.process.terminal,
            detach=True,  # the caller is a subreaper: it reaps the init
            start_gate=ctx.root.gate(record.id),
            console_socket=ctx.console_socket if spec.process.terminal else "",
            preserve_fds=ctx.preserve_fds,
        )
    )
    ctx.handle = handle
    record.pid = handle.pid
    record.process = handle.record()
    ctx.on_undo("kill the container's process", lambda: _kill_quietly(ctx))


def _kill_quietly(ctx: OciContext) -> None:
    try:
        ctx.need_handle().signal(signals.SIGKILL)
    except ProcessLookupError:
        pass


def run_create_hooks(ctx: OciContext) -> None:
    spec = ctx.need_spec()
    state = state_json(ctx.record, CREATING)
    for kind in ("prestart", "createRuntime"):  # runc runs both here, prestart first
        run_hooks(kind, spec.hooks.get(kind, ()), state)


def set_hostname(ctx: OciContext) -> None:
    ctx.need_handle().sethostname(ctx.need_spec().hostname)


def set_sysctls(ctx: OciContext) -> None:
    for name, value in ctx.need_spec().sysctl.items():
        ctx.need_handle().set_sysctl(name, value)


def mount_everything(ctx: OciContext) -> None:
    """The config's mounts in their order, then the device nodes: the ones
    every container has (runc's defaults) and those the config lists."""
    spec, handle = ctx.need_spec(), ctx.need_handle()
    handle.make_mounts_private()
    for mount in spec.mounts:
        handle.mount(mount, spec.root)
    from stepbox.core.confinement.devices import DEFAULT_DEVICE_NODES, DEV_SYMLINKS

    # Fresh device files made with mknod (runc's createDevices): runc's
    # defaults, then the config's, a later one of the same path winning.
    nodes = {node.path: node for node in DEFAULT_DEVICE_NODES + spec.devices}
    handle.make_device_nodes(list(nodes.values()), spec.root)
    handle.make_symlinks(list(DEV_SYMLINKS), spec.root)


def pivot_root(ctx: OciContext) -> None:
    spec, handle = ctx.need_spec(), ctx.need_handle()
    if ctx.no_pivot:
        handle.move_root(spec.root)  # runc --no-pivot: MS_MOVE + chroot
    else:
        handle.pivot_root(spec.root)
    handle.mask_paths(list(spec.masked_paths), list(spec.readonly_paths))
    if spec.readonly_root:
        handle.mount(MountSpec("", "/", "remount", ("ro",)), "/")


def open_terminal(ctx: OciContext) -> None:
    ctx.need_handle().open_terminal(ctx.need_spec().process.console_size)


def bring_up_loopback(ctx: OciContext) -> None:
    ctx.need_handle().bring_up_loopback()


def seccomp_of(spec: BundleSpec, kernel: Kernel) -> SeccompFilter | None:
    """The config's linux.seccomp as a filter for this host (None: none)."""
    if spec.seccomp is None:
        return None
    from stepbox.core.confinement.seccomp_profile import Host, resolve

    facts = kernel.host_facts()
    return resolve(spec.seccomp, Host.from_uname(facts.machine, facts.release), spec.process.capabilities)


def settings_of(spec: BundleSpec, kernel: Kernel) -> ProcessSettings:
    p = spec.process
    return ProcessSettings(
        seccomp=seccomp_of(spec, kernel),
        user=(p.uid, p.gid),
        additional_gids=p.additional_gids,
        rlimits=p.rlimits,
        oom_score_adj=p.oom_score_adj,
        umask=p.umask,
        capabilities=p.capabilities,
        no_new_privileges=p.no_new_privileges,
    )


def wait_for_start(ctx: OciContext) -> None:
    spec = ctx.need_spec()
    p = spec.process
    ctx.need_handle().exec_on_start(list(p.args), p.env, p.cwd, settings_of(spec, ctx.kernel))


def create_phase() -> Phase[OciContext]:
    return Phase(
        "create",
        (
            Step(
                "state_dir",
                "Make the container's state directory",
                "An OCI runtime is a command, not a daemon: each of create, start, kill, delete is a "
                "new process. What one command learns the next must find on disk, under --root.",
                "Docker容器",
                make_state_dir,
            ),
            _like("cgroup", create_cgroup),
            _like("spawn", spawn_process),
            Step(
                "hooks",
                "Run the prestart and createRuntime hooks",
                "The caller may ask for programs to run once the namespaces exist and before the "
                "container's root is switched -- e.g. to wire the network namespace up.",
                "Docker namespace",
                run_create_hooks,
                when=lambda spec: bool(spec.hooks.get("prestart") or spec.hooks.get("createRuntime")),
            ),
            _like("hostname", set_hostname, when=lambda spec: bool(spec.hostname)),
            Step(
                "sysctl",
                "Set the namespaced kernel parameters",
                "Some kernel parameters belong to a namespace (net.*, IPC limits): set inside the "
                "container they change only its own view.",
                "Docker namespace",
                set_sysctls,
                when=lambda spec: bool(spec.sysctl),
            ),
            _like("mounts", mount_everything),
            _like("pivot_root", pivot_root),
            Step(
                "terminal",
                "Open a pseudo-terminal and send its master to the console socket",
                "process.terminal: a pseudo-terminal is opened from the container's own /dev/pts "
                "(runc opens /dev/ptmx there too) and its slave bound on /dev/console; at exec it is "
                "the process's stdin, stdout and stderr and its controlling terminal. The master side "
                "is sent to the caller's --console-socket with SCM_RIGHTS: containerd's shim or "
                "conmon copies between it and the user's terminal.",
                "Docker容器",
                open_terminal,
                when=lambda spec: spec.process.terminal,
            ),
            _like("network", bring_up_loopback, when=lambda spec: spec.own_network),
            Step(
                "exec",
                "Switch user, drop capabilities, and wait for start",
                "The command is looked up now -- a missing one fails the create. The process takes "
                "the config's user and groups, then keeps only the config's capabilities (in this "
                "order, as runc does: switching user needs CAP_SETUID), and blocks on a FIFO (runc's "
                "exec.fifo). `create` ends here: the container's process exists, in its namespaces "
                "and cgroup, confined, and has run nothing of the image.",
                "Docker容器: 容器的实质是进程",
                wait_for_start,
            ),
        ),
    )


# -- start ------------------------------------------------------------------------------


def open_gate(ctx: OciContext) -> None:
    gate = ctx.root.gate(ctx.record.id)
    ctx.kernel.processes.open_start_gate(gate)
    ctx.record.started = True
    try:
        os.unlink(gate)  # gone: the container is no longer "created"
    except FileNotFoundError:
        pass


def run_poststart_hooks(ctx: OciContext) -> None:
    run_hooks("poststart", ctx.record.hooks.get("poststart", []), state_json(ctx.record, RUNNING))


START_PHASE: Phase[OciContext] = Phase(
    "start",
    (
        Step(
            "start",
            "Start: let the waiting process execute its command",
            "One byte written to the FIFO the created process waits on: it calls execve() and "
            "the container is running -- the last step of `stepbox run`, held back until asked.",
            "Docker容器: 容器的实质是进程",
            open_gate,
        ),
        Step(
            "poststart",
            "Run the poststart hooks",
            "Programs the caller wants run once the container's command has started.",
            "Docker容器",
            run_poststart_hooks,
            when=lambda record: bool(record.hooks.get("poststart")),
        ),
    ),
)


# -- kill, pause, resume, delete ------------------------------------------------------------


def send_signal(ctx: OciContext) -> None:
    if ctx.kill_all and ctx.record.cgroup:
        # every process of the cgroup (runc kill --all); frozen ones get it when thawed
        for pid in ctx.kernel.cgroups.procs(ctx.record.cgroup):
            try:
                ctx.tracer.record("kill", f"{pid}, {ctx.signal}")
                os.kill(pid, ctx.signal)
            except ProcessLookupError:
                pass
        return
    ctx.need_handle().signal(ctx.signal)


KILL: Phase[OciContext] = Phase(
    "kill",
    (
        Step(
            "kill",
            "Send a signal",
            "kill(2) from the host to the container's first process (or, with --all, to every "
            "process of its cgroup).",
            "Docker容器",
            send_signal,
        ),
    ),
)


def freeze(ctx: OciContext) -> None:
    ctx.kernel.cgroups.freeze(ctx.record.cgroup)


def thaw(ctx: OciContext) -> None:
    ctx.kernel.cgroups.thaw(ctx.record.cgroup)


PAUSE: Phase[OciContext] = Phase(
    "pause",
    (
        Step(
            "freeze",
            "Freeze the cgroup",
            "Every process of the container stops where it stands.",
            "Docker CGroups",
            freeze,
        ),
    ),
)
RESUME: Phase[OciContext] = Phase(
    "resume",
    (
        Step(
            "thaw",
            "Thaw the cgroup",
            "The frozen processes carry on where they stopped.",
            "Docker CGroups",
            thaw,
        ),
    ),
)


def kill_and_wait(ctx: OciContext) -> None:
    """delete --force of a live container: SIGKILL, then wait until the
    process is gone (its reaper -- the caller -- collects it)."""
    handle = ctx.need_handle()
    if ctx.record.cgroup and ctx.kernel.cgroups.stats(ctx.record.cgroup).frozen:
        ctx.kernel.cgroups.thaw(ctx.record.cgroup)
    try:
        handle.signal(signals.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while ctx.kernel.processes.reattach(ctx.record.process or {}) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(
                errno.ETIMEDOUT, f"container init (pid {ctx.record.pid}) did not die of SIGKILL"
            )
        time.sleep(0.005)


def remove_cgroup(ctx: OciContext) -> None:
    record, cgroups = ctx.record, ctx.kernel.cgroups
    if record.cgroup and record.owns_cgroup:
        cgroups.remove(record.cgroup)


def run_poststop_hooks(ctx: OciContext) -> None:
    try:
        run_hooks("poststop", ctx.record.hooks.get("poststop", []), state_json(ctx.record, STOPPED))
    except Exception as e:  # runc: a failing poststop hook is logged, the delete goes on
        ctx.tracer.record("hook", f"poststop failed: {e}")


def forget(ctx: OciContext) -> None:
    ctx.root.forget(ctx.record.id)


def delete_phase(force_kill: bool) -> Phase[OciContext]:
    steps = (
        [
            Step(
                "kill",
                "Kill the container's processes",
                "delete --force of a live container: SIGKILL first.",
                "Docker容器",
                kill_and_wait,
            ),
        ]
        if force_kill
        else []
    )
    return Phase(
        "delete",
        (
            *steps,
            Step(
                "remove_cgroup",
                "Remove the cgroup",
                "The cgroup the create made goes; one the caller made before stays (it is theirs).",
                "Docker CGroups",
                remove_cgroup,
            ),
            Step(
                "poststop",
                "Run the poststop hooks",
                "Programs the caller wants run once the container is gone.",
                "Docker容器",
                run_poststop_hooks,
                when=lambda record: bool(record.hooks.get("poststop")),
            ),
            Step(
                "forget",
                "Forget the container",
                "Its state directory goes: `state` answers that it does not exist.",
                "Docker容器",
                forget,
            ),
        ),
    )


# -- exec, update: steps the verb makes around what it was asked (the process, the limits) --


def exec_phase(enter: Callable[[OciContext], None]) -> Phase[OciContext]:
    return Phase(
        "exec",
        (
            Step(
                "exec_in",
                "Start a process in the running container",
                "setns(2) into each of the container's namespaces and its cgroup, then execve -- "
                "`docker exec`, as runc's nsenter does it.",
                "Docker namespace",
                enter,
            ),
        ),
    )


def update_phase(set_limits: Callable[[OciContext], None]) -> Phase[OciContext]:
    return Phase(
        "update",
        (
            Step(
                "limits",
                "Change the cgroup's limits",
                "docker update: new limits for a running container.",
                "Docker CGroups",
                set_limits,
            ),
        ),
    )


def create_plan(spec: BundleSpec) -> OciPlan:
    return Plan((create_phase(),)).for_config(spec)


def start_plan(record: RuntimeRecord) -> OciPlan:
    return Plan((START_PHASE,)).for_config(record)


def status_of(ctx: OciContext) -> str:
    """created (waiting at the gate), running, paused (frozen) or stopped --
    read from the kernel each time, as runc does."""
    record = ctx.record
    handle = ctx.kernel.processes.reattach(record.process) if record.process else None
    if handle is None:
        return STOPPED
    if os.path.exists(ctx.root.gate(record.id)):
        return CREATED
    if (
        record.cgroup
        and ctx.kernel.cgroups.exists(record.cgroup)
        and ctx.kernel.cgroups.stats(record.cgroup).frozen
    ):
        return "paused"
    return RUNNING


def step_through_plan(spec: BundleSpec, record: RuntimeRecord) -> OciPlan:
    """What ``stepbox step --bundle`` walks: create's plan, start's, then
    ``delete --force``'s -- the container is removed at the end, as ``stepbox
    step`` removes its own (the kill finds it gone if its command ended)."""
    return create_plan(spec) + start_plan(record) + Plan((delete_phase(force_kill=True),)).for_config(record)
