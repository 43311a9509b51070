"""The lifecycle as a state machine: any order of create/start/exec/kill/stop/rm.

Invalid transitions raise a typed error (Docker's 409 Conflict), the records
always agree with the kernel, and after everything is removed nothing is left:
no layers of the containers, no cgroups, no mounts, no processes.
"""

import signal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.errors import Conflict, NoSuchContainer
from stepbox.core.container.record import CREATED, EXITED, RUNNING

from .engines import sim_runtime

COMMANDS = [("sleep", "1000"), ("true",), ("sh", "-c", "exit 3"), ("sh", "-c", "sleep 5 & wait")]


class Lifecycle(RuleBasedStateMachine):
    containers = Bundle("containers")

    def __init__(self):
        super().__init__()
        self.runtime, self._cleanup = sim_runtime()
        self.model: dict[str, str] = {}  # id -> expected state

    def teardown(self):
        try:
            for record in self.runtime.list(all_=True):
                self.runtime.remove(record, force=True)
            kernel = self.runtime.kernel
            assert kernel.cgroups.list() == []
            assert kernel.unionfs.mounted() == []
            assert [layer for layer in kernel.unionfs.layers() if len(layer) != 64] == []
            leftover = [p for p in kernel.processes.list() if p.pid != 1]
            assert leftover == [], leftover
        finally:
            self._cleanup()

    @rule(target=containers, command=st.sampled_from(COMMANDS))
    def create(self, command):
        record = self.runtime.create(ContainerConfig(image="busybox", cmd=command))
        self.model[record.id] = CREATED
        return record.id

    @rule(cid=containers)
    def start(self, cid):
        if cid not in self.model:
            with pytest.raises(NoSuchContainer):
                self.runtime.get(cid)
            return
        record = self.runtime.get(cid)
        self.runtime.start(record)
        self.model[cid] = RUNNING

    @rule(cid=containers)
    def wait(self, cid):
        if cid in self.model and self.model[cid] == RUNNING:
            record = self.runtime.get(cid)
            if record.config.cmd[0] != "sleep":  # would wait 1000 virtual seconds: fine but slow
                self.runtime.wait(record)
                self.model[cid] = EXITED

    @rule(cid=containers)
    def exec_echo(self, cid):
        if cid not in self.model:
            return
        record = self.runtime.get(cid)
        if record.state != RUNNING:
            with pytest.raises(Conflict, match="is not running"):
                self.runtime.exec(record, ["echo", "hi"])
            return
        code, out, _ = self.runtime.exec(record, ["echo", "hi"])
        assert (code, out) == (0, b"hi\n")

    @rule(cid=containers)
    def kill(self, cid):
        if cid not in self.model:
            return
        record = self.runtime.get(cid)
        if record.state != RUNNING:
            with pytest.raises(Conflict, match="is not running"):
                self.runtime.kill(record)
            return
        self.runtime.kill(record, signal.SIGKILL)
        assert record.state == EXITED and record.exit_code == 137
        self.model[cid] = EXITED

    @rule(cid=containers)
    def stop(self, cid):
        if cid not in self.model:
            return
        record = self.runtime.get(cid)
        self.runtime.stop(record, timeout=1)
        assert record.state != RUNNING
        if self.model[cid] == RUNNING:
            self.model[cid] = EXITED

    @rule(cid=consumes(containers), force=st.booleans())
    def rm(self, cid, force):
        if cid not in self.model:
            return
        record = self.runtime.get(cid)
        if record.state == RUNNING and not force:
            with pytest.raises(Conflict, match="cannot remove a running container"):
                self.runtime.remove(record)
            self.runtime.remove(record, force=True)
        else:
            self.runtime.remove(record, force=force)
        del self.model[cid]
        kernel = self.runtime.kernel
        assert not kernel.unionfs.has_layer(record.rw_layer)
        assert not kernel.unionfs.has_layer(record.init_layer)
        assert not kernel.cgroups.exists(f"stepbox/{cid}")

    @invariant()
    def records_agree_with_the_kernel(self):
        kernel = self.runtime.kernel
        records = {r.id: r for r in self.runtime.list(all_=True)}
        assert set(records) == set(self.model)
        for cid, record in records.items():
            if record.state == RUNNING and not kernel.processes.exists(record.pid):
                # It ended after its own refresh (another container's refresh
                # let the scheduler run): the next look must record the exit.
                self.runtime.refresh(record)
                assert record.state == EXITED, record
            if record.state == RUNNING:
                assert record.pid and kernel.processes.exists(record.pid)
                assert record.mount and kernel.cgroups.exists(record.cgroup)
            else:
                assert record.state in (CREATED, EXITED)
                assert record.mount is None and record.pid == 0
                assert self.model[cid] in (record.state, RUNNING)  # RUNNING may have exited by itself
                self.model[cid] = record.state


TestLifecycle = Lifecycle.TestCase
