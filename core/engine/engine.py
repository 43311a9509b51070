"""The daemon's state: one Runtime shared by every request, kept consistent.

dockerd is one long-running program that owns every container; the CLI
only asks.  stepbox's daemon holds one :class:`~stepbox.core.container.
runtime.Runtime` and serves many clients at once, so two rules apply:

* **State changes take the engine lock** (``create``, ``start``, ``rm``,
  ``pause`` ... and every read of a record): they are short, and holding
  one lock while a container's record, its layers and its cgroup change
  means no request ever sees half a change.
* **Nothing long holds it.**  Waiting for a container to exit can take
  hours.  Like containerd's shim telling dockerd "container X exited", each
  running container has an *exit monitor* (a thread) that waits for its
  process and then, under the lock, records the exit exactly once: it runs
  the plan's exit phase.  ``wait``, ``stop``, ``attach`` and ``logs -f``
  only wait for that news -- through a condition on the engine lock, so a
  step that waits (``stop``'s grace period) lets go of the lock meanwhile.

Every change of a container is a plan of the core (``core/container/plan``)
run by its Stepper; the engine only adds the lock, the monitors and the
events.

The simulated kernel is plain Python objects that are not thread-safe, so on
it *every* kernel call -- even polling a process -- is made under the lock,
and the monitors drive it in short slices, each as long as the wall time
since the last one: detached containers keep running while the daemon
lives, and their virtual clock keeps pace with the real one.
"""

from __future__ import annotations

import logging
import os
import signal as signals
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.context import ExitWatch, LifecycleContext, Waiter
from stepbox.core.container.errors import Conflict, NoSuchContainer
from stepbox.core.container.record import PAUSED, RUNNING, ContainerRecord
from stepbox.core.container.restart_policy import next_delay
from stepbox.core.container.runtime import Runtime
from stepbox.core.kernel import ExitStatus, KernelError
from stepbox.core.kernel.atomic import atomic_write_json, read_json

from .events import EventBus

log = logging.getLogger("stepbox.engine")

NOTES_FILE = "engine.json"
MAX_VIRTUAL_SLICE = 0.1  # seconds of simulated time one poll may grant


@dataclass
class ContainerNotes:
    """What the API knows about a container that the core's record does not
    need: Docker's create options stepbox accepts but does not act on (TTY,
    labels, stdin flags), kept beside the record so ``inspect`` shows them."""

    tty: bool = False
    open_stdin: bool = False
    labels: dict = field(default_factory=dict)
    stop_signal: str = ""
    stop_timeout: int | None = None
    restart_count: int = 0
    manually_stopped: bool = False  # docker stop/kill: the restart policy holds off


@dataclass
class Watch:
    """Counters the exit monitor moves; waiters compare against them."""

    starts: int = 0
    exits: int = 0
    removed: bool = False
    last_exit_code: int = 0
    readers: int = 0  # attach/logs streams still reading the log files
    name: str = ""  # for events: clients filter them by container name
    restarting: bool = False  # exited; the restart policy starts it again after a delay
    restart_delay: float = 0.0  # the last wait between restarts (the backoff)
    cancel_restart: threading.Event = field(default_factory=threading.Event)


