"""A volume whose driver mounts a filesystem (``-o type=tmpfs``) stays mounted
while it has users -- counted as moby's local driver counts them -- on the
simulator and the real kernel.

The race this closes (tracker issue 11): container A uses a tmpfs volume; B,
sharing it, is half-way through its start (it has readied the volume on the
host, it is not running yet) when A exits.  The old rule, "unmount when no
*running* container uses it", unmounted the volume under B, which then bound
the empty directory below it.  The tests make the race happen on purpose:
B's start is walked step by step and A is killed between two of its steps.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.record import RUNNING
from stepbox.core.kernel.errors import ExecFailed

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.core.engines import runtime_on

TMPFS = {"type": "tmpfs", "device": "tmpfs", "o": "size=4m"}
BACKENDS = [
    "sim",
    pytest.param("linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]


def _mounted(runtime, volume) -> bool:
    return runtime.kernel.host_mounts.is_mounted(volume.mountpoint)


def _start_until_after(runtime, record, key: str):
    """B's start, walked to just after the step ``key``: the stepper, to finish."""
    stepper = runtime.stepper(record, plan.start_plan(record))
    while not stepper.done:
        step = stepper.next_step
        stepper.step()
        if step.key == key:
            return stepper
    raise AssertionError(f"no step {key} in the start plan")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_exit_does_not_unmount_a_volume_a_starting_container_has_readied(backend):
    runtime, cleanup = runtime_on(backend)
    try:
        volume, _ = runtime.volumes.create("shared", options=TMPFS)
        a = runtime.create(ContainerConfig(image="busybox", cmd=("sleep", "1000"), binds=("shared:/d",)))
        runtime.start(a)
        runtime.volumes.files(volume).write("/f", b"from-a\n")  # in the tmpfs A's start mounted

        b = runtime.create(ContainerConfig(image="busybox", cmd=("cat", "/d/f"), binds=("shared:/d",)))
        stepper = _start_until_after(runtime, b, "volumes_on_host")
        assert runtime.volumes.users(volume) == {a.id, b.id}
        runtime.kill(runtime.get(a.id))  # A exits while B is half-way through its start
        assert runtime.get(a.id).state != RUNNING
        assert _mounted(runtime, volume), "A's exit unmounted the volume B has readied"
        assert runtime.volumes.users(volume) == {b.id}
        stepper.run()
        assert runtime.wait(b) == 0, runtime.logs(b)
        assert runtime.logs(b)[0] == b"from-a\n"  # B saw the tmpfs, not the directory below it
        assert not _mounted(runtime, volume), "the last user's exit unmounts the volume"
        assert runtime.volumes.users(volume) == set()
    finally:
        cleanup()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_start_that_fails_after_readying_the_volume_releases_it_once(backend):
    """The undo of a failed start releases the volume for that container only:
    a running user keeps it mounted."""
    runtime, cleanup = runtime_on(backend)
    try:
        volume, _ = runtime.volumes.create("shared", options=TMPFS)
        a = runtime.create(ContainerConfig(image="busybox", cmd=("sleep", "1000"), binds=("shared:/d",)))
        runtime.start(a)
        b = runtime.create(ContainerConfig(image="busybox", cmd=("/no/such/program",), binds=("shared:/d",)))
        with pytest.raises(ExecFailed):
            runtime.start(b)
        assert runtime.volumes.users(volume) == {a.id}
        assert _mounted(runtime, volume)
        runtime.kill(runtime.get(a.id))
        assert not _mounted(runtime, volume)
    finally:
        cleanup()


