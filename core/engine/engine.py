"""The daemon's state: one Runtime shared by every request, kept consistent.

dockerd is one long-running program that owns every container; the CLI
only asks.  stepbox's daemon holds one :class:`~stepbox.core.container.
runtime.Runtime` and serves many clients at once, each on a thread.  Every
change of a container is a plan of the core (``core/container/plan``) run
by its Stepper; the engine adds the locks, the exit monitors and the events.

**Locks.**  There is no lock around the engine as a whole: what two
requests touch decides whether one waits for the other.

* *A container's lock* (``Watch.lock``, reentrant) is held by whoever
  changes that container: a verb's plan (``create``, ``start``, ``stop``,
  ``rm``, ``pause``, ``commit`` ...) and its exit monitor recording the
  exit.  Two containers start in parallel; nothing holds a container's lock
  across another container's start.
* *Reading never waits.*  ``ps``, ``inspect``, ``logs``, ``wait``, ``info``
  read the records as last saved; a container nobody holds is first
  refreshed (its exit recorded if its process ended unwatched), one that is
  held is shown as its holder last saved it.  So a build, a pull, a long
  commit or a stop's grace period never delays them.
* *Images and layers* have locks of their own in the Runtime
  (``core/container/locks.py``): shared on an image while a container is
  created from it, exclusive while ``rmi`` deletes it; one per layer while
  it is unpacked; one garbage collection at a time.  Pulls, loads, imports
  and saves take none of these: the image store pins their blobs.
* *The network manager's lock* (``core/network/manager.py``) guards what
  all containers' network steps share: the network records, the packet
  rules (recomputed and replaced whole) and the choice of an address, held
  until the record naming it is saved.
* *The kernel lock*, on a kernel that is not thread-safe (the simulator):
  every call to it is made under one lock (``core/kernel/serialised.py``);
  bookkeeping is not.  The real kernel has none.
* *News* (``Watch.news``): a container's counters that waiters look at --
  starts, exits, removals, readers -- under a condition of their own, one
  per container: a waiter is woken by its own container's news only (ten
  runs at once woke each other's waiters dozens of times each: issue 18).
  The engine's ``_news`` is told of every change too, for a waiter that
  looks at more than one container.

The order, outermost first: name reservations (only while a create picks a
name), one container's lock, an image's lock, a layer's lock (or the garbage
collection's, then a layer's) -- or, in the network steps, the network
manager's lock --, the kernel lock, the news.  A thread never holds two
containers' locks at once, and nothing that holds an image, layer, network,
kernel or news lock reaches for a container's.  A thread that must wait
while it holds a container's lock -- ``stop``'s grace period, waiting for the
exit monitor -- waits on that container's condition (``Watch.turn``), which
lets go of the lock meanwhile, however deep it is held.

**Exit monitors.**  Waiting for a container to exit can take hours.  Like
containerd's shim telling dockerd "container X exited", each running
container has an *exit monitor* (a thread) that waits for its process with
no lock held and then, under the container's lock, records the exit exactly
once: it runs the plan's exit phase.  ``wait``, ``stop``, ``attach`` and
``logs -f`` only wait for that news.

On the simulator a wait cannot block (the simulated kernel runs only inside
calls to it, one at a time), so the monitors poll it in short slices, each
as long as the wall time since the last one: detached containers keep
running while the daemon lives, and their virtual clock keeps pace with the
real one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal as signals
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig, check_name
from stepbox.core.container.context import ExitWatch, LifecycleContext, Waiter
from stepbox.core.container.errors import Conflict, NoSuchContainer
from stepbox.core.container.names import random_name
from stepbox.core.container.record import PAUSED, RUNNING, ContainerRecord
from stepbox.core.container.restart_policy import next_delay
from stepbox.core.container.runtime import Runtime
from stepbox.core.kernel import ExitStatus, KernelError, ProcessHandle
from stepbox.core.kernel.atomic import atomic_write_json, read_json
from stepbox.core.kernel.serialised import SerialisedKernel, serialised

from .events import EventBus

log = logging.getLogger("stepbox.engine")

NOTES_FILE = "engine.json"
MAX_VIRTUAL_SLICE = 0.1  # seconds of simulated time one poll may grant
POLL_PAUSE = 0.005  # seconds between two polls of a simulated process


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
    """One container's lock, and the counters its exit monitor moves
    (waiters compare against them; they change under the engine's news)."""

    starts: int = 0
    exits: int = 0
    removed: bool = False
    last_exit_code: int = 0
    readers: int = 0  # attach/logs streams still reading the log files
    name: str = ""  # for events: clients filter them by container name
    restarting: bool = False  # exited; the restart policy starts it again after a delay
    restart_delay: float = 0.0  # the last wait between restarts (the backoff)
    cancel_restart: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)
    # Held by whoever changes the container (see the module docstring).
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    # Notified, under the lock, when the counters move: a plan that holds
    # the lock waits on it for the exit monitor (who needs the lock).
    turn: threading.Condition = field(init=False, repr=False, compare=False)
    # The counters change under it, and it is notified when they do (the
    # module docstring's "news"); nothing is held while waiting on it.
    news: threading.Condition = field(default_factory=threading.Condition, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.turn = threading.Condition(self.lock)


class Engine:
    def __init__(
        self,
        runtime: Runtime,
        backend: str,
        root: str,
        insecure_registries: list[str] | None = None,
        backend_why: str = "",
    ):
        # A kernel that cannot wait in one thread while others call it is
        # polled instead (the simulator: see the module docstring).
        self._polled = not runtime.kernel.thread_safe
        runtime.kernel = serialised(runtime.kernel)
        kernel = runtime.kernel
        runtime.volumes.host = kernel.host_mounts  # a volume's mounts and files, the same way
        if runtime.networks is not None and runtime.networks.kernel is not None:
            # The network manager calls the kernel's network from the
            # clients' threads too: through the same lock.
            runtime.networks.kernel = kernel.network
        self._kernel_lock: contextlib.AbstractContextManager[object] = (
            kernel.lock if isinstance(kernel, SerialisedKernel) else contextlib.nullcontext()
        )
        self.runtime = runtime
        self.backend = backend
        self.backend_why = backend_why  # why this backend (docker info's DriverStatus says it)
        self.root = root
        # Registries pull/push may reach over plain http (dockerd's
        # --insecure-registry); loopback ones always may.
        self.insecure_registries = list(insecure_registries or [])
        self._news = threading.Condition()
        self.watches: dict[str, Watch] = {}
        self._naming = threading.Lock()
        self._names_in_creation: set[str] = set()
        self.events = EventBus()
        self.started_at = time.time()
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
        with self._news:
            return self.watches.setdefault(cid, Watch())

    def _bump(
        self,
        cid: str,
        starts: int = 0,
        exits: int = 0,
        removed: bool = False,
        last_exit_code: int | None = None,
    ) -> None:
        w = self.watch(cid)
        with w.lock:  # reentrant: the exit monitor and the verbs hold it already
            with w.news:
                w.starts += starts
                w.exits += exits
                w.removed = w.removed or removed
                if last_exit_code is not None:
                    w.last_exit_code = last_exit_code
                w.news.notify_all()
            self._tell_everyone()
            w.turn.notify_all()

    def _tell_everyone(self) -> None:
        """Wake the waiters for news of any container (after a change of one)."""
        with self._news:
            self._news.notify_all()

    def _event(self, cid: str, action: str, **attributes) -> None:
        name = self.watch(cid).name
        self.events.publish("container", action, cid, {**({"name": name} if name else {}), **attributes})

    def container_event(self, cid: str, action: str, **attributes) -> None:
        """Publish a container event (``attach``, ``detach``, ``resize`` ...)."""
        self._event(cid, action, **attributes)

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float | None = None, cid: str | None = None
    ) -> bool:
        """Wait for news (an exit, a removal, a reader gone) to make ``predicate``
        true: of container ``cid`` only, if given (woken by its news alone),
        else of any container."""
        news = self.watch(cid).news if cid is not None else self._news
        with news:
            return news.wait_for(predicate, timeout)

    # -- holding and reading containers -------------------------------------------------
    @contextlib.contextmanager
    def changing(self, name: str) -> Iterator[ContainerRecord]:
        """The container ``name`` (a name, an ID or its prefix), held: no one
        else changes it until the block ends.  Read again once held, so the
        block sees what the previous holder left."""
        cid = self.runtime.containers.find(name).id
        with self.watch(cid).lock:
            try:
                record = self.runtime.get(cid)
            except NoSuchContainer:
                raise NoSuchContainer(name) from None  # removed while we waited
            yield record

    def get(self, name: str) -> ContainerRecord:
        """The container as it is now, without waiting for whoever is
        changing it: refreshed (an exit nobody recorded yet, recorded) if
        nobody holds it, else as its holder last saved it."""
        return self._fresh(self.runtime.containers.find(name).id, name)

    def snapshot(self, name: str) -> tuple[ContainerRecord, int]:
        """The container (as :meth:`get`) and how many exits its monitor had
        recorded *before* it was read: a waiter for the next exit that
        compares against that number misses none (an exit recorded in
        between shows in the record)."""
        cid = self.runtime.containers.find(name).id
        seen = self.watch(cid).exits
        return self._fresh(cid, name), seen

    def ps(self, all_: bool = False) -> list[ContainerRecord]:
        """``ps``: every container as :meth:`get` reads it, newest first."""
        records = []
        for found in self.runtime.containers.all():
            if found.state not in (RUNNING, PAUSED):
                # As listed: re-reading it would change nothing (refreshing
                # looks for the exit of a live container only), and ps of
                # many stopped containers spent a third of its time so.
                records.append(found)
                continue
            try:
                records.append(self._fresh(found.id, found.id))
            except NoSuchContainer:
                continue  # removed while we listed
        records.sort(key=lambda r: r.created, reverse=True)
        return records if all_ else [r for r in records if r.state in (RUNNING, PAUSED)]

    def _fresh(self, cid: str, name: str) -> ContainerRecord:
        lock = self.watch(cid).lock
        try:
            if not lock.acquire(blocking=False):
                return self.runtime.containers.find(cid)  # as last saved: someone is changing it
            try:
                return self.runtime.get(cid)
            finally:
                lock.release()
        except NoSuchContainer:
            raise NoSuchContainer(name) from None

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
        daemon_say = self.runtime.say
        say = daemon_say
        if said is not None:

            def say(message: str) -> None:
                said.append(message)
                daemon_say(message)

        name = self._reserve_name(name)
        try:
            record = self.runtime.new_record(config, name, say)
            w = self.watch(record.id)
            w.name = record.name
            with w.lock:  # from the moment its record is saved, others can find it
                ctx = self.runtime.context(record)
                ctx.say = say
                self.runtime.execute(record, plan.create_plan(), ctx)
                self.save_notes(record.id, notes)
        finally:
            with self._naming:
                self._names_in_creation.discard(name)
        self._event(record.id, "create", image=config.image)
        return record

    def _reserve_name(self, name: str | None) -> str:
        """The name the new container gets, kept from other creates until its
        record is saved (two ``run --name web`` at once: one gets a Conflict)."""
        with self._naming:
            taken = {r.name for r in self.runtime.containers.all()} | self._names_in_creation
            if name:
                check_name(name)
                self.runtime.containers.check_name_free(name)
                if name in self._names_in_creation:
                    raise Conflict(
                        f'Conflict. The container name "/{name}" is already in use by a container '
                        "being created. You have to remove (or rename) that container to be able to "
                        "reuse that name."
                    )
            else:
                name = random_name(taken)
            self._names_in_creation.add(name)
            return name

    def start(self, name: str, by_policy: bool = False) -> bool:
        """Start; False if it was running already (docker answers 304).
        A start asked for (not one the restart policy makes) starts the
        policy over: RestartCount 0, no manual stop (moby's containerStart
        with resetRestartManager)."""
        with self.changing(name) as record:
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
            assert ctx.handle is not None  # a start that succeeded has a process
            self._monitor(record.id, ctx.handle)
        self._event(record.id, "start")
        return True

    def _monitor(self, cid: str, handle: ProcessHandle) -> None:
        thread = threading.Thread(
            target=self._watch_exit, args=(cid, handle), name=f"exit-monitor-{cid[:12]}", daemon=True
        )
        thread.start()

    def _watch_exit(self, cid: str, handle: ProcessHandle) -> None:
        """The exit monitor: wait for the process, then record the exit once."""
        try:
            self.wait_process(handle)
        except (KernelError, OSError) as e:
            log.warning("container %s: lost track of its process: %s", cid[:12], e)
        if self._closing and self._polled:
            return  # the simulated processes end with the daemon: close() records that
        w = self.watch(cid)
        with w.lock:
            try:
                record = self.runtime.containers.find(cid)
            except NoSuchContainer:
                self._bump(cid, exits=1, removed=True)
                return
            record = self.runtime.refresh(record)  # records the exit: the plan's exit phase
            code = record.exit_code
            auto_remove = record.config.auto_remove
            restart = self._restart_wanted(cid, record)
            self._bump(cid, exits=1, last_exit_code=code)
        self._event(cid, "die", exitCode=str(code))
        if restart:
            self._restart_after_backoff(cid, record)
            return
        if auto_remove:
            # --rm deletes the logs too: let attached clients read the last
            # output first (docker run prints it, then the container goes).
            self.wait_until(lambda: w.readers == 0, timeout=30, cid=cid)
            with w.lock:
                try:
                    self._remove_now(self.runtime.containers.find(cid))
                except NoSuchContainer:
                    pass
                self._bump(cid, removed=True)
            self._event(cid, "destroy")

    def process(self, cid: str, timeout: float | None = None) -> ProcessHandle | None:
        """The process handle of container ``cid`` once it runs (waiting up
        to ``timeout`` for it to start); None if it does not run by then."""

        def running() -> bool:
            try:
                return self.runtime.containers.find(cid).state in (RUNNING, PAUSED)
            except NoSuchContainer:
                return True  # gone: stop waiting (the lookup below says so)

        if not self.wait_until(running, timeout, cid=cid):
            return None
        try:
            return self.runtime.context(self.get(cid)).handle
        except NoSuchContainer:
            return None

    def kernel_call(self, call: Callable[[], object]) -> None:
        """Make a call to a process handle from a request's thread.  The
        kernel serialises it if it must (the simulator: see the module
        docstring); no container lock is held, as writing a real process's
        input may block for as long as the process does not read."""
        call()

    def _restart_wanted(self, cid: str, record: ContainerRecord) -> bool:
        """(Under the container's lock, the exit just recorded.)  Whether
        --restart starts it again; if so, counted (RestartCount) and marked
        restarting, with the backoff's next delay."""
        notes = self.notes(record)
        policy = record.config.restart
        if self._closing or not policy.should_restart(
            record.exit_code, notes.manually_stopped, notes.restart_count
        ):
            return False
        notes.restart_count += 1
        self.save_notes(cid, notes)
        w = self.watch(cid)
        w.cancel_restart.clear()
        w.restart_delay = next_delay(w.restart_delay, _seconds_since(record.started_at, record.finished_at))
        w.restarting = True
        log.info(
            "container %s exited with %d: restarting it in %.1fs (--restart %s, restart %d)",
            cid[:12],
            record.exit_code,
            w.restart_delay,
            policy.name,
            notes.restart_count,
        )
        return True

    def _restart_after_backoff(self, cid: str, record: ContainerRecord) -> None:
        """--restart: after the exit phase, the start phase again -- after
        the backoff's delay (no lock held), unless a stop or rm comes first."""
        w = self.watch(cid)
        cancelled = w.cancel_restart.wait(w.restart_delay)
        w.restarting = False
        if cancelled or self._closing:
            self._bump(cid)
            return
        try:
            self.start(cid, by_policy=True)
        except Exception as e:  # a start that fails now is recorded like any failed start
            log.warning("container %s: the restart failed: %s", cid[:12], e)

    def cancel_restart(self, cid: str, manual: bool = True) -> None:
        """A stop, kill or rm: no more restarts (until the next start)."""
        w = self.watch(cid)
        w.cancel_restart.set()
        if manual:
            with w.lock:
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
        w = self.watch(cid)
        with w.news:
            w.readers += delta
            w.news.notify_all()
        self._tell_everyone()

    def wait_process(self, handle: ProcessHandle, timeout: float | None = None) -> ExitStatus | None:
        """Wait for any process of ours (container init or exec) to end,
        holding no lock but the kernel's, and that only while polling; its
        ExitStatus, or None when ``timeout`` ran out."""
        if not self._polled:
            return handle.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._kernel_lock:  # the slice is taken and granted at once
                status = handle.wait(timeout=self._virtual_slice())
            if status is not None or self._closing:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(POLL_PAUSE)

    def _virtual_slice(self) -> float:
        """(Under the kernel lock.)  How far a simulated kernel's clock may
        move now: the wall time since it last moved, shared by every poller.
        So time inside the daemon passes as it does outside -- a detached
        ``sleep 1000`` runs for 1000 seconds, ``sleep 1`` ends after one --
        while a program that only computes runs as fast as the simulator
        can.  After an idle spell the first slice is capped: time nobody
        polled is lost, not granted at once."""
        now = time.monotonic()
        elapsed, self._clock_moved_at = now - self._clock_moved_at, now
        return min(max(elapsed, 0.0), MAX_VIRTUAL_SLICE)

    def _remove_now(self, record: ContainerRecord) -> None:
        """``--rm``: the container and its anonymous volumes."""
        try:
            self.runtime.remove(self.runtime.refresh(record), force=True, volumes=True)
        except NoSuchContainer:
            pass

    def wait_for_exit_after(self, cid: str, seen_exits: int, timeout: float | None = None) -> bool:
        w = self.watch(cid)
        return self.wait_until(lambda: w.exits > seen_exits or w.removed, timeout, cid=cid)

    def stop(self, name: str, timeout: float | None = None, sig: int | None = None) -> bool:
        """The stop plan: the stop signal (``sig``, else the container's
        --stop-signal, else SIGTERM), a grace period, SIGKILL; then the exit
        monitor records the exit.  False if not running (docker: 304)."""
        self.cancel_restart(self.get(name).id)
        with self.changing(name) as record:
            if record.state not in (RUNNING, PAUSED):
                return False
            notes = self.notes(record)
            if timeout is None:
                timeout = notes.stop_timeout if notes.stop_timeout is not None else 10
            if sig is None:
                sig = _signal_number(notes.stop_signal) if notes.stop_signal else signals.SIGTERM
            seen = self.watch(record.id).exits
            self.runtime.stop(record, timeout, sig)  # the grace period lets go of the container
        self.wait_for_exit_after(record.id, seen)
        self._event(record.id, "stop")
        return True

    def kill(self, name: str, sig: int = signals.SIGKILL) -> None:
        if sig == signals.SIGKILL:
            self.cancel_restart(self.get(name).id)
        with self.changing(name) as record:
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
        with self.changing(name) as record:
            self.runtime.pause(record)
        self._event(record.id, "pause")

    def unpause(self, name: str) -> None:
        with self.changing(name) as record:
            self.runtime.unpause(record)
        self._event(record.id, "unpause")

    def remove(self, name: str, force: bool = False, volumes: bool = False) -> None:
        self.cancel_restart(self.get(name).id, manual=False)
        with self.changing(name) as record:
            running = record.state in (RUNNING, PAUSED)
            if running and not force:
                self.runtime.remove(record)  # refuses: the runtime's Conflict, its message
        if running:
            try:
                self.kill(record.id)  # the exit monitor records the exit (and its event)
            except (Conflict, NoSuchContainer):
                pass  # it exited, or was removed, meanwhile
        try:
            with self.changing(record.id) as record:
                self.runtime.remove(record, force=True, volumes=volumes)
                self._bump(record.id, removed=True)
        except NoSuchContainer:
            return  # auto-removed after the kill, or by another rm
        self._event(record.id, "destroy")

    # -- start-up and shut-down ------------------------------------------------------
    # -- networks --------------------------------------------------------------------
    def connect(self, container: str, network: str, settings: dict) -> None:
        with self.changing(container) as record:
            self.runtime.connect(record, network, settings)
            net = self.runtime.network_manager().find(network)
        self.events.publish("network", "connect", net.id, {"name": net.name, "container": record.id})

    def disconnect(self, container: str, network: str, force: bool = False) -> None:
        with self.changing(container) as record:
            self.runtime.disconnect(record, network, force)
        self.events.publish("network", "disconnect", network, {"name": network, "container": record.id})

    def recover(self) -> list[str]:
        """After a daemon restart: re-attach to containers still running, and
        record the others as exited (with the reason); a line per container.
        First of all the networks: the bridges and rules the records call for
        (a reboot lost them; a daemon killed with -9 left them), then the
        proxies and DNS servers of the running containers, which lived in the
        old daemon's process.  Then undo what a daemon killed half-way
        through left (see :meth:`_recover_unrecorded` and
        :meth:`_recover_interrupted`), and recount the volumes' users
        (a volume left mounted for nobody is unmounted)."""
        report = []
        networks = self.runtime.networks
        if networks is not None:
            report += self._release_interrupted_addresses(networks)
            report += networks.start()
        return (
            report
            + self._recover_running(networks)
            + self._recover_unrecorded()
            + self._recover_interrupted()
            # Who uses which volume, from the records as they now stand.
            + self.runtime.volumes.recount()
            + self._start_by_policy()
        )

    def _start_by_policy(self) -> list[str]:
        """--restart always / unless-stopped / on-failure containers that are
        not running are started as the daemon starts (on the simulator, whose
        containers ended with the last daemon, as new processes)."""
        report = []
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

    def _release_interrupted_addresses(self, networks) -> list[str]:
        """Addresses and ports a start killed half-way left in the record of
        a container that is not running (the start saves them as soon as it
        has chosen them): released, so no one else is refused them and no
        rule is made for them."""
        from stepbox.core.container.plan.network import release_interrupted

        report = []
        for record in self.runtime.containers.all():
            if record.state in (RUNNING, PAUSED):
                continue
            said = release_interrupted(networks, record)
            if said:
                self.runtime.containers.save(record)
                report += [f"container {record.short_id}: {line} (a start was interrupted)" for line in said]
        return report

    def _recover_running(self, networks) -> list[str]:
        report = []
        for found in self.runtime.containers.all():
            if found.state not in (RUNNING, PAUSED):
                continue
            w = self.watch(found.id)
            with w.lock:
                record = self.runtime.refresh(found)
                if record.state in (RUNNING, PAUSED):
                    handle = self.runtime.context(record).handle
                    assert handle is not None  # refresh found it running
                    if networks is not None:
                        from stepbox.core.container.plan.network import restore_services

                        try:
                            restore_services(networks, record)
                        except Exception as e:  # report it; the container itself runs on
                            report.append(
                                f"container {record.short_id}: cannot restore its network services: {e}"
                            )
                    self._bump(record.id, starts=1)
                    w.name = record.name
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
        return report

    def _recover_unrecorded(self) -> list[str]:
        """A start killed after it spawned the container's process but before
        the record said so leaves a process no record names: the container
        is Created, its init runs in its cgroup.  The backend knows every
        init it spawned (``Processes.live_inits``, from the shims' run
        directories on Linux); one that no running container's record names
        is nobody's: it is killed, so the container can start again."""
        records = self.runtime.containers.all()
        recorded = {r.pid for r in records if r.state in (RUNNING, PAUSED) and r.pid}
        report = []
        for handle in self.kernel.processes.live_inits():
            if handle.pid in recorded:
                continue
            owner = next(
                (
                    r
                    for r in records
                    if r.cgroup
                    and self.kernel.cgroups.exists(r.cgroup)
                    and handle.pid in self.kernel.cgroups.procs(r.cgroup)
                ),
                None,
            )
            try:
                handle.signal(signals.SIGKILL)
                ended = self.wait_process(handle, timeout=10)
            except (OSError, KernelError) as e:
                report.append(f"could not kill process {handle.pid}, which no record names: {e}")
                continue
            whose = f"container {owner.short_id} ({owner.name})" if owner else "a container that is gone"
            report.append(
                f"killed process {handle.pid} of {whose}: a start was interrupted after it spawned "
                "the process and before it recorded it"
                + ("" if ended is not None else " (it has not ended yet)")
            )
        return report

    def _recover_interrupted(self) -> list[str]:
        """What a daemon killed in the middle of a lifecycle change leaves:

        * a start that mounted the container's root filesystem (and made its
          cgroup) but never ran it: the container is still Created, and its
          next start would find the mount there (EBUSY);
        * a commit that froze the container and never thawed it: it would
          stay paused although nobody paused it.

        Mounts and cgroups of containers that are not running are released;
        a container frozen by a commit is thawed."""
        report = []
        records = self.runtime.containers.all()
        keep = {r.rw_layer for r in records if r.state in (RUNNING, PAUSED)}
        owners = {r.rw_layer: r for r in records}
        for record in records:
            if record.state in (RUNNING, PAUSED) or not self.kernel.cgroups.exists(record.cgroup):
                continue
            try:
                if self.kernel.cgroups.procs(record.cgroup):
                    # Still a process in it (one that would not die above):
                    # its mount stays too (it is in use).
                    keep.add(record.rw_layer)
                    report.append(
                        f"container {record.short_id} ({record.name}) has processes but was never recorded "
                        "as started (an interrupted start): left as it is, remove it with rm -f"
                    )
                    continue
                self.kernel.cgroups.remove(record.cgroup)
                report.append(f"removed the cgroup of container {record.short_id}: a start was interrupted")
            except (OSError, KernelError) as e:
                report.append(f"could not remove the cgroup of container {record.short_id}: {e}")
        for mount in self.kernel.unionfs.mounted():
            if mount.upper in keep:
                continue
            owner = owners.get(mount.upper)
            try:
                self.kernel.unionfs.unmount(mount)
            except (OSError, KernelError) as e:
                report.append(f"could not unmount {mount.target} (left by an interrupted start): {e}")
                continue
            what = f"container {owner.short_id} ({owner.name})" if owner else "a container that is gone"
            report.append(f"unmounted the root filesystem of {what}: a start was interrupted")
        for record in records:
            try:
                with self.changing(record.id) as current:
                    if self.runtime.thaw_interrupted_commit(current):
                        report.append(
                            f"thawed container {record.short_id} ({record.name}): a commit froze it "
                            "and was interrupted"
                        )
            except (OSError, KernelError, Conflict, NoSuchContainer) as e:
                report.append(f"could not thaw container {record.short_id} after an interrupted commit: {e}")
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
        for found in self.runtime.containers.all():
            if found.state not in (RUNNING, PAUSED):
                continue
            with self.watch(found.id).lock:
                try:
                    record = self.runtime.containers.find(found.id)
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
                except NoSuchContainer:
                    continue


