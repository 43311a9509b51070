"""The shell as a process manager on the simulated kernel: fork, exec,
wait, signals, limits -- and the ways a script is given to ``sh``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.backends.sim.userland.sh_builtins import shell_quote
from stepbox.core.kernel.cgroups import CgroupLimits


def test_fork_failure_under_pids_max_is_ashs_fatal_error(box):
    r = box.sh(
        "trap 'echo exit trap' EXIT; sleep 9 & sleep 9 & sleep 9 & echo never",
        limits=CgroupLimits(pids_max=3),
    )
    assert r.stderr == "sh: can't fork: Resource temporarily unavailable\n"
    assert r.stdout == "exit trap\n"
    assert r.status == 2


def test_fork_bomb_is_stopped_by_pids_max(box):
    r = box.sh("f() { f | f & }; f; sleep 1; echo survived", limits=CgroupLimits(pids_max=20))
    assert r.stdout == "survived\n"
    assert "can't fork: Resource temporarily unavailable" in r.stderr


def test_tail_of_an_endless_line_is_oom_killed(box):
    r = box.sh("tail /dev/zero; echo status $?", limits=CgroupLimits(memory_bytes=4 << 20))
    assert r.stdout == "status 137\n"
    assert r.stderr == "Killed\n"
    assert r.oom_killed


def test_cat_streams_without_holding_memory(box):
    r = box.sh("cat /dev/zero | head -c 1000000 | wc -c", limits=CgroupLimits(memory_bytes=4 << 20))
    assert r.stdout == "1000000\n" and not r.oom_killed


def test_a_busy_loop_can_be_preempted_and_killed(box):
    r = box.sh("while :; do :; done & sleep 1; kill $!; wait $!; echo $?")
    assert r.stdout == "143\n" and r.stderr == "Terminated\n"


def test_busy_loop_is_throttled_by_cpu_quota(box):
    # the same work under --cpus 0.5 needs about twice the virtual time
    def elapsed(limits):
        r = box.sh("i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo done", limits=limits)
        assert r.stdout == "done\n"
        return box.k.sched.now

    t0 = box.k.sched.now
    free = elapsed(None) - t0
    t1 = box.k.sched.now
    slow = elapsed(CgroupLimits.from_cpus(0.01)) - t1
    assert slow > 2 * free


def test_killed_child_status_is_128_plus_signal(box):
    r = box.sh("sh -c 'kill -USR1 $$'; echo $?; sh -c 'kill -PIPE $$'; echo $?")
    assert r.stdout == "138\n141\n"
    assert r.stderr == "User defined signal 1\n"  # SIGPIPE is not announced


def test_exec_replaces_the_shell(box):
    # a NOEXEC applet (ps) replaces the shell without execve: busybox's ps
    # then shows the shell's command line after its name
    out = box.sh("exec ps; echo never").stdout
    assert out == "PID   USER     COMMAND\n    1 root     {ps} sh -c exec ps; echo never\n"
    assert box.sh("exec cat /proc/self/cmdline; echo never").stdout == "cat\0/proc/self/cmdline\0"


def test_dollar_dollar_is_the_shell_even_in_a_subshell(box):
    assert box.sh("echo $$; (echo $$); echo $(echo $$)").stdout == "1\n1\n1\n"


def test_script_file_and_line_numbers(box):
    script = b"echo one\ncd /nosuch\nfi\n"
    r = box.run(["sh", "/work/s.sh", "a"], files={"/work/s.sh": script})
    assert r.stdout == "one\n"
    assert r.stderr == (
        "/work/s.sh: cd: line 2: can't cd to /nosuch: No such file or directory\n"
        "/work/s.sh: line 3: syntax error: unexpected \"fi\"\n"
    )
    assert r.status == 2


def test_script_from_stdin_and_positional_name(box):
    r = box.run(["sh", "-s", "x", "y"], stdin=b"echo $# $1 $2\n")
    assert r.stdout == "2 x y\n"
    r = box.run(["sh", "-c", 'echo "$0 $1"; nosuch', "name", "arg"])
    assert r.stdout == "name arg\n"
    assert r.stderr == "name: line 0: nosuch: not found\n"


def test_missing_script_file(box):
    r = box.run(["sh", "nosuch.sh"])
    assert (r.stderr, r.status) == ("sh: can't open 'nosuch.sh': No such file or directory\n", 2)


def test_shebang_and_plain_scripts(box):
    files = {"/bin/withbang": b"#!/bin/sh\necho bang $1\n", "/bin/plain": b"echo plain $1\n"}
    assert box.sh("withbang x; plain y", files=files).stdout == "bang x\nplain y\n"


def test_big_heredoc_does_not_deadlock_on_the_pipe(box):
    body = "x" * 100_000
    r = box.sh(f"cat <<EOF | wc -c\n{body}\nEOF\n")
    assert r.stdout == f"{len(body) + 1}\n"


def test_trap_on_a_signal_from_outside(box):
    r = box.sh("trap 'echo got TERM; exit 3' TERM; sh -c 'kill -TERM $PPID'; sleep 5; echo not reached")
    assert (r.stdout, r.status) == ("got TERM\n", 3)


def test_wait_for_all_jobs(box):
    r = box.sh("for i in 1 2 3; do (sleep $i; echo job $i) & done; wait; echo all done")
    assert r.stdout == "job 1\njob 2\njob 3\nall done\n"


def test_background_jobs_read_dev_null(box):
    r = box.run(["sh", "-c", "cat & wait; echo done"], stdin=b"not for the job\n")
    assert r.stdout == "done\n"


def test_read_builtin_leaves_the_rest_of_stdin(box):
    r = box.run(["sh", "-c", "read a; read b; cat"], stdin=b"1\n2\n3\n4\n")
    assert r.stdout == "3\n4\n"


@settings(max_examples=15)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF, exclude_categories=["Cs"]),
        max_size=20,
    )
)
def test_quoted_arguments_reach_programs_unchanged(tmp_path_factory, text):
    """What ``shell_quote`` makes, the shell turns back into one argument:
    printf (an external applet here) prints it back unchanged."""
    from userland_box import BusyboxBox

    box = _shared_box(tmp_path_factory, BusyboxBox)
    r = box.sh("/bin/printf '%s' " + shell_quote(text))
    assert r.stdout == text


_BOX: list = []


def _shared_box(factory, cls):
    if not _BOX:
        _BOX.append(cls(factory.mktemp("quoting")))
    return _BOX[0]


def test_readers_of_endless_devices_can_be_preempted(box):
    # /dev/zero never blocks: the CPU a reader is charged is what lets the
    # scheduler run the shell's `sleep` and `kill`
    r = box.sh(
        "cat /dev/zero > /dev/null & c=$!; tr a b </dev/zero >/dev/null & t=$!;"
        " sleep 0.2; kill $c $t; wait $c; echo $?; wait $t; echo $?"
    )
    assert (r.stdout, r.stderr) == ("143\n143\n", "Terminated\nTerminated\n")
