"""Confinement next to dockerd: the same flags, the same observable results.

Each test runs one shell script under one set of ``docker run`` flags in a
container of the suite's private dockerd (20.10, runc 1.1) and in stepbox on
the real kernel, and -- where the simulator models what the script looks
at -- on the simulator too, and compares what the script printed.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

from .compare import run_docker, run_stepbox

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

STATUS = 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Groups):" /proc/self/status; id'

FLAG_SETS = {
    "default": {},
    "cap-drop ALL": {"cap_drop": ["ALL"]},
    "cap-add NET_ADMIN": {"cap_add": ["NET_ADMIN"]},
    "cap-add sys_admin, cap-drop chown": {"cap_add": ["sys_admin"], "cap_drop": ["CAP_CHOWN"]},
    "cap-drop ALL, cap-add kill": {"cap_drop": ["all"], "cap_add": ["kill"]},
    "seccomp unconfined": {"security_opt": ["seccomp=unconfined"]},
    "no-new-privileges": {"security_opt": ["no-new-privileges"]},
    "no-new-privileges=false": {"security_opt": ["no-new-privileges=false"]},
    "no-new-privileges:true": {"security_opt": ["no-new-privileges:true"]},
    "-u 1000:1000": {"user": "1000:1000"},
    "-u 1000": {"user": "1000"},
    "-u mail": {"user": "mail"},
    "-u 0:33": {"user": "0:33"},
    "group-add": {"group_add": ["www-data", "100", "4242"]},
    "-u 1000:1000 group-add wheel": {"user": "1000:1000", "group_add": ["wheel"]},
}


@pytest.mark.parametrize("flags", FLAG_SETS.values(), ids=FLAG_SETS.keys())
def test_status_fields_and_ids_as_docker(dockerd, busybox_in_docker, linux, sim, flags):
    """CapEff/CapBnd/..., NoNewPrivs, Seccomp, Groups and `id` -- on both backends."""
    theirs = run_docker(dockerd, flags, STATUS)
    assert theirs.code == 0, theirs.err
    for runtime in (linux, sim):
        ours = run_stepbox(runtime, flags, STATUS)
        assert (ours.code, ours.out) == (0, theirs.out), runtime.kernel.name


def test_the_done_when_values(dockerd, busybox_in_docker, linux, sim):
    """A default container shows Seccomp 2, NoNewPrivs 0, CapEff 00000000a80425fb."""
    for runtime in (linux, sim):
        lines = run_stepbox(runtime, {}, STATUS).out.splitlines()
        assert "Seccomp:\t2" in lines and "NoNewPrivs:\t0" in lines and "CapEff:\t00000000a80425fb" in lines


REFUSALS = (
    "unshare -Ur true; echo unshare=$?; "
    "mount -t tmpfs t /mnt; echo mount=$?; "
    "mknod /tmp/mem c 1 1; echo mknod=$?; head -c1 /tmp/mem >/dev/null; echo open=$?; "
    "mknod /tmp/disk b 8 0; echo mknod=$?; head -c1 /tmp/disk >/dev/null; echo open=$?; "
    "head -c1 /dev/urandom | wc -c; echo null=$(cat /dev/null | wc -c)"
)


@pytest.mark.parametrize(
    "flags",
    [{}, {"cap_add": ["SYS_ADMIN"]}, {"security_opt": ["seccomp=unconfined"]}, {"cap_drop": ["MKNOD"]}],
    ids=["default", "cap-add SYS_ADMIN", "seccomp unconfined", "cap-drop MKNOD"],
)
def test_what_is_refused_as_docker(dockerd, busybox_in_docker, linux, flags):
    """unshare and mount refused by seccomp (or allowed with SYS_ADMIN / unconfined, then
    refused or not by the kernel), mknod allowed but opening what it made refused by the
    device cgroup, the allowed devices working."""
    theirs = run_docker(dockerd, flags, REFUSALS)
    ours = run_stepbox(linux, flags, REFUSALS)
    assert (ours.out, ours.err) == (theirs.out, theirs.err)


def test_device_node_refusals_on_the_simulator(dockerd, busybox_in_docker, sim):
    """What the simulator models of the above: mknod of a char device allowed,
    opening it refused; the allowed nodes work."""
    script = "mknod /tmp/mem c 1 1; echo mknod=$?; head -c1 /tmp/mem; echo open=$?; echo null=$(cat /dev/null | wc -c)"
    theirs = run_docker(dockerd, {}, script)
    ours = run_stepbox(sim, {}, script)
    assert (ours.out, ours.err) == (theirs.out, theirs.err)


def test_host_device_nodes_are_untouched(dockerd, busybox_in_docker, linux):
    """chmod/chown of /dev/null and /dev/full inside change the container's own
    nodes (made by mknod in its tmpfs /dev), never the host's."""
    before = {p: os.stat(p) for p in ("/dev/null", "/dev/full", "/dev/zero")}
    script = "chmod 600 /dev/full /dev/null; chown 1:1 /dev/zero; ls -l /dev/full /dev/null /dev/zero"
    theirs = run_docker(dockerd, {}, script)
    ours = run_stepbox(linux, {}, script)
    assert [line.split()[:4] for line in ours.out.splitlines()] == [
        line.split()[:4] for line in theirs.out.splitlines()
    ]
    for path, st in before.items():
        now = os.stat(path)
        assert (now.st_mode, now.st_uid, now.st_gid) == (st.st_mode, st.st_uid, st.st_gid), path


