"""Tracker issue 14's done-when with the stepbox CLI, on both backends (the
docker CLI's side is tests/engine/test_confinement_clis.py)."""

from __future__ import annotations

import json

STATUS = 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status'


def _status(stepbox, *flags: str) -> dict[str, str]:
    result = stepbox("run", "--rm", *flags, "busybox", "sh", "-c", STATUS)
    assert result.code == 0, result.err
    return dict(line.split(":\t") for line in result.out.splitlines())


def test_confinement_with_the_stepbox_cli(stepbox, tmp_path):
    assert _status(stepbox) == {
        "CapEff": "00000000a80425fb",
        "CapBnd": "00000000a80425fb",
        "NoNewPrivs": "0",
        "Seccomp": "2",
    }
    assert _status(stepbox, "--cap-drop", "ALL")["CapEff"] == "0000000000000000"
    assert _status(stepbox, "--cap-add", "NET_ADMIN")["CapEff"] == "00000000a80435fb"
    assert _status(stepbox, "--security-opt", "seccomp=unconfined")["Seccomp"] == "0"
    assert _status(stepbox, "--security-opt", "no-new-privileges")["NoNewPrivs"] == "1"
    assert (
        stepbox("run", "--rm", "-u", "1000:1000", "busybox", "id").out.strip()
        == "uid=1000 gid=1000 groups=1000"
    )

    made = stepbox("run", "--rm", "busybox", "sh", "-c", "mknod /tmp/mem c 1 1 && head -c1 /tmp/mem")
    assert made.code == 1 and "head: /tmp/mem: Operation not permitted" in made.err

    profile = tmp_path / "no-mkdir.json"
    profile.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
            }
        )
    )
    denied = stepbox("run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "mkdir", "/x")
    assert denied.code == 1 and "Operation not permitted" in denied.err

    assert stepbox("run", "-d", "--name", "svc", "-u", "mail", "busybox", "sleep", "60").code == 0
    assert stepbox("exec", "svc", "id").out.strip() == "uid=8(mail) gid=8 groups=8,12(mail)"
    assert (
        stepbox("exec", "-u", "0", "svc", "id").out.strip()
        == "uid=0(root) gid=0(root) groups=0(root),10(wheel)"
    )
    assert (
        stepbox("exec", "-w", "/tmp", "-e", "A=1", "svc", "sh", "-c", 'echo "$PWD $A"').out.strip()
        == "/tmp 1"
    )


def test_refusals_with_the_stepbox_cli(stepbox, tmp_path):
    for flags, words in (
        (("--cap-add", "FLY"), 'invalid CapAdd: unknown capability: "CAP_FLY"'),
        (("--security-opt", "seccomp=/no/such.json"), "opening seccomp profile (/no/such.json) failed"),
        (("--security-opt", "apparmor=docker-default"), "stepbox does not support AppArmor profiles"),
        (("--security-opt", "nonsense"), 'Invalid --security-opt: "nonsense"'),
        (("--device", "/dev/full:/dev/f:xyz"), "bad mode specified: xyz"),
        (("--device-cgroup-rule", "z 1:1 r"), "invalid device cgroup rule format"),
    ):
        result = stepbox("run", "--rm", *flags, "busybox", "true")
        assert result.code == 125 and words in result.err, (flags, result.err)
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_NOPE"}]}'
    )
    result = stepbox("run", "--rm", "--security-opt", f"seccomp={bad}", "busybox", "true")
    assert result.code == 125 and "SCMP_ACT_NOPE is not a valid action" in result.err
