"""Tracker issue 14's done-when, as a new user would check it: with the
docker CLI against the stepbox daemon, on both backends (and the same with
the stepbox CLI in tests/cli/test_confinement_cli.py)."""

from __future__ import annotations

import json

import pytest

STATUS = 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status'


def status(docker, *flags: str) -> dict[str, str]:
    result = docker("run", "--rm", *flags, "busybox", "sh", "-c", STATUS)
    assert result.code == 0, result.err
    return dict(line.split(":\t") for line in result.out.splitlines())


def test_a_default_container_shows_what_dockers_shows(docker):
    assert status(docker) == {
        "CapEff": "00000000a80425fb",
        "CapBnd": "00000000a80425fb",
        "NoNewPrivs": "0",
        "Seccomp": "2",
    }


@pytest.mark.parametrize(
    "flags, expected",
    [
        (("--cap-drop", "ALL"), {"CapEff": "0000000000000000", "Seccomp": "2"}),
        (("--cap-add", "NET_ADMIN"), {"CapEff": "00000000a80435fb"}),
        (("--security-opt", "seccomp=unconfined"), {"Seccomp": "0", "CapEff": "00000000a80425fb"}),
        (("--security-opt", "no-new-privileges"), {"NoNewPrivs": "1", "Seccomp": "2"}),
        (("-u", "1000:1000"), {"CapEff": "0000000000000000", "CapBnd": "00000000a80425fb"}),
    ],
)
def test_flags_give_dockers_results(docker, flags, expected):
    got = status(docker, *flags)
    assert {k: got[k] for k in expected} == expected


def test_users_groups_and_exec_user(docker):
    assert (
        docker.ok("run", "--rm", "-u", "1000:1000", "busybox", "id").strip()
        == "uid=1000 gid=1000 groups=1000"
    )
    assert (
        docker.ok("run", "--rm", "--group-add", "users", "busybox", "id").strip()
        == "uid=0(root) gid=0(root) groups=0(root),10(wheel),100(users)"
    )
    docker.ok("run", "-d", "--name", "svc14", "-u", "mail", "busybox", "sleep", "60")
    try:
        assert docker.ok("exec", "svc14", "id").strip() == "uid=8(mail) gid=8 groups=8,12(mail)"
        assert docker.ok("exec", "-u", "1000:1000", "svc14", "id").strip() == "uid=1000 gid=1000 groups=1000"
        assert docker.ok(
            "exec", "-w", "/tmp", "-e", "A=b", "svc14", "sh", "-c", 'pwd; echo "$A $HOME"'
        ).split() == [
            "/tmp",
            "b",
            "/var/spool/mail",
        ]
        refused = docker("exec", "-u", "nosuch", "svc14", "id")
        assert refused.code == 126 and "unable to find user nosuch" in refused.out + refused.err
    finally:
        docker("rm", "-f", "svc14")


def test_a_node_made_inside_cannot_be_opened(docker):
    result = docker("run", "--rm", "busybox", "sh", "-c", "mknod /tmp/mem c 1 1 && head -c1 /tmp/mem")
    assert result.code == 1 and "head: /tmp/mem: Operation not permitted" in result.err


def test_a_custom_profile(docker, tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
            }
        )
    )
    result = docker("run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "mkdir", "/x")
    assert result.code == 1 and "Operation not permitted" in result.err
    bad = tmp_path / "bad.json"
    bad.write_text('{"defaultAction": "SCMP_ACT_FOO"}')
    result = docker("run", "--rm", "--security-opt", f"seccomp={bad}", "busybox", "true")
    assert result.code == 125 and "SCMP_ACT_FOO is not a valid action" in result.err


@pytest.mark.parametrize(
    "flags, field",
    [
        (("--read-only",), "HostConfig.ReadonlyRootfs"),
        (("-v", "/tmp:/data"), "HostConfig.Binds"),
        (("--pid", "host"), "HostConfig.PidMode"),
        (("--shm-size", "1m"), "HostConfig.ShmSize"),
        (("--sysctl", "net.ipv4.ip_forward=1"), "HostConfig.Sysctls"),
        (("--cpu-shares", "512"), "HostConfig.CpuShares"),
        (("--security-opt", "apparmor=docker-default"), "AppArmor"),
        (("--cap-add", "FLY"), 'unknown capability: "CAP_FLY"'),
    ],
)
def test_an_unsupported_option_is_refused_naming_it(docker, flags, field):
    result = docker("create", *flags, "busybox", "true")
    if result.code == 0:
        docker("rm", result.out.strip())
    assert result.code == 1 and field in result.err, result.err  # docker create's status for a daemon error
    assert "stepbox does not support" in result.err or "CAP_FLY" in field


def test_run_exits_125_when_refused(docker):
    result = docker("run", "--read-only", "busybox", "true")
    assert result.code == 125
    assert "stepbox does not support HostConfig.ReadonlyRootfs" in result.err


def test_inspect_shows_the_confinement_fields(docker):
    # (the docker CLI of 23+ sends CAP_NET_ADMIN for net_admin; 20.10's sent it as typed)
    docker.ok("create", "--name", "insp14", "--cap-add", "net_admin", "--group-add", "10", "busybox")
    try:
        host = json.loads(docker.ok("inspect", "insp14"))[0]["HostConfig"]
        assert (
            host["CapAdd"] in (["net_admin"], ["CAP_NET_ADMIN"])
            and host["GroupAdd"] == ["10"]
            and host["Privileged"] is False
        )
        assert "/proc/kcore" in host["MaskedPaths"] and "/proc/sys" in host["ReadonlyPaths"]
    finally:
        docker("rm", "insp14")
