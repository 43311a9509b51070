"""config.json, read and checked (no kernel needed): every field honoured or refused by name."""

from __future__ import annotations

import copy

import pytest
from bundles import runc_spec
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.kernel import NamespaceKind
from stepbox.core.kernel.devices import DeviceNode, DeviceRule
from stepbox.core.runtime.spec import BadConfig, Unsupported, parse_config, parse_process


@pytest.fixture
def bundle(tmp_path):
    (tmp_path / "rootfs").mkdir()
    return str(tmp_path)


def test_runc_spec_is_read(bundle):
    spec = parse_config(runc_spec(["sh"]), bundle)
    assert spec.root == f"{bundle}/rootfs" and spec.readonly_root
    assert spec.process.capabilities == {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
    assert spec.process.rlimits == (("RLIMIT_NOFILE", 1024, 1024),)
    assert spec.process.no_new_privileges
    assert set(spec.namespaces) == {
        NamespaceKind.PID,
        NamespaceKind.NET,
        NamespaceKind.IPC,
        NamespaceKind.UTS,
        NamespaceKind.MNT,
    }
    assert spec.own_network and spec.hostname == "runc"
    assert [m.target for m in spec.mounts][:2] == ["/proc", "/dev"]


def test_docker_style_empty_fields_ask_for_nothing(bundle):
    config = runc_spec(["sh"])
    config["linux"]["resources"].update(
        memory={"disableOOMKiller": False}, cpu={"shares": 0}, blockIO={"weight": 0}, pids={"limit": 0}
    )
    spec = parse_config(config, bundle)
    assert spec.limits.memory_bytes is None and spec.limits.pids_max is None


def test_limits_and_joined_namespaces(bundle):
    config = runc_spec(["sh"])
    config["linux"]["resources"].update(memory={"limit": 1 << 25, "swap": 1 << 25}, pids={"limit": 50})
    config["linux"]["namespaces"][1] = {"type": "network", "path": "/proc/1/ns/net"}
    config["linux"]["cgroupsPath"] = "/docker/abc"
    spec = parse_config(config, bundle)
    assert spec.limits.memory_bytes == 1 << 25 and spec.limits.pids_max == 50
    assert spec.join == ((NamespaceKind.NET, "/proc/1/ns/net"),) and not spec.own_network
    assert spec.cgroups_path == "docker/abc"


@pytest.mark.parametrize(
    ("path", "value", "error", "words"),
    [
        (("linux", "seccomp"), {"listenerPath": "/run/x.sock"}, Unsupported, "linux.seccomp.listenerPath"),
        (("linux", "seccomp"), {"defaultAction": "SCMP_ACT_NOPE"}, BadConfig, "linux.seccomp"),
        (("linux", "resources", "memory", "swap"), 1 << 30, Unsupported, "swap"),
        (("linux", "resources", "memory", "disableOOMKiller"), True, Unsupported, "disableOOMKiller"),
        (("linux", "resources", "cpu", "shares"), 512, Unsupported, "cpu.shares"),
        (("linux", "intelRdt"), {"closID": "x"}, Unsupported, "linux.intelRdt"),
        (("process", "terminal"), "yes", BadConfig, "process.terminal must be a JSON bool"),
        (("process", "consoleSize"), {"height": -1, "width": 80}, BadConfig, "process.consoleSize"),
        (("process", "selinuxLabel"), "x", Unsupported, "process.selinuxLabel"),
        (("process", "user", "umask"), 0o1777, BadConfig, "process.user.umask"),  # honoured: 0 to 0777
        (("process", "user", "username"), "x", Unsupported, "process.user.username"),
        (("process", "args"), [], BadConfig, "args must not be empty"),
        (("process", "cwd"), "relative", BadConfig, "absolute path"),
        (("linux", "sysctl"), {"kernel.hostname": "x"}, BadConfig, "not in a separate kernel namespace"),
        (("linux", "rootfsPropagation"), "shared", Unsupported, "rootfsPropagation"),
        (("domainname",), "example", Unsupported, "config.domainname"),
        (("ociVersion",), "2.0.0", BadConfig, "ociVersion"),
    ],
)
def test_refused_by_name(bundle, path, value, error, words):
    config = runc_spec(["sh"])
    target = config
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    with pytest.raises(error, match=words.replace(".", r"\.")):
        parse_config(config, bundle)


def test_cpu_shares_of_a_new_cgroup_are_the_default(bundle):
    config = runc_spec(["sh"])
    config["linux"]["resources"]["cpu"] = {"shares": 1024}
    parse_config(config, bundle)


def test_device_rules_and_seccomp_are_read(bundle):
    """linux.resources.devices become the device cgroup's rules in their order
    (wildcards as -1); linux.seccomp is read as Docker's profile format."""
    config = runc_spec(["sh"])
    config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
    ]
    config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o20600}
    ]
    config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}],
    }
    spec = parse_config(config, bundle)
    assert spec.device_rules == (DeviceRule(False, "a", -1, -1, "rwm"), DeviceRule(True, "c", 1, 3, "rw"))
    assert spec.devices == (DeviceNode("/dev/fuse", "c", 10, 229, 0o600),)
    assert spec.seccomp is not None and spec.seccomp.default_action == "SCMP_ACT_ERRNO"
    assert spec.seccomp.rules[0].names == ("read", "write")


def test_ambient_capabilities_pass_for_root_only(bundle):
    process = copy.deepcopy(runc_spec(["sh"])["process"])
    assert parse_process(process).capabilities == {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
    process["user"] = {"uid": 1000, "gid": 1000}
    with pytest.raises(Unsupported, match="ambient"):
        parse_process(process)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=10,
    )
)
def test_garbage_is_a_clear_error_never_a_crash(value):
    """Any JSON where a config is expected: BadConfig or Unsupported, nothing else."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        import os

        os.mkdir(os.path.join(d, "rootfs"))
        for config in (value, {"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": value}):
            try:
                parse_config(config, d)
            except (BadConfig, Unsupported):
                pass
