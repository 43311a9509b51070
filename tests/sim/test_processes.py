"""The simulated process table: PIDs, parents, zombies, orphans, signals, exec."""

from __future__ import annotations

import os
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_kernel_helpers import Box, boot, say
from stepbox.backends.sim.namespaces import RESERVED_PIDS, PidNamespace
from stepbox.core.kernel.errors import ExecFailed
from stepbox.core.kernel.processes import ExitStatus


@pytest.fixture
def k():
    return boot()


def test_first_process_of_a_new_pid_namespace_is_pid_1(k, tmp_path):
    box = Box(k, tmp_path)
    seen = {}

    def prog(sys):
        seen["pid"], seen["ppid"] = sys.getpid(), sys.getppid()
        return 0
        yield

    assert k.namespaces.pid_in_namespace(box.pid) == 1
    assert box.run(prog) == ExitStatus(0)
    assert seen == {"pid": 1, "ppid": 0}  # its parent is outside the namespace
    assert box.proc.nspids[-1] == 1 and box.proc.nspids[0] == box.pid > 1


def test_children_are_numbered_inside_the_namespace(k, tmp_path):
    box = Box(k, tmp_path)
    seen = []

    def child(sys):
        seen.append((sys.getpid(), sys.getppid()))
        return 0
        yield

    def prog(sys):
        pids = [sys.fork(child), sys.fork(child)]
        for _ in pids:
            yield from sys.waitpid(-1)
        seen.append(tuple(pids))
        return 0

    assert box.run(prog).code == 0
    assert seen == [(2, 1), (3, 1), (2, 3)]


def test_nested_pid_namespace_nspid_lists_every_level(k, tmp_path):
    outer = Box(k, tmp_path)
    ns = PidNamespace("pid", 1, parent=outer.proc.pidns)
    proc = k.procs.create(outer.proc, ns, outer.proc.cgroup, like=outer.proc)
    assert len(proc.nspids) == 3 and proc.nspids[1:] == (2, 1)
    assert proc.pid_in(outer.proc.pidns) == 2 and proc.pid_in(ns) == 1


def test_pid_numbers_increase_and_are_not_reused_at_once(k):
    ns = PidNamespace("pid", 1, parent=None)
    first = ns.alloc_pid()
    ns.tasks[first] = object()
    second = ns.alloc_pid()
    del ns.tasks[first]  # the first one is free again...
    third = ns.alloc_pid()
    assert (first, second, third) == (1, 2, 3)  # ...but not handed out again yet


def test_pid_allocation_wraps_at_pid_max_to_reserved_pids():
    ns = PidNamespace("pid", 1, parent=None, pid_max=RESERVED_PIDS + 5)
    ns.last_pid = RESERVED_PIDS + 3
    ns.tasks[RESERVED_PIDS] = object()
    assert ns.alloc_pid() == RESERVED_PIDS + 4
    assert ns.alloc_pid() == RESERVED_PIDS + 1  # wrapped, skipping the one in use


def test_zombie_until_reaped(k, tmp_path):
    box = Box(k, tmp_path)
    states = []

    def child(sys):
        return 7
        yield

    def prog(sys):
        pid = sys.fork(child)
        yield from sys.sleep(1)
        states.append(box_state(pid))
        res = yield from sys.waitpid(pid)
        states.append(os.waitstatus_to_exitcode(res.status))
        states.append(box_state(pid))
        return 0

    def box_state(nr):
        p = box.proc.pidns.tasks.get(nr)
        return p.state if p else None

    assert box.run(prog).code == 0
    assert states == ["Z", 7, None]


def test_orphans_are_reparented_to_the_namespace_init(k, tmp_path):
    box = Box(k, tmp_path)
    seen = []

    def grandchild(sys):
        yield from sys.sleep(2)
        seen.append(sys.getppid())
        return 0

    def child(sys):
        sys.fork(grandchild)
        return 0  # exits at once: grandchild is orphaned
        yield

    def init(sys):
        yield from sys.waitpid(sys.fork(child))
        res = yield from sys.waitpid(-1)  # the orphan is now init's child
        seen.append(res.pid)
        return 0

    assert box.run(init).code == 0
    assert seen == [1, 3]


