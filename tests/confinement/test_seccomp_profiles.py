"""Docker's seccomp profile format: read, checked, resolved -- and, for
generated profiles, enforced the same by the simulator's syscall layer and by
the real kernel (libseccomp through our binding)."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.core.confinement.docker_default_profile import ALLOWED, DOCKER_DEFAULT_PROFILE
from stepbox.core.confinement.seccomp_profile import Host, ProfileError, parse_profile, profile_text, resolve
from stepbox.core.kernel import DOCKER_DEFAULT_CAPABILITIES
from stepbox.core.kernel.seccomp import SeccompFilter

from tests.conftest import IS_LINUX_ROOT

HOST = Host("amd64", (6, 1))


def test_the_default_profile_round_trips_through_dockers_json():
    text = profile_text(DOCKER_DEFAULT_PROFILE)
    assert parse_profile(text) == DOCKER_DEFAULT_PROFILE
    data = json.loads(text)
    assert data["defaultAction"] == "SCMP_ACT_ERRNO" and len(data["syscalls"][0]["names"]) == len(ALLOWED)


def test_the_default_profile_in_numbers():
    """What a reader can count: 346 calls always allowed (dockerd 20.10.24),
    and what stays refused for a default container."""
    assert len(ALLOWED) == len(set(ALLOWED)) == 346
    spec = resolve(DOCKER_DEFAULT_PROFILE, HOST, DOCKER_DEFAULT_CAPABILITIES)
    for name in (
        "unshare",
        "setns",
        "mount",
        "umount2",
        "reboot",
        "init_module",
        "bpf",
        "keyctl",
        "add_key",
        "perf_event_open",
        "swapon",
        "kexec_load",
        "clock_settime",
        "pivot_root",
    ):
        assert spec.decide(name).errno == 1, name
    for name in ("read", "openat", "mkdir", "execve", "socket", "chroot", "ptrace"):
        assert spec.decide(name).allowed, name


@pytest.mark.parametrize(
    "text, message",
    [
        ("{bad", "invalid JSON"),
        ("[]", "must be a JSON object"),
        ('{"defaultAction": "SCMP_ACT_FOO"}', "string SCMP_ACT_FOO is not a valid action for seccomp"),
        ('{"defaultAction": "SCMP_ACT_NOTIFY"}', "needs a seccomp agent"),
        ('{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"}', "seccomp agent"),
        ('{"defaultAction": "SCMP_ACT_ALLOW", "knob": 1}', 'unknown field "knob"'),
        ('{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": []}', None),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x86"], "archMap": []}',
            "x86 is not a valid seccomp architecture",
        ),
        ('{"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}', "defaultAction is required"),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]}',
            "'name' and 'names' were specified",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",'
            ' "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]}',
            "syscalls only have up to 6 arguments",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ALLOW",'
            ' "errnoRet": 13}]}',
            "errnoRet is only used with SCMP_ACT_ERRNO",
        ),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",'
            ' "includes": {"minKernel": "4"}}]}',
            'invalid kernel version: "4"',
        ),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",'
            ' "excludes": {"caps": ["CAP_FLY"]}}]}',
            'unknown capability "CAP_FLY"',
        ),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [""], "action": "SCMP_ACT_ERRNO"}]}',
            "empty",
        ),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}', "unsigned 16-bit"),
    ],
)
def test_bad_profiles_say_what_is_wrong(text, message):
    if message is None:  # an empty archMap is no archMap: both fields are fine then
        parse_profile(text)
        return
    with pytest.raises(ProfileError, match=message):
        parse_profile(text)


def test_keys_are_matched_ignoring_case_as_dockerd_does():
    profile = parse_profile(
        '{"DEFAULTACTION": "SCMP_ACT_ALLOW", "Syscalls": [{"Names": ["mkdir"], "ACTION": "SCMP_ACT_ERRNO"}]}'
    )
    assert resolve(profile, HOST, frozenset()).decide("mkdir").errno == 1


def test_an_empty_profile_is_no_seccomp_at_all():
    assert resolve(parse_profile("{}"), HOST, frozenset()) is None


def test_conditions_of_a_custom_profile():
    profile = parse_profile(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "defaultErrnoRet": 1,
                "syscalls": [
                    {
                        "names": ["mkdir"],
                        "action": "SCMP_ACT_ERRNO",
                        "errnoRet": 13,
                        "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                    },
                    {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["arm64"]}},
                    {"names": ["link"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "7.0"}},
                    {
                        "names": ["kill"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}],
                    },
                    {
                        "names": ["umask"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 0, "value": 0o77, "valueTwo": 0o22, "op": "SCMP_CMP_MASKED_EQ"}],
                    },
                ],
            }
        )
    )
    spec = resolve(profile, HOST, frozenset())
    assert spec.decide("mkdir").errno == 13
    assert resolve(profile, HOST, frozenset({"CAP_SYS_ADMIN"})).decide("mkdir").allowed
    assert (
        spec.decide("rmdir").allowed
        and resolve(profile, Host("arm64", (6, 1)), frozenset()).decide("rmdir").errno == 1
    )
    assert (
        spec.decide("link").allowed
        and resolve(profile, Host("amd64", (7, 2)), frozenset()).decide("link").errno == 1
    )
    assert spec.decide("kill", (1, 9)).errno == 1 and spec.decide("kill", (1, 15)).allowed
    assert spec.decide("umask", (0o022,)).errno == 1 and spec.decide("umask", (0o027,)).allowed
    assert SeccompFilter.from_dict(spec.to_dict()) == spec


# -- never a crash, whatever the JSON -----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 65), 1 << 65) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
actions = st.sampled_from(
    [
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_KILL",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_LOG",
        "SCMP_ACT_NOTIFY",
        "X",
    ]
)
rules = st.fixed_dictionaries(
    {},
    optional={
        "names": st.one_of(
            st.lists(st.sampled_from(["mkdir", "openat", "", "nosuch"]), max_size=3), json_values
        ),
        "name": st.one_of(st.sampled_from(["mkdir", ""]), json_values),
        "action": st.one_of(actions, json_values),
        "errnoRet": st.one_of(st.integers(-1, 70000), json_values),
        "args": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "index": st.integers(-1, 8),
                        "value": st.integers(-1, 1 << 65),
                        "valueTwo": st.integers(0, 3),
                        "op": st.sampled_from(["SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_XX", ""]),
                    },
                ),
                max_size=2,
            ),
            json_values,
        ),
        "includes": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"caps": json_values, "arches": json_values, "minKernel": json_values}
            ),
            json_values,
        ),
    },
)
profiles = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "defaultAction": st.one_of(actions, json_values),
            "defaultErrnoRet": st.one_of(st.integers(-1, 70000), json_values),
            "architectures": st.one_of(
                st.lists(st.sampled_from(["SCMP_ARCH_X86", "x"]), max_size=2), json_values
            ),
            "archMap": json_values,
            "syscalls": st.one_of(st.lists(rules, max_size=3), json_values),
        },
    ),
)


@settings(max_examples=300)
@given(profile=profiles)
def test_any_json_is_a_profile_or_a_profile_error(profile):
    try:
        parsed = parse_profile(json.dumps(profile))
    except ProfileError as e:
        assert str(e).startswith("Decoding seccomp profile failed: ")
        return
    for caps in (frozenset(), DOCKER_DEFAULT_CAPABILITIES):
        spec = resolve(parsed, HOST, caps)
        if spec is not None:
            spec.decide("mkdir", (0, 0o777))


# -- the simulator's syscall layer against the real kernel ------------------------------------------------

SCRIPT = (
    "mkdir /tmp/d; echo mkdir=$?; rmdir /tmp/d; echo rmdir=$?; touch /tmp/f; echo touch=$?; "
    "ln -s /tmp/f /tmp/l; echo ln=$?; mv /tmp/l /tmp/m; echo mv=$?; chmod 600 /tmp/f; echo chmod=$?; "
    "rm /tmp/f; echo rm=$?; hostname x; echo hostname=$?; kill -0 $$; echo kill=$?"
)
# The calls SCRIPT makes through busybox that the simulator models (see
# backends/sim/seccomp.py); denying others (read, write, execve...) would
# stop the shell itself, which is not what is compared here.
DENIABLE = [
    "mkdir",
    "rmdir",
    "symlink",
    "rename",
    "chmod",
    "unlink",
    "sethostname",
    "kill",
    "link",
    "truncate",
]
generated_profiles = st.fixed_dictionaries(
    {
        "defaultAction": st.just("SCMP_ACT_ALLOW"),
        "syscalls": st.lists(
            st.fixed_dictionaries(
                {
                    "names": st.lists(st.sampled_from(DENIABLE), min_size=1, max_size=3, unique=True),
                    "action": st.just("SCMP_ACT_ERRNO"),
                },
                optional={"errnoRet": st.sampled_from([1, 2, 13, 22, 38])},
            ),
            max_size=3,
        ),
    }
)


@pytest.mark.linux
@pytest.mark.skipif(not IS_LINUX_ROOT, reason="needs the real kernel as root to compare with")
@settings(max_examples=int(os.environ.get("STEPBOX_SECCOMP_EXAMPLES", "12")))
@given(profile=generated_profiles)
def test_generated_profiles_are_enforced_alike(linux, sim, profile):
    # A call named by two rules: libseccomp keeps the first rule's action
    # (and runc does not complain), as the simulator's first-match does.
    flags = {"security_opt": ["seccomp=" + json.dumps(profile)]}
    outputs = {rt.kernel.name: run_stepbox_inline(rt, flags) for rt in (linux, sim)}
    assert outputs["sim"] == outputs["linux"], profile


def run_stepbox_inline(runtime, flags):
    """The CLI would read a profile file; a SecurityOpt of JSON is what it sends."""
    from stepbox.core.confinement.policy import ConfinementFlags
    from stepbox.core.container.config import ContainerConfig

    from .compare import config_for

    base = config_for({}, ["sh", "-c", SCRIPT])
    config = ContainerConfig(
        **{**base.__dict__, "security": ConfinementFlags(security_opt=tuple(flags["security_opt"]))}
    )
    record = runtime.run(config)
    try:
        out, err = runtime.logs(record)
        return record.exit_code, out.decode(), err.decode()
    finally:
        runtime.remove(record, force=True)