def test_dev_looks_like_dockers(dockerd, busybox_in_docker, linux, sim):
    """The same names, types, modes, owners and device numbers (sizes and
    times aside) -- and on the simulator, whose userland has no awk, the names."""
    listing = "ls -l /dev | awk '{print $1, $3, $4, $5, $6, $NF}' | grep -v total"
    theirs = run_docker(dockerd, {}, listing)
    assert run_stepbox(linux, {}, listing).out == theirs.out
    assert run_stepbox(sim, {}, "ls /dev").out == run_docker(dockerd, {}, "ls /dev").out


def test_a_profile_that_denies_mkdir(dockerd, busybox_in_docker, linux, sim, tmp_path):
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
            }
        )
    )
    other = tmp_path / "eacces.json"
    other.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
            }
        )
    )
    script = "mkdir /tmp/x; echo rc=$?; touch /tmp/y; echo touch=$?; grep Seccomp: /proc/self/status"
    for path in (profile, other):
        flags = {"security_opt": [f"seccomp={path}"]}
        theirs = run_docker(dockerd, flags, script)
        assert "rc=1" in theirs.out
        for runtime in (linux, sim):
            ours = run_stepbox(runtime, flags, script)
            assert (ours.out, ours.err) == (theirs.out, theirs.err), runtime.kernel.name


def test_a_kill_action_ends_the_process_with_sigsys(dockerd, busybox_in_docker, linux, sim, tmp_path):
    profile = tmp_path / "kill.json"
    profile.write_text(
        json.dumps(
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL"}]}
        )
    )
    flags = {"security_opt": [f"seccomp={profile}"]}
    script = "mkdir /tmp/x; echo rc=$?"
    theirs = run_docker(dockerd, flags, script)
    assert theirs.out.strip() == "rc=159"  # 128 + SIGSYS
    for runtime in (linux, sim):
        assert run_stepbox(runtime, flags, script).out == theirs.out, runtime.kernel.name


def test_device_rules_read_back_as_docker_sets_them(dockerd, busybox_in_docker, linux):
    """devices.list of the container's cgroup, with and without --device: the
    same list (this host's devices controller is cgroup v1)."""
    cases = [
        {},
        {"device": ["/dev/full:/dev/f2:r"]},
        {"device_cgroup_rule": ["c 42:* rmw", "b 7:0 r"]},
        {"device": ["/dev/kmsg"]},
    ]
    for flags in cases:
        theirs = run_docker(dockerd, flags, "cat /sys/fs/cgroup/devices/devices.list").out.splitlines()
        from .compare import config_for

        record = linux.run(config_for(flags, ["sleep", "30"]), detach=True)
        try:
            ours = linux.kernel.cgroups.device_rules(record.cgroup)
        finally:
            linux.remove(record, force=True)
        assert ours == theirs, flags


def test_device_mapping_as_docker(dockerd, busybox_in_docker, linux):
    script = "ls -l /dev/f2 /dev/kmsg | awk '{print $1, $5, $6, $NF}'; echo x > /dev/f2; echo write=$?"
    flags = {"device": ["/dev/full:/dev/f2:r", "/dev/kmsg"]}
    theirs = run_docker(dockerd, flags, script)
    ours = run_stepbox(linux, flags, script)
    assert (ours.out, ours.err) == (theirs.out, theirs.err)


def test_exec_runs_as_the_container_user_or_another(dockerd, busybox_in_docker, linux, sim):
    """exec: the container's user by default, -u NAME / UID:GID resolved in
    the container's /etc/passwd with its --group-add, confined like it."""
    from .compare import config_for

    probe = 'id; echo "$HOME"; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status'
    flags = {"user": "mail", "group_add": ["users"], "security_opt": ["no-new-privileges"]}
    name = "i14-exec-probe"
    dockerd.docker(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--user",
        "mail",
        "--group-add",
        "users",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "sleep",
        "60",
    )
    try:
        theirs = {
            user: dockerd.docker(
                "exec", *(["-u", user] if user else []), name, "sh", "-c", probe, check=False
            )
            for user in ("", "0", "1000:1000", "www-data")
        }
        refused = dockerd.docker("exec", "-u", "nosuch", name, "id", check=False)
    finally:
        dockerd.docker("rm", "-f", name, check=False)
    assert refused.returncode == 126
    for runtime in (linux, sim):
        record = runtime.run(config_for(flags, ["sleep", "60"]), detach=True)
        try:
            for user, result in theirs.items():
                code, out, err = runtime.exec(record, ["sh", "-c", probe], user=user)
                assert (code, out.decode()) == (result.returncode, result.stdout.decode()), (
                    runtime.kernel.name,
                    user,
                )
            with pytest.raises(
                Exception, match="unable to find user nosuch: no matching entries in passwd file"
            ):
                runtime.exec(record, ["id"], user="nosuch")
        finally:
            runtime.remove(record, force=True)