def test_when_init_dies_every_process_in_the_namespace_is_killed(k, tmp_path):
    box = Box(k, tmp_path)
    pids = []

    def sleeper(sys):
        yield from sys.sleep(float("inf"))

    def init(sys):
        sys.fork(sleeper)
        sys.fork(sleeper)
        yield from sys.sleep(0.1)
        pids.extend(p.pid for p in box.proc.children)
        return 5

    assert box.run(init) == ExitStatus(5)
    assert len(pids) == 2
    assert not any(k.processes.exists(pid) for pid in pids)
    assert box.proc.pidns.dead
    assert k.cgroups.procs(box.cgroup) == []


def test_sigterm_from_the_host_is_ignored_by_an_init_without_handler(k, tmp_path):
    box = Box(k, tmp_path)

    def init(sys):
        yield from sys.sleep(float("inf"))

    h = box.exec(init)
    h.signal(signal.SIGTERM)
    assert h.wait(timeout=10) is None  # docker stop's 10 seconds run out
    h.signal(signal.SIGKILL)
    assert h.wait() == ExitStatus(137, signal.SIGKILL)


def test_init_with_a_handler_gets_sigterm(k, tmp_path):
    box = Box(k, tmp_path)

    def init(sys):
        sys.signal(signal.SIGTERM, lambda sig: sys.exit(42))
        yield from sys.pause()
        return 1

    h = box.exec(init)
    h.wait(timeout=0)
    h.signal(signal.SIGTERM)
    assert h.wait() == ExitStatus(42)


def test_signals_to_init_from_inside_are_ignored_even_sigkill(k, tmp_path):
    box = Box(k, tmp_path)

    def child(sys):
        sys.kill(1, signal.SIGKILL)
        sys.kill(1, signal.SIGTERM)
        return 0
        yield

    def init(sys):
        yield from sys.waitpid(sys.fork(child))
        say(sys, "survived\n")
        return 0

    assert box.run(init).code == 0
    assert box.stdout() == "survived\n"


def test_default_actions_and_exit_status_of_killed_child(k, tmp_path):
    box = Box(k, tmp_path)
    statuses = []

    def victim(sys):
        yield from sys.sleep(100)
        return 0

    def init(sys):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            pid = sys.fork(victim)
            yield from sys.sleep(0.01)
            sys.kill(pid, sig)
            res = yield from sys.waitpid(pid)
            statuses.append(os.waitstatus_to_exitcode(res.status))
        return 0

    assert box.run(init).code == 0
    # Terminated by TERM, INT, HUP (negative = signal); SIGCHLD is ignored.
    assert statuses == [-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP, 0]


def test_handlers_and_sig_ign(k, tmp_path):
    box = Box(k, tmp_path)
    got = []

    def init(sys):
        sys.signal(signal.SIGUSR1, got.append)
        sys.signal(signal.SIGUSR2, signal.SIG_IGN)
        sys.kill(sys.getpid(), signal.SIGUSR1)  # PID 1 may signal itself if it handles it
        sys.kill(sys.getpid(), signal.SIGUSR2)
        with pytest.raises(OSError):
            sys.signal(signal.SIGKILL, signal.SIG_IGN)
        return 0
        yield

    assert box.run(init).code == 0
    assert got == [signal.SIGUSR1]


def test_stop_and_continue(k, tmp_path):
    box = Box(k, tmp_path)
    ticks = []

    def ticker(sys):
        for i in range(6):
            ticks.append(i)
            yield from sys.sleep(1)
        return 0

    def init(sys):
        pid = sys.fork(ticker)
        yield from sys.sleep(1.5)
        sys.kill(pid, signal.SIGSTOP)
        before = len(ticks)
        yield from sys.sleep(10)
        assert len(ticks) == before  # no progress while stopped
        sys.kill(pid, signal.SIGCONT)
        yield from sys.waitpid(pid)
        return 0

    assert box.run(init).code == 0
    assert ticks == list(range(6))


def test_exec_not_found_in_path_is_127_with_dockers_message(k, tmp_path):
    box = Box(k, tmp_path)
    with pytest.raises(ExecFailed) as err:
        box.handle.exec(["nosuch"], {"PATH": "/bin"})
    assert err.value.exit_code == 127
    assert str(err.value) == 'exec: "nosuch": executable file not found in $PATH'
    assert box.handle.wait() == ExitStatus(127)


