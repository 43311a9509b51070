"""The "done when" commands of issues #2 and #3, typed as a user would, on
both backends: same command, same output."""

from __future__ import annotations

import re

from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig

STEP_TITLES = [
    "Resolve the image to its layers",
    "Prepare the init layer",
    "Mount the union filesystem",
    "Create the namespaces and the first process",
    "pivot_root",
    "Execute the command",
    "Wait for the container to exit",
    "Remove the container",
]


def test_hostname_and_pid_1(stepbox):
    r = stepbox("run", "--rm", "--hostname", "box1", "busybox", "sh", "-c", "hostname; echo $$")
    assert (r.code, r.out) == (0, "box1\n1\n"), r.err


def test_ps_sees_only_the_container(stepbox):
    r = stepbox("run", "--rm", "busybox", "ps")
    assert r.code == 0, r.err
    header, *rows = r.out.splitlines()
    assert header.split() == ["PID", "USER", "COMMAND"]  # Debian busybox 1.35: no TIME column
    assert [row.split()[0] for row in rows] == ["1"]
    assert rows[0].split()[-1] == "ps"


def test_oom_kill_exits_137_and_is_recorded(stepbox):
    r = stepbox("run", "-m", "8m", "--name", "hog", "busybox", "tail", "/dev/zero")
    assert r.code == 137, r.err
    assert stepbox("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog").out == "true 137\n"


def test_pids_limit_makes_forks_fail(stepbox):
    r = stepbox(
        "run",
        "--rm",
        "--pids-limit",
        "5",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait",
    )
    assert "can't fork: Resource temporarily unavailable" in r.err


def test_diff_shows_added_changed_deleted(stepbox):
    r = stepbox("run", "--name", "w", "busybox", "sh", "-c", "echo hi > /tmp/x; rm /bin/cat")
    assert r.code == 0, r.err
    assert stepbox("diff", "w").out.splitlines() == ["C /bin", "D /bin/cat", "C /tmp", "A /tmp/x"]


def test_step_walks_one_enter_at_a_time(stepbox):
    r = stepbox("step", "busybox", "echo", "hi", input="\n" * 30)
    assert r.code == 0, r.err
    for title in STEP_TITLES:
        assert title in r.out
    # the suite's daemons and walks have no bridge (STEPBOX_BRIDGE=none): loopback only
    config = ContainerConfig(image="busybox", cmd=("echo", "hi"), network="none")
    assert r.out.count("Enter: go on") == len(plan.run_plan(config, remove=True).for_config(config))
    assert "hi" in r.out
    assert stepbox("ps", "-aq").out == ""  # the walk-through cleans up after itself


def test_quitting_a_step_through_undoes_everything(stepbox):
    # nine steps up to spawn: the image, init and rw layers, volumes, confinement, volumes' host side, rootfs, cgroup
    r = stepbox("step", "busybox", "echo", "hi", input="\n" * 9 + "q\n")
    assert r.code == 0, r.err
    assert "everything done so far was undone" in r.out
    # the undo's own kernel operations are shown: the process killed, its cgroup and rootfs gone
    undone = r.out[r.out.index("undone: the kernel operations of the undo") :]
    assert "kill(" in undone and "rmdir(" in undone and 'umount2("$ROOTFS"' in undone
    assert stepbox("ps", "-aq").out == ""


def test_step_shows_short_ids_and_paths_and_whole_overlay_options(stepbox):
    r = stepbox("step", "-y", "busybox", "true")
    assert r.code == 0, r.err
    assert not re.search(r"[0-9a-f]{64}", r.out), "a 64-digit ID was shown"
    mount = r.out[r.out.index('mount("overlay", "$ROOTFS"') :]
    options = "".join(line.strip("│ ") for line in mount.splitlines()[:6])  # folded, never cut
    assert re.search(r"lowerdir=\$ROOT/overlay/layers/[0-9a-f]{12}-init/diff:", options)
    assert re.search(
        r"upperdir=\$ROOT/overlay/layers/[0-9a-f]{12}/diff,workdir=\$ROOT/overlay/mounts/", options
    )
    assert '"$ROOTFS/dev/pts"' in r.out
    assert re.search(r"interfaces \(inside\)\s+lo DOWN\s+lo UP", r.out)
    # the capabilities step, as CapEff: Docker's 14 kept, by name
    assert re.search(
        r"capabilities \(effective\)\s+[0-9a-f]{16}: \d+\s+00000000a80425fb: 14 -- CHOWN ", r.out
    )