class MonitoredExits(ExitWatch):
    """The daemon's way: each running container's exit monitor records its
    exit (the exit phase); a plan that ends a process -- stop, kill -- only
    sends the signal, and its waits wait for the monitor's news."""

    records_exits = False

    def __init__(self, engine: Engine):
        self.engine = engine

    def waiter(self, record: ContainerRecord) -> Waiter:
        w = self.engine.watch(record.id)
        seen = w.exits  # before any step sends a signal

        def wait(ctx: LifecycleContext, timeout: float | None) -> ExitStatus | None:
            # The plan holds the container's lock, which the monitor needs to
            # record the exit: waiting on the container's turn lets go of it.
            with w.lock:
                exited = w.turn.wait_for(lambda: w.exits > seen or w.removed, timeout)
            ctx.reload()  # the monitor changed the record meanwhile
            return ExitStatus(w.last_exit_code) if exited else None

        return wait


def _signal_number(text: str) -> int:
    """``SIGTERM``, ``TERM`` or ``15``; a number must name a signal (1 to
    SIGRTMAX) -- kill(2) would refuse the others, and that is the client's
    mistake, not the daemon's."""
    text = str(text).strip().upper()
    if text.isdecimal():
        number = int(text)
        if not 1 <= number <= signals.SIGRTMAX:
            from .errors import BadParameter

            raise BadParameter(f"Invalid signal: {text}")
        return number
    name = text if text.startswith("SIG") else "SIG" + text
    try:
        return int(signals.Signals[name])
    except KeyError:
        from .errors import BadParameter

        raise BadParameter(f"Invalid signal: {text}") from None


signal_number = _signal_number


def _seconds_since(start: str, end: str) -> float:
    """How long a container ran: between two of Docker's timestamps."""
    from datetime import datetime

    try:
        parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
        return (parse(end) - parse(start)).total_seconds()
    except ValueError:
        return 0.0
