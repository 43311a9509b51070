"""stop and kill: signals to PID 1 from the host (``docker stop``, ``docker kill``).

Neither records the exit: that is the exit phase's job (``exit.py``), run
by whoever watches the process -- right after these steps in one program,
by the exit monitor in the daemon.  Which signal, and how long the grace
period is, are the steps' own configuration: :func:`stop_phase` and
:func:`kill_phase` make the phase for one request.
"""

from __future__ import annotations

import signal as signals

from ..context import LifecycleContext
from ..steps import Phase, Step


def signal_name(sig: int) -> str:
    try:
        return signals.Signals(sig).name
    except ValueError:
        return str(sig)


def send(ctx: LifecycleContext, sig: int) -> None:
    """kill(2) PID 1 from the host (so even a namespace's init gets it)."""
    if ctx.handle is None:
        return  # gone already: the exit phase records that
    try:
        ctx.handle.signal(sig)
    except ProcessLookupError:
        pass  # it ended just now; its exit is recorded all the same


def stop_phase(sig: int = signals.SIGTERM, timeout: float = 10.0) -> Phase[LifecycleContext]:
    """``docker stop -t TIMEOUT`` of a container whose stop signal is ``sig``."""
    grace = max(timeout, 0.0)  # a negative -t: no grace at all

    def send_stop_signal(ctx: LifecycleContext) -> None:
        send(ctx, sig)

    def grace_period(ctx: LifecycleContext) -> None:
        ctx.exit_status = ctx.wait_for_exit(grace)
        if ctx.exit_status is None:  # PID 1 ignored the signal: no handler in a new pid ns
            ctx.say(
                f"container {ctx.record.short_id} did not exit within {grace:g}s of "
                f"{signal_name(sig)}; sending SIGKILL"
            )
            send(ctx, signals.SIGKILL)

    return Phase(
        "stop",
        (
            Step(
                "stop_signal",
                f"Stop: send {signal_name(sig)}",
                "docker stop asks politely first: SIGTERM (or the image's STOPSIGNAL) to PID 1, "
                "sent from the host so the kernel delivers it even to a namespace's init.",
                "Docker容器",
                send_stop_signal,
            ),
            Step(
                "grace_period",
                f"Wait up to {grace:g}s, then SIGKILL",
                "The container gets a grace period (10 seconds unless -t says otherwise) to "
                "exit. A PID 1 that installed no handler ignores SIGTERM -- the kernel protects a "
                "namespace's init -- so after the grace period SIGKILL ends it for sure.",
                "Docker容器",
                grace_period,
            ),
        ),
    )


def kill_phase(sig: int = signals.SIGKILL) -> Phase[LifecycleContext]:
    """``docker kill --signal SIG``."""

    def send_signal(ctx: LifecycleContext) -> None:
        send(ctx, sig)

    return Phase(
        "kill",
        (
            Step(
                "kill",
                f"Send {signal_name(sig)}",
                "docker kill sends one signal to PID 1 (SIGKILL unless --signal says otherwise) "
                "and waits for nothing: SIGKILL cannot be caught or ignored, any other signal is "
                "the container's to handle.",
                "Docker容器",
                send_signal,
            ),
        ),
    )


STOP = stop_phase()
KILL = kill_phase()