def test_a_program_counts_the_running_containers_and_recount_unmounts_what_nobody_uses():
    """Across restarts: a new program counts the volume's users from the
    records; ``recount`` (the daemon's start) unmounts a volume a crash left
    mounted for nobody, and keeps one a running container uses."""
    runtime, cleanup = runtime_on("sim", persistent=True)
    try:
        used, _ = runtime.volumes.create("used", options=TMPFS)
        orphan, _ = runtime.volumes.create("orphan", options=TMPFS)
        a = runtime.create(ContainerConfig(image="busybox", cmd=("sleep", "1000"), binds=("used:/d",)))
        runtime.start(a)
        runtime.volumes.use(orphan, "a start that was killed")  # mounted; its release never came
        runtime.volumes._users.clear()  # what a new program knows: nothing yet
        assert runtime.volumes.recount() == ["unmounted volume orphan: no running container uses it"]
        assert not _mounted(runtime, orphan)
        assert _mounted(runtime, used) and runtime.volumes.users(used) == {a.id}
        runtime.volumes._users.clear()
        runtime.kill(runtime.get(a.id))  # first touch after the "restart": counted from the records
        assert not _mounted(runtime, used)
    finally:
        cleanup()


class SharedVolumes(RuleBasedStateMachine):
    """Containers sharing two tmpfs volumes, created, started (some left
    half-way through their start), exited and removed in any order: a
    volume is mounted exactly while some container has readied it and not
    yet exited -- and each container that runs sees the volume's data."""

    backend = "sim"

    def __init__(self):
        super().__init__()
        self.runtime, self._cleanup = runtime_on(self.backend)
        self.volumes = {n: self.runtime.volumes.create(n, options=TMPFS)[0] for n in ("v1", "v2")}
        self.created: dict[str, str] = {}  # container id -> volume name
        self.starting: dict[str, object] = {}  # container id -> its stepper, stopped half-way
        self.running: set[str] = set()

    def teardown(self):
        for stepper in self.starting.values():
            stepper.abort()
        self._cleanup()

    @rule(name=st.sampled_from(["v1", "v2"]))
    def create(self, name):
        record = self.runtime.create(
            ContainerConfig(image="busybox", cmd=("sleep", "1000"), binds=(f"{name}:/d",))
        )
        self.created[record.id] = name

    def _idle(self):
        return sorted(c for c in self.created if c not in self.starting and c not in self.running)

    @precondition(lambda self: self._idle())
    @rule(data=st.data())
    def begin_start(self, data):
        cid = data.draw(st.sampled_from(self._idle()))
        self.starting[cid] = _start_until_after(self.runtime, self.runtime.get(cid), "volumes_on_host")

    @precondition(lambda self: self.starting)
    @rule(data=st.data())
    def finish_start(self, data):
        cid = data.draw(st.sampled_from(sorted(self.starting)))
        self.starting.pop(cid).run()
        self.running.add(cid)

    @precondition(lambda self: self.running)
    @rule(data=st.data())
    def exit(self, data):
        cid = data.draw(st.sampled_from(sorted(self.running)))
        self.runtime.kill(self.runtime.get(cid))
        self.running.discard(cid)

    @precondition(lambda self: self._idle())
    @rule(data=st.data())
    def remove(self, data):
        cid = data.draw(st.sampled_from(self._idle()))
        self.runtime.remove(self.runtime.get(cid))
        del self.created[cid]

    @invariant()
    def mounted_exactly_while_used(self):
        for name, volume in self.volumes.items():
            holders = {c for c in (*self.starting, *self.running) if self.created[c] == name}
            assert self.runtime.volumes.users(volume) == holders
            assert _mounted(self.runtime, volume) == bool(holders), name

    @invariant()
    def running_ones_see_the_volume(self):
        for cid in self.running:
            name = self.created[cid]
            marker = f"/{cid}"
            self.runtime.volumes.files(self.volumes[name]).write(marker, b"x")
            code, out, err = self.runtime.exec(self.runtime.get(cid), ["cat", f"/d{marker}"])
            assert (code, out) == (0, b"x"), (name, err)


TestSharedVolumes = SharedVolumes.TestCase
TestSharedVolumes.settings = settings(max_examples=15, stateful_step_count=10, deadline=None)


class SharedVolumesOnLinux(SharedVolumes):
    backend = "linux"


# Real containers: a few short sequences.
TestSharedVolumesOnLinux = pytest.mark.linux(
    pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)(SharedVolumesOnLinux.TestCase)
)
TestSharedVolumesOnLinux.settings = settings(max_examples=4, stateful_step_count=8, deadline=None)