class Engine:
    def __init__(
        self, runtime: Runtime, backend: str, root: str, insecure_registries: list[str] | None = None
    ):
        self.runtime = runtime
        self.backend = backend
        self.root = root
        # Registries pull/push may reach over plain http (dockerd's
        # --insecure-registry); loopback ones always may.
        self.insecure_registries = list(insecure_registries or [])
        self.lock = threading.RLock()
        # Announces exits and removals.  On the engine lock itself: whoever
        # waits for news lets go of the lock meanwhile, however deep it held it.
        self.changed = threading.Condition(self.lock)
        self.watches: dict[str, Watch] = {}
        self.events = EventBus()
        self.started_at = time.time()
        self.backend_reason = ""  # why this backend (docker info's DriverStatus shows it)
        # Real processes can be waited for from any thread; simulated ones
        # only under the lock (see the module docstring).
        self.concurrent_waits = runtime.kernel.concurrent_waits
        self._closing = False
        self._clock_moved_at = time.monotonic()  # see _virtual_slice
        # The exit monitors record exits; a plan that ends a process waits for them.
        runtime.exits = MonitoredExits(self)

    # -- small helpers ---------------------------------------------------------------
    @property
    def kernel(self):
        return self.runtime.kernel

    @property
    def images(self):
        return self.runtime.images

    def watch(self, cid: str) -> Watch:
        with self.changed:
            return self.watches.setdefault(cid, Watch())

    def _bump(
        self,
        cid: str,
        starts: int = 0,
        exits: int = 0,
        removed: bool = False,
        last_exit_code: int | None = None,
    ) -> None:
        with self.changed:
            w = self.watches.setdefault(cid, Watch())
            w.starts += starts
            w.exits += exits
            w.removed = w.removed or removed
            if last_exit_code is not None:
                w.last_exit_code = last_exit_code
            self.changed.notify_all()

    def container_event(self, cid: str, action: str, **attributes) -> None:
        """Publish a container event (``attach``, ``detach``, ``resize`` ...)."""
        self._event(cid, action, **attributes)

    def _event(self, cid: str, action: str, **attributes) -> None:
        name = self.watch(cid).name
        self.events.publish("container", action, cid, {**({"name": name} if name else {}), **attributes})

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def get(self, name: str) -> ContainerRecord:
        with self.lock:
            return self.runtime.get(name)

    # -- notes -----------------------------------------------------------------------
    def notes(self, record: ContainerRecord) -> ContainerNotes:
        path = self._notes_path(record.id)
        try:
            return ContainerNotes(**read_json(path)) if path else ContainerNotes()
        except (OSError, ValueError, TypeError):
            return ContainerNotes()

    def save_notes(self, cid: str, notes: ContainerNotes) -> None:
        path = self._notes_path(cid)
        if path:
            atomic_write_json(path, notes.__dict__, durable=False)

    def _notes_path(self, cid: str) -> str | None:
        directory = self.runtime.containers.container_dir(cid)
        return os.path.join(directory, NOTES_FILE) if directory else None

    # -- lifecycle -------------------------------------------------------------------
    def create(
        self, config: ContainerConfig, name: str | None, notes: ContainerNotes, said: list[str] | None = None
    ) -> ContainerRecord:
        """Create a container; what the runtime says meanwhile (e.g. that it
        built busybox from the host's binary) is also appended to ``said``,
        so the client that asked can show it, not only the daemon's log."""
        with self.lock:
            daemon_say = self.runtime.say
            if said is not None:

                def say_both(message: str) -> None:
                    said.append(message)
                    daemon_say(message)

                self.runtime.say = say_both
            try:
                record = self.runtime.create(config, name)
            finally:
                self.runtime.say = daemon_say
            self.save_notes(record.id, notes)
            self.watch(record.id)
        self.watch(record.id).name = record.name
        self._event(record.id, "create", image=config.image)
        return record

    def start(self, name: str, by_policy: bool = False) -> bool:
        """Start; False if it was running already (docker answers 304).
        A start asked for (not one the restart policy makes) starts the
        policy over: RestartCount 0, no manual stop (moby's containerStart
        with resetRestartManager)."""
        with self.lock:
            record = self.runtime.get(name)
            if record.state in (RUNNING, PAUSED):
                return False
            notes = self.notes(record)
            if not by_policy and (notes.manually_stopped or notes.restart_count):
                notes.manually_stopped = False
                notes.restart_count = 0
                self.save_notes(record.id, notes)
                self.watch(record.id).restart_delay = 0.0
            try:
                ctx = self.runtime.start(record)
            except BaseException:
                # The start failed (e.g. no such command) and the plan left
                # the container created (--rm: removed): release whoever
                # attached or waits, as if it had started and exited.
                removed = record.config.auto_remove
                self._bump(record.id, exits=1, removed=removed, last_exit_code=record.exit_code)
                raise
            self._bump(record.id, starts=1)
            self.watch(record.id).name = record.name
            self._monitor(record.id, ctx.handle)
        self._event(record.id, "start")
        return True

    def _monitor(self, cid: str, handle) -> None:
        thread = threading.Thread(
            target=self._watch_exit, args=(cid, handle), name=f"exit-monitor-{cid[:12]}", daemon=True
        )
        thread.start()

    def _watch_exit(self, cid: str, handle) -> None:
        """The exit monitor: wait for the process, then record the exit once."""
        try:
            self.wait_process(handle)
        except (KernelError, OSError) as e:
            log.warning("container %s: lost track of its process: %s", cid[:12], e)
        if self._closing and not self.concurrent_waits:
            return
        with self.lock:
            try:
                record = self.runtime.containers.find(cid)
            except NoSuchContainer:
                self._bump(cid, exits=1, removed=True)
                return
            record = self.runtime.refresh(record)  # records the exit: the plan's exit phase
            code = record.exit_code
            auto_remove = record.config.auto_remove
        if self._restart_if_the_policy_says(cid, record):
            return
        self._bump(cid, exits=1, last_exit_code=code)
        self._event(cid, "die", exitCode=str(code))
        if auto_remove:
            # --rm deletes the logs too: let attached clients read the last
            # output first (docker run prints it, then the container goes).
            w = self.watch(cid)
            self.wait_until(lambda: w.readers == 0, timeout=30)
            with self.lock:
                try:
                    self._remove_now(self.runtime.containers.find(cid))
                except NoSuchContainer:
                    pass
            self._bump(cid, removed=True)
            self._event(cid, "destroy")

    def process(self, cid: str, timeout: float | None = None):
        """The process handle of container ``cid`` once it runs (waiting up
        to ``timeout`` for it to start); None if it does not run by then."""

        def running() -> bool:
            return self.runtime.containers.find(cid).state in (RUNNING, PAUSED)

        with self.changed:
            if not self.changed.wait_for(running, timeout):
                return None
            return self.runtime.context(self.runtime.containers.find(cid)).handle

    def kernel_call(self, call: Callable[[], object]) -> None:
        """Make a call to a process handle from a request's thread: under the
        lock on the simulator (see the module docstring), without it on a
        real kernel, where writing a process's input may block for as long
        as the process does not read."""
        if self.concurrent_waits:
            call()
        else:
            with self.lock:
                call()

    def _restart_if_the_policy_says(self, cid: str, record: ContainerRecord) -> bool:
        """--restart: after the exit phase, the start phase again -- after
        the backoff's delay, unless a stop or rm comes first.  True if it
        was restarted (or is waiting to be)."""
        notes = self.notes(record)
        policy = record.config.restart
        code = record.exit_code
        if self._closing or not policy.should_restart(code, notes.manually_stopped, notes.restart_count):
            return False
        notes.restart_count += 1
        self.save_notes(cid, notes)
        w = self.watch(cid)
        w.cancel_restart.clear()
        w.restart_delay = next_delay(w.restart_delay, _seconds_since(record.started_at, record.finished_at))
        w.restarting = True
        self._bump(cid, exits=1, last_exit_code=code)
        self._event(cid, "die", exitCode=str(code))
        log.info(
            "container %s exited with %d: restarting it in %.1fs (--restart %s, restart %d)",
            cid[:12],
            code,
            w.restart_delay,
            policy.name,
            notes.restart_count,
        )
        cancelled = w.cancel_restart.wait(w.restart_delay)
        w.restarting = False
        if cancelled or self._closing:
            self._bump(cid)
            return True
        try:
            self.start(cid, by_policy=True)
        except Exception as e:  # a start that fails now is recorded like any failed start
            log.warning("container %s: the restart failed: %s", cid[:12], e)
        return True

    def cancel_restart(self, cid: str, manual: bool = True) -> None:
        """A stop, kill or rm: no more restarts (until the next start)."""
        w = self.watch(cid)
        w.cancel_restart.set()
        if manual:
            with self.lock:
                try:
                    record = self.runtime.containers.find(cid)
                except NoSuchContainer:
                    return
                notes = self.notes(record)
                if not notes.manually_stopped:
                    notes.manually_stopped = True
                    self.save_notes(cid, notes)

    def reading(self, cid: str, delta: int) -> None:
        """An attach/logs stream starts (+1) or ends (-1) reading the logs."""
        with self.changed:
            self.watches.setdefault(cid, Watch()).readers += delta
            self.changed.notify_all()

    def wait_process(self, handle, timeout: float | None = None):
        """Wait for any process of ours (container init or exec) to end;
        its ExitStatus, or None when ``timeout`` ran out."""
        if self.concurrent_waits:
            return handle.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self.lock:
                status = handle.wait(timeout=self._virtual_slice())
            if status is not None or self._closing:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.005)

    def _virtual_slice(self) -> float:
        """(Under the lock.)  How far a simulated kernel's clock may move now:
        the wall time since it last moved, shared by every poller.  So time
        inside the daemon passes as it does outside -- a detached ``sleep
        1000`` runs for 1000 seconds, ``sleep 1`` ends after one -- while a
        program that only computes runs as fast as the simulator can.  After
        an idle spell the first slice is capped: time nobody polled is lost,
        not granted at once."""
        now = time.monotonic()
        elapsed, self._clock_moved_at = now - self._clock_moved_at, now
        return min(max(elapsed, 0.0), MAX_VIRTUAL_SLICE)

    def _remove_now(self, record: ContainerRecord) -> None:
        try:
            self.runtime.remove(self.runtime.refresh(record), force=True)
        except NoSuchContainer:
            pass

    def wait_for_exit_after(self, cid: str, seen_exits: int, timeout: float | None = None) -> bool:
        w = self.watch(cid)
        return self.wait_until(lambda: w.exits > seen_exits or w.removed, timeout)

    def stop(self, name: str, timeout: float | None = None, sig: int | None = None) -> bool:
        """The stop plan: the stop signal (``sig``, else the container's
        --stop-signal, else SIGTERM), a grace period, SIGKILL; then the exit
        monitor records the exit.  False if not running (docker: 304)."""
        record = self.get(name)
        self.cancel_restart(record.id)
        with self.lock:
            record = self.runtime.get(name)
            if record.state not in (RUNNING, PAUSED):
                return False
            notes = self.notes(record)
            if timeout is None:
                timeout = notes.stop_timeout if notes.stop_timeout is not None else 10
            if sig is None:
                sig = _signal_number(notes.stop_signal) if notes.stop_signal else signals.SIGTERM
            seen = self.watch(record.id).exits
            self.runtime.stop(record, timeout, sig)
        self.wait_for_exit_after(record.id, seen)
        self._event(record.id, "stop")
        return True

    def kill(self, name: str, sig: int = signals.SIGKILL) -> None:
        record = self.get(name)
        if sig == signals.SIGKILL:
            self.cancel_restart(record.id)
        with self.lock:
            record = self.runtime.get(name)
            if record.state not in (RUNNING, PAUSED):
                raise Conflict(f"Cannot kill container: {name}: Container {record.id} is not running")
            seen = self.watch(record.id).exits
            self.runtime.kill(record, sig)
        self._event(record.id, "kill", signal=str(sig))
        if sig == signals.SIGKILL:
            self.wait_for_exit_after(record.id, seen)

    def restart(self, name: str, timeout: float | None = None, sig: int | None = None) -> None:
        self.stop(name, timeout, sig)
        self.start(name)

    def pause(self, name: str) -> None:
        with self.lock:
            record = self.runtime.get(name)
            self.runtime.pause(record)
        self._event(record.id, "pause")

    def unpause(self, name: str) -> None:
        with self.lock:
            record = self.runtime.get(name)
            self.runtime.unpause(record)
        self._event(record.id, "unpause")

    def remove(self, name: str, force: bool = False) -> None:
        with self.lock:
            record = self.runtime.get(name)
        self.cancel_restart(record.id, manual=False)
        with self.lock:
            record = self.runtime.get(name)
            running = record.state in (RUNNING, PAUSED)
            if running and not force:
                self.runtime.remove(record)  # refuses: the runtime's Conflict, its message
        if running:
            try:
                self.kill(record.id)
            except Conflict:
                pass  # it exited meanwhile
        with self.lock:
            try:
                record = self.runtime.get(record.id)
            except NoSuchContainer:
                return  # auto-removed after the kill
            self.runtime.remove(record, force=True)
        self._bump(record.id, removed=True)
        self._event(record.id, "destroy")

    # -- start-up and shut-down ------------------------------------------------------
    # -- networks --------------------------------------------------------------------
    def connect(self, container: str, network: str, settings: dict) -> None:
        with self.lock:
            record = self.runtime.get(container)
            self.runtime.connect(record, network, settings)
            net = self.runtime.network_manager().find(network)
        self.events.publish("network", "connect", net.id, {"name": net.name, "container": record.id})

    def disconnect(self, container: str, network: str, force: bool = False) -> None:
        with self.lock:
            record = self.runtime.get(container)
            self.runtime.disconnect(record, network, force)
        self.events.publish("network", "disconnect", network, {"name": network, "container": record.id})

    def recover(self) -> list[str]:
        """After a daemon restart: re-attach to containers still running, and
        record the others as exited (with the reason); a line per container.
        First of all the networks: the bridges and rules the records call for
        (a reboot lost them; a daemon killed with -9 left them), then the
        proxies and DNS servers of the running containers, which lived in the
        old daemon's process."""
        report = []
        networks = self.runtime.networks
        if networks is not None:
            with self.lock:
                report += networks.start()
        with self.lock:
            for record in self.runtime.containers.all():
                if record.state not in (RUNNING, PAUSED):
                    continue
                record = self.runtime.refresh(record)
                if record.state in (RUNNING, PAUSED):
                    if networks is not None:
                        from stepbox.core.container.plan.network import restore_services

                        try:
                            restore_services(networks, record)
                        except Exception as e:  # report it; the container itself runs on
                            report.append(
                                f"container {record.short_id}: cannot restore its network services: {e}"
                            )
                    handle = self.runtime.context(record).handle
                    self._bump(record.id, starts=1)
                    self.watch(record.id).name = record.name
                    self._monitor(record.id, handle)
                    report.append(
                        f"re-attached to container {record.short_id} ({record.name}), pid {record.pid}"
                    )
                else:
                    report.append(
                        f"container {record.short_id} ({record.name}) exited while the daemon "
                        f"was down: {record.error or f'exit code {record.exit_code}'}"
                    )
                    if record.config.auto_remove:
                        self._remove_now(record)
        report += self._start_by_policy()
        return report

    def _start_by_policy(self) -> list[str]:
        """--restart always / unless-stopped / on-failure containers that are
        not running are started as the daemon starts (on the simulator, whose
        containers ended with the last daemon, as new processes)."""
        report = []
        with self.lock:
            candidates = [
                r
                for r in self.runtime.containers.all()
                if r.state not in (RUNNING, PAUSED)
                and r.state != "created"
                and r.config.restart.starts_with_the_daemon(r.exit_code, self.notes(r).manually_stopped)
            ]
        for record in candidates:
            try:
                self.start(record.id)  # as moby's restore: the restart manager starts over
                report.append(
                    f"started container {record.short_id} ({record.name}): --restart {record.config.restart_policy}"
                )
            except Exception as e:  # one that cannot start must not keep the daemon from starting
                report.append(f"container {record.short_id} ({record.name}) did not start: {e}")
        return report

    def close(self) -> None:
        """Stop serving.  Real containers keep running (their shims hold them,
        and the next daemon re-attaches); simulated ones live in this
        program, so they end with it and are recorded as exited, saying why."""
        self._closing = True
        try:
            self._end_simulated_containers()
        finally:
            if self.runtime.networks is not None:
                self.runtime.networks.close()  # proxies and DNS servers; bridges and rules stay
            self.kernel.close()  # what the backend holds here (the shim launcher)

    def _end_simulated_containers(self) -> None:
        if self.kernel.containers_outlive_program:
            return
        with self.lock:
            for record in self.runtime.containers.all():
                if record.state in (RUNNING, PAUSED):
                    try:  # kill -9, and record the exit here: the monitors have stopped
                        self.runtime.kill(record, signals.SIGKILL, record_exit=True)
                    except Exception:  # best effort on the way out
                        pass
                    record = self.runtime.refresh(self.runtime.containers.find(record.id))
                    record.error = (
                        "the daemon stopped: simulated processes live inside the daemon and end with it"
                    )
                    self.runtime.containers.save(record)