def test_exec_missing_absolute_path_and_not_executable(k, tmp_path):
    box = Box(k, tmp_path)
    with pytest.raises(ExecFailed) as err:
        box.handle.exec(["/nosuch"], {})
    assert err.value.exit_code == 127 and "no such file or directory" in str(err.value)
    box2 = Box(k, tmp_path)
    box2.fs.write("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n", mode=0o644)
    with pytest.raises(ExecFailed) as err:
        box2.handle.exec(["/etc/passwd"], {})
    assert err.value.exit_code == 126 and "permission denied" in str(err.value)
    box3 = Box(k, tmp_path)
    box3.fs.write("/bin/junk", b"\x00\x01 not a program", mode=0o755)
    with pytest.raises(ExecFailed) as err:
        box3.handle.exec(["junk"], {"PATH": "/bin"})
    assert err.value.exit_code == 126 and "exec format error" in str(err.value)


def test_execve_replaces_the_program_and_runs_scripts(k, tmp_path):
    box = Box(k, tmp_path)

    def interp(sys):
        say(sys, "interp " + " ".join(sys.argv) + "\n")
        return 9
        yield

    box.install("/bin/interp", interp)
    box.fs.write("/bin/script", b"#!/bin/interp -x\nignored\n", mode=0o755)

    def init(sys):
        yield from sys.execve("/bin/script", ["script", "a"], {"K": "v"})
        return 1  # never reached

    assert box.run(init) == ExitStatus(9)
    assert box.stdout() == "interp /bin/interp -x /bin/script a\n"
    assert box.proc.state in "ZX"


def test_fork_runs_the_child_program_with_inherited_fds(k, tmp_path):
    box = Box(k, tmp_path)

    def child(sys):
        say(sys, "child\n")
        return 0
        yield

    def init(sys):
        pid = sys.fork(child)
        yield from sys.waitpid(pid)
        say(sys, "parent\n")
        return 0

    assert box.run(init).code == 0
    assert box.stdout() == "child\nparent\n"


def test_waitpid_errors_and_wnohang(k, tmp_path):
    box = Box(k, tmp_path)
    out = []

    def child(sys):
        yield from sys.sleep(5)
        return 0

    def init(sys):
        try:
            yield from sys.waitpid(-1)
        except ChildProcessError:
            out.append("ECHILD")
        pid = sys.fork(child)
        out.append((yield from sys.waitpid(pid, 1)))  # WNOHANG
        res = yield from sys.waitpid(pid)
        out.append(res.pid)
        return 0

    assert box.run(init).code == 0
    assert out == ["ECHILD", None, 2]


def test_reattach_finds_the_process_only_in_the_same_kernel(k, tmp_path):
    box = Box(k, tmp_path)
    rec = box.handle.record()
    again = k.processes.reattach(rec)
    assert again is not None and again.pid == box.pid
    assert boot().processes.reattach(rec) is None
    assert k.processes.reattach({**rec, "pid": 99999}) is None


def test_list_and_exists(k, tmp_path):
    box = Box(k, tmp_path)
    infos = {i.pid: i for i in k.processes.list()}
    assert infos[1].argv == ("/sbin/init",) and infos[1].ppid == 0
    me = infos[box.pid]
    assert me.ns_pid == 1 and me.ppid == k.engine.pid and me.cgroup == f"/{box.cgroup}"
    assert me.namespaces["uts"] != infos[1].namespaces["uts"]
    assert k.processes.exists(box.pid) and not k.processes.exists(123456)


def test_exec_in_joins_namespaces_and_cgroup(k, tmp_path):
    box = Box(k, tmp_path)
    seen = {}

    def init(sys):
        yield from sys.sleep(float("inf"))

    def probe(sys):
        seen["pid"] = sys.getpid()
        seen["host"] = sys.gethostname()
        return 0
        yield

    box.exec(init)
    box.install("/bin/probe", probe)
    h = k.processes.exec_in(
        box.pid,
        ["probe"],
        {"PATH": "/bin"},
        "/",
        stdio=__import__("stepbox.core.kernel.processes", fromlist=["Stdio"]).Stdio(
            str(tmp_path / "o"), str(tmp_path / "e")
        ),
    )
    assert h.wait() == ExitStatus(0)
    assert seen == {"pid": 2, "host": box.name}
    assert h.proc.ns is box.proc.ns and h.proc.pidns is box.proc.pidns
    assert h.proc.cgroup is box.proc.cgroup