def test_logs_inspect_ps_rm(stepbox):
    assert (
        stepbox(
            "run",
            "--name",
            "c1",
            "-e",
            "GREETING=hello",
            "busybox",
            "sh",
            "-c",
            "echo $GREETING; echo oops >&2; exit 3",
        ).code
        == 3
    )
    logs = stepbox("logs", "c1")
    assert (logs.out, logs.err) == ("hello\n", "oops\n")
    # --tail as docker 28 takes it: the daemon reads it, and what is no number means all
    for tail, out in (("0", ""), ("x", "hello\n"), ("-1", "hello\n")):
        logs = stepbox("logs", "--tail", tail, "c1")
        assert (logs.code, logs.out) == (0, out), (tail, logs)
    assert (
        stepbox("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "c1").out
        == "exited 3 /c1\n"
    )
    ps = stepbox("ps", "-a").out
    assert re.search(r"Exited \(3\)", ps) and "c1" in ps
    assert stepbox("ps").out.count("\n") == 1  # header only: nothing running
    assert stepbox("rm", "c1").code == 0
    assert stepbox("inspect", "c1").code != 0


def test_bad_input_is_a_clear_error(stepbox):
    r = stepbox("run", "--rm", "--pull", "never", "nosuchimage")
    assert r.code == 125 and "No such image: nosuchimage:latest" in r.err
    # --pull missing (the default): docker's CLI says so and tries to pull it
    r = stepbox("run", "--rm", "nosuchimage")
    assert r.code == 125 and "Unable to find image 'nosuchimage:latest' locally" in r.err
    r = stepbox("run", "--rm", "-m", "12q", "busybox", "true")
    assert r.code == 125 and "invalid size: '12q'" in r.err
    r = stepbox("run", "--rm", "busybox", "nosuchcommand")
    assert r.code == 127 and 'exec: "nosuchcommand": executable file not found in $PATH' in r.err
    r = stepbox("run", "--rm", "Bad_Name!", "true")
    assert r.code == 125 and "invalid reference format" in r.err
    assert "Traceback" not in r.err
    assert stepbox("ps", "-aq").out == ""


def test_a_name_is_taken_once(stepbox):
    assert stepbox("create", "--name", "dup", "busybox", "true").code == 0
    r = stepbox("create", "--name", "dup", "busybox", "true")
    assert r.code == 1 and 'The container name "/dup" is already in use' in r.err  # docker create: 1


def test_rm_of_a_running_container_needs_force(stepbox):
    # The container runs in the daemon, on either backend: it outlives `run -d`.
    r = stepbox("run", "-d", "--name", "bg", "busybox", "sleep", "1000")
    assert r.code == 0, r.err
    assert stepbox("inspect", "-f", "{{.State.Running}}", "bg").out == "true\n"
    r = stepbox("rm", "bg")
    assert r.code != 0 and "cannot remove a running container" in r.err
    assert stepbox("rm", "-f", "bg").code == 0
    assert stepbox("ps", "-aq").out == ""


def test_pause_freezes_and_unpause_thaws(stepbox):
    assert stepbox("run", "-d", "--name", "p", "busybox", "sleep", "1000").code == 0
    assert stepbox("pause", "p").out == "p\n"
    assert stepbox("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "p").out == "paused true\n"
    assert "(Paused)" in stepbox("ps").out
    assert stepbox("unpause", "p").out == "p\n"
    assert stepbox("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "p").out == "running false\n"
    assert stepbox("rm", "-f", "p").code == 0


def test_a_failed_exec_leaves_the_container_created_after_run_and_step(stepbox):
    """Docker's outcome of a start whose command cannot be executed: the
    container stays Created, with exit code 127 and the error -- the same
    after `run` (the daemon) and after `step --keep` (the step engine), as
    both run one plan with one failure policy.  (Until issue 17, `step`
    unwound the whole container instead.)"""
    error = 'exec: "nosuch": executable file not found in $PATH'
    r = stepbox("run", "--name", "ran", "busybox", "nosuch")
    assert r.code == 127 and error in r.err, r.err
    r = stepbox("step", "-y", "--keep", "--name", "stepped", "busybox", "nosuch")
    assert r.code == 127 and error in r.err, r.err
    assert "the container stays created (exit code 127)" in r.out
    for name in ("ran", "stepped"):
        shown = stepbox("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", name)
        assert shown.out == f"created 127 {error}\n", (name, shown.err)
    # Without --keep the walk is `run --rm`: the failed container is removed.
    r = stepbox("step", "-y", "busybox", "nosuch")
    assert r.code == 127 and error in r.err, r.err
    assert len(stepbox("ps", "-aq").out.split()) == 2  # ran and stepped


def test_step_speaks_chinese_when_asked_or_under_a_chinese_locale(stepbox):
    from stepbox.core.container.in_chinese import text_of

    config = ContainerConfig(image="busybox", cmd=("echo", "hi"), network="none")
    steps = plan.run_plan(config, remove=True).for_config(config).steps
    english = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
    r = stepbox("step", "--lang", "zh", "busybox", "echo", "hi", input="\n" * 30, env=english)
    assert r.code == 0, r.err
    for step in steps:  # every step's Chinese title and explanation, no English one
        title, explain = text_of(step, "zh")
        assert title in r.out
        assert step.title not in r.out
    assert r.out.count("回车：继续") == len(steps)
    chinese = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"}
    r = stepbox("step", "busybox", "echo", "hi", input="\n" * 30, env=chinese)
    assert r.code == 0, r.err
    assert text_of(steps[0], "zh")[0] in r.out and steps[0].title not in r.out
    r = stepbox("step", "--lang", "en", "busybox", "echo", "hi", input="\n" * 30, env=chinese)
    assert steps[0].title in r.out and "回车" not in r.out
    assert stepbox("ps", "-aq").out == ""