class MonitoredExits(ExitWatch):
    """The daemon's way: each running container's exit monitor records its
    exit (the exit phase); a plan that ends a process -- stop, kill -- only
    sends the signal, and its waits wait for the monitor's news."""

    records_exits = False

    def __init__(self, engine: Engine):
        self.engine = engine

    def waiter(self, record: ContainerRecord) -> Waiter:
        engine, cid = self.engine, record.id
        seen = engine.watch(cid).exits  # before any step sends a signal

        def wait(ctx: LifecycleContext, timeout: float | None) -> ExitStatus | None:
            exited = engine.wait_for_exit_after(cid, seen, timeout)  # lets go of the engine lock
            ctx.reload()  # the monitor changed the record meanwhile
            return ExitStatus(engine.watch(cid).last_exit_code) if exited else None

        return wait


def _seconds_since(start: str, end: str) -> float:
    """How long a container ran: between two of Docker's timestamps."""
    from datetime import datetime

    try:
        parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
        return (parse(end) - parse(start)).total_seconds()
    except ValueError:
        return 0.0


def _signal_number(text: str) -> int:
    text = str(text).strip().upper()
    if text.isdigit():
        return int(text)
    name = text if text.startswith("SIG") else "SIG" + text
    try:
        return int(signals.Signals[name])
    except KeyError:
        from .errors import BadParameter

        raise BadParameter(f"Invalid signal: {text}") from None


signal_number = _signal_number