fork_trees = st.recursive(st.just(()), lambda kids: st.lists(kids, max_size=3).map(tuple), max_leaves=12)


@settings()
@given(tree=fork_trees, exit_codes=st.lists(st.integers(0, 255), min_size=20, max_size=20))
def test_any_fork_tree_ends_with_every_process_reaped(tree, exit_codes, tmp_path_factory):
    k = boot()
    box = Box(k, tmp_path_factory.mktemp("t"))
    codes = iter(exit_codes * 10)
    seen_pids = []

    def make(children):
        def prog(sys):
            seen_pids.append(sys.getpid())
            for sub in children:
                sys.fork(make(sub))
            for _ in children:
                yield from sys.waitpid(-1)
            return next(codes)

        return prog

    status = box.run(make(tree))
    assert status.signal is None
    assert len(seen_pids) == len(set(seen_pids))  # PIDs are unique
    assert [p.pid for p in k.procs.all()] == [1]  # only the host's init remains
    assert k.cgroups.stats(box.cgroup).pids_current == 0


def test_a_lifecycle_is_traced_with_the_syscalls_linux_would_make(k, tmp_path):
    mark = k.tracer.mark()
    box = Box(k, tmp_path)

    def prog(sys):
        return 0
        yield

    box.run(prog)
    calls = [op.call for op in k.tracer.since(mark)]
    ops = [str(op) for op in k.tracer.since(mark)]
    order = ["clone", "sethostname", "mount", "pivot_root", "umount2", "ioctl", "capset", "execve"]
    positions = [calls.index(c) for c in order]
    assert positions == sorted(positions)
    assert any(
        o.startswith(
            "clone(CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD"
        )
        for o in ops
    )
    assert f'sethostname("{box.name}", {len(box.name)})' in ops
    assert any(
        o.startswith('mount("proc", "/var/lib/stepbox/test/')
        and o.endswith('/merged/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)')
        for o in ops
    )
    assert (
        "capset({version=_LINUX_CAPABILITY_VERSION_3}, {effective=0xa80425fb, "
        "permitted=0xa80425fb, inheritable=0})" in ops
    )


def test_busybox_is_the_hosts_static_binary_or_the_stand_in(k):
    found = k.busybox()
    assert found is not None
    data, applets = found
    from stepbox.backends.sim.userland import find_program

    assert find_program(data, "sh") is not None
    assert "sh" in applets and "ls" in applets


def test_create_kernel_with_a_state_dir(tmp_path):
    from stepbox.backends.sim import create_kernel

    k = create_kernel(str(tmp_path))
    assert k.name == "sim" and k.namespaces.hostname(1) == "sim-host"
    assert [p.pid for p in k.processes.list()] == [1]


def test_signal_after_exit_is_a_no_op_and_the_status_stays(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        return 4
        yield

    assert box.run(prog) == ExitStatus(4)
    assert not k.processes.exists(box.pid)  # the host's init reaped it at once
    box.handle.signal(signal.SIGKILL)  # an undo step: still fine
    assert box.handle.wait() == ExitStatus(4)


def test_path_search_skips_missing_and_unexecutable_candidates(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        say(sys, sys.argv[0] + "\n")
        return 0
        yield

    data = __import__("sim_kernel_helpers").program(k, prog)
    box.fs.mkdir("/usr")
    box.fs.mkdir("/usr/bin")
    box.fs.write("/usr/bin/tool", data, mode=0o644)  # found first, but not executable
    box.fs.write("/bin/tool", data, mode=0o755)
    box.handle.exec(["tool"], {"PATH": "/nope/deeper:/usr/local/bin:/usr/bin:/bin"})
    assert box.handle.wait() == ExitStatus(0)
    assert box.stdout() == "tool\n"
    assert box.proc.exe == "/bin/tool"
