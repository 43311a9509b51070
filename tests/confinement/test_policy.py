"""Docker's confinement rules as stepbox states them: capabilities, users and
groups, --security-opt, --device, and the policy that puts them together.
The expected values are what dockerd 20.10 gave on this project's CI machine
(tests/confinement/test_vs_docker.py checks the same against a live one)."""

from __future__ import annotations

import pytest
from stepbox.core.confinement.capabilities import UnknownCapability, container_capabilities
from stepbox.core.confinement.devices import (
    DEFAULT_DEVICE_RULES,
    DeviceMapping,
    InvalidDevice,
    parse_cgroup_rule,
    parse_device,
)
from stepbox.core.confinement.policy import MASKED_PATHS, ConfinementFlags, decide
from stepbox.core.confinement.security_opts import InvalidSecurityOpt, parse_security_opts
from stepbox.core.container.users import UnknownUser, resolve_user
from stepbox.core.image.bootstrap import GROUP, PASSWD
from stepbox.core.kernel import HostFacts
from stepbox.core.kernel.capabilities import ALL_CAPABILITIES, capability_mask, capability_names
from stepbox.core.kernel.devices import DeviceAllowlist, DeviceNode

HOST = HostFacts("x86_64", "6.1.0-13-amd64", ALL_CAPABILITIES - {"CAP_SYS_RESOURCE"})


@pytest.mark.parametrize(
    "add, drop, mask",
    [
        ((), (), 0xA80425FB),
        ((), ("ALL",), 0),
        (("NET_ADMIN",), (), 0xA80435FB),
        (("sys_admin",), (), 0xA82425FB),
        (("CAP_SYS_ADMIN",), ("chown",), 0xA82425FA),
        (("kill",), ("all",), 1 << 5),
        (("ALL",), ("CAP_CHOWN",), capability_mask(HOST.capabilities) & ~1),
    ],
)
def test_capabilities_as_docker_tweaks_them(add, drop, mask):
    assert capability_mask(container_capabilities(add, drop, False, HOST.capabilities)) == mask


def test_privileged_is_every_capability_the_host_has():
    caps = container_capabilities((), ("ALL",), True, HOST.capabilities)
    assert caps == HOST.capabilities and "CAP_SYS_RESOURCE" not in caps


def test_unknown_capability_in_dockers_words():
    with pytest.raises(UnknownCapability, match='invalid CapAdd: unknown capability: "CAP_FOO"'):
        container_capabilities(("foo",), ())
    with pytest.raises(UnknownCapability, match='invalid CapDrop: unknown capability: "CAP_"'):
        container_capabilities((), ("",))


def test_capability_masks_round_trip():
    for mask in (0, 0xA80425FB, (1 << 41) - 1):
        assert capability_mask(capability_names(mask)) == mask


class ImageFiles:
    """The two files resolve_user reads, as the busybox image has them."""

    def __init__(self, files: dict[str, str]):
        self.files = files

    def read(self, path: str) -> bytes:
        try:
            return self.files[path].encode()
        except KeyError:
            raise FileNotFoundError(path) from None


BUSYBOX = ImageFiles({"/etc/passwd": PASSWD, "/etc/group": GROUP})


@pytest.mark.parametrize(
    "spec, group_add, expected",
    [
        ("", (), (0, 0, (0, 10), "/root")),  # root is listed in wheel
        ("1000:1000", (), (1000, 1000, (1000,), "/")),
        ("1000", (), (1000, 0, (0,), "/")),
        ("mail", (), (8, 8, (8, 12), "/var/spool/mail")),
        ("www-data", (), (33, 33, (33,), "/var/www")),  # a member of its own group: once
        ("0:33", (), (0, 33, (33,), "/root")),  # an explicit group: no lookup of memberships
        ("", ("www-data", "100", "4242"), (0, 0, (0, 10, 33, 100, 4242), "/root")),
        ("1000:1000", ("wheel",), (1000, 1000, (1000, 10), "/")),
        ("nobody:users", (), (65534, 100, (100,), "/home")),
    ],
)
def test_users_and_groups_as_docker_resolves_them(spec, group_add, expected):
    user = resolve_user(BUSYBOX, spec, group_add)
    assert (user.uid, user.gid, user.groups, user.home) == expected


@pytest.mark.parametrize(
    "spec, group_add, message",
    [
        ("nosuch", (), "unable to find user nosuch: no matching entries in passwd file"),
        ("root:nosuch", (), "unable to find group nosuch: no matching entries in group file"),
        ("", ("nosuch",), "Unable to find group nosuch: no matching entries in group file"),
        ("4294967296", (), "uid 4294967296 is out of range"),
    ],
)
def test_unknown_users_and_groups_are_refused(spec, group_add, message):
    with pytest.raises(UnknownUser, match=message):
        resolve_user(BUSYBOX, spec, group_add)


def test_an_image_without_passwd_takes_numbers():
    user = resolve_user(ImageFiles({}), "123:456")
    assert (user.uid, user.gid, user.groups) == (123, 456, (456,))
    with pytest.raises(UnknownUser):
        resolve_user(ImageFiles({}), "mail")


@pytest.mark.parametrize(
    "opts, nnp, seccomp",
    [
        ([], False, ""),
        (["no-new-privileges"], True, ""),
        (["no-new-privileges=false"], False, ""),
        (["no-new-privileges:true"], True, ""),
        (["no-new-privileges=1", "no-new-privileges=F"], False, ""),
        (["seccomp=unconfined"], False, "unconfined"),
        (["seccomp:unconfined", "apparmor=unconfined", "label=disable", "disable"], False, "unconfined"),
        (['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'], False, '{"defaultAction":"SCMP_ACT_ALLOW"}'),
    ],
)
def test_security_opts(opts, nnp, seccomp):
    parsed = parse_security_opts(opts)
    assert (parsed.no_new_privileges, parsed.seccomp) == (nnp, seccomp)


@pytest.mark.parametrize(
    "opt, message",
    [
        ("foo", 'invalid --security-opt 1: "foo"'),
        ("foo=bar", 'invalid --security-opt 2: "foo=bar"'),
        ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"'),
        ("apparmor=docker-default", "stepbox does not support AppArmor profiles"),
        ("label=type:svirt_t", "stepbox does not support SELinux labels"),
        ("seccomp={bad", "Decoding seccomp profile failed"),
        ("seccomp=/etc/profile.json", "Decoding seccomp profile failed"),  # the daemon only takes JSON
    ],
)
def test_bad_security_opts_are_refused_by_name(opt, message):
    with pytest.raises(InvalidSecurityOpt, match=message):
        parse_security_opts([opt])


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("/dev/kmsg", DeviceMapping("/dev/kmsg", "/dev/kmsg", "rwm")),
        ("/dev/full:/dev/f2", DeviceMapping("/dev/full", "/dev/f2", "rwm")),
        ("/dev/full:r", DeviceMapping("/dev/full", "/dev/full", "r")),
        ("/dev/full:/dev/f2:rw", DeviceMapping("/dev/full", "/dev/f2", "rw")),
    ],
)
def test_device_flags(spec, expected):
    assert parse_device(spec) == expected


@pytest.mark.parametrize("spec", ["", "/dev/full:/dev/f2:x", "a:b:c:d", "/dev/full:relative"])
def test_bad_device_flags(spec):
    with pytest.raises(InvalidDevice):
        parse_device(spec)


def test_cgroup_rules():
    assert parse_cgroup_rule("c 42:* rmw").line == "c 42:* rwm"
    for bad in ("c 42 rwm", "x 1:2 r", "c 1:2 rx", "c 1:2"):
        with pytest.raises(InvalidDevice, match="invalid device cgroup rule format"):
            parse_cgroup_rule(bad)


def test_dockers_default_device_list():
    assert DeviceAllowlist.from_rules(DEFAULT_DEVICE_RULES).listing() == [
        "c 1:5 rwm",
        "c 1:3 rwm",
        "c 1:9 rwm",
        "c 1:8 rwm",
        "c 5:0 rwm",
        "c 5:1 rwm",
        "c *:* m",
        "b *:* m",
        "c 1:7 rwm",
        "c 136:* rwm",
        "c 5:2 rwm",
        "c 10:200 rwm",
    ]
    rules = DeviceAllowlist.from_rules(DEFAULT_DEVICE_RULES).rules()
    assert [r.line for r in rules[1:]][:4] == ["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm"]  # runc's order


def _host_devices(path: str) -> list[DeviceNode]:
    return {
        "/dev": [DeviceNode("/dev/null", "c", 1, 3), DeviceNode("/dev/sda", "b", 8, 0, 0o660, 0, 6)],
        "/dev/full": [DeviceNode("/dev/full", "c", 1, 7)],
    }.get(path, [])


def test_the_policy_default_and_privileged():
    default = decide(ConfinementFlags(), HOST, _host_devices)
    assert capability_mask(default.capabilities) == 0xA80425FB
    assert default.seccomp is not None and default.seccomp.default_action == "SCMP_ACT_ERRNO"
    assert not default.no_new_privs and default.masked_paths == MASKED_PATHS
    assert [n.path for n in default.device_nodes] == [
        "/dev/null",
        "/dev/random",
        "/dev/full",
        "/dev/tty",
        "/dev/zero",
        "/dev/urandom",
    ]
    privileged = decide(
        ConfinementFlags(privileged=True, security_opt=("no-new-privileges",)), HOST, _host_devices
    )
    assert privileged.seccomp is None and privileged.masked_paths == () and privileged.readonly_paths == ()
    assert privileged.capabilities == HOST.capabilities and privileged.no_new_privs
    assert "/dev/sda" in [n.path for n in privileged.device_nodes]
    assert DeviceAllowlist.from_rules(privileged.device_rules).listing() == ["a *:* rwm"]


def test_the_policy_devices():
    c = decide(ConfinementFlags(devices=(DeviceMapping("/dev/full", "/dev/f2", "r"),)), HOST, _host_devices)
    assert ("/dev/f2", 1, 7) in [(n.path, n.major, n.minor) for n in c.device_nodes]
    allow = DeviceAllowlist.from_rules(c.device_rules)
    assert allow.permits("c", 1, 7, "r") and allow.permits(
        "c", 1, 7, "w"
    )  # runc's default allows /dev/full anyway
    with pytest.raises(InvalidDevice, match='adding custom device "/dev/nope"'):
        decide(ConfinementFlags(devices=(DeviceMapping("/dev/nope", "/dev/nope"),)), HOST, _host_devices)


def test_seccomp_conditions_follow_the_capabilities():
    """mount is allowed with CAP_SYS_ADMIN, clone3 answers ENOSYS without it,
    ptrace needs a 4.8 kernel, arch_prctl is amd64's."""
    plain = decide(ConfinementFlags(), HOST, _host_devices).seccomp
    admin = decide(ConfinementFlags(cap_add=("SYS_ADMIN",)), HOST, _host_devices).seccomp
    assert plain.decide("mount").errno == 1 and admin.decide("mount").allowed
    assert plain.decide("clone3").errno == 38 and admin.decide("clone3").allowed
    assert plain.decide("clone", (0x10000000,)).errno == 1  # CLONE_NEWUSER
    assert plain.decide("clone", (0x01200011,)).allowed  # what fork() passes
    assert plain.decide("ptrace").allowed and plain.decide("arch_prctl").allowed
    old = decide(ConfinementFlags(), HostFacts("x86_64", "4.4.0", HOST.capabilities), _host_devices).seccomp
    assert not old.decide("ptrace").allowed
    arm = decide(ConfinementFlags(), HostFacts("aarch64", "6.1", HOST.capabilities), _host_devices).seccomp
    assert not arm.decide("arch_prctl").allowed and arm.architectures == (
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_ARM",
    )
    assert plain.architectures == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")


def test_the_decision_is_the_flags_and_the_hosts_alone():
    """decide() keeps its answers for containers that take none of the host's
    device files (they follow from the flags and the host facts); with
    --privileged or --device the host's /dev is read at every start."""
    flags = ConfinementFlags(cap_drop=("NET_RAW",), security_opt=("no-new-privileges",))
    first = decide(flags, HOST, _host_devices)
    again = decide(
        ConfinementFlags(cap_drop=("NET_RAW",), security_opt=("no-new-privileges",)), HOST, _host_devices
    )
    assert again == first and again.no_new_privs and "CAP_NET_RAW" not in again.capabilities
    fewer = HostFacts(HOST.machine, HOST.release, HOST.capabilities - {"CAP_SYS_ADMIN"})
    everything = ConfinementFlags(cap_add=("ALL",))
    assert decide(everything, HOST, _host_devices).capabilities == HOST.capabilities
    assert (
        decide(everything, fewer, _host_devices).capabilities == fewer.capabilities
    )  # the host is in the key
    for bad in (ConfinementFlags(cap_add=("NOPE",)), ConfinementFlags(security_opt=("nope",))):
        for _ in range(2):  # refused every time, not only the first
            with pytest.raises((UnknownCapability, InvalidSecurityOpt)):
                decide(bad, HOST, _host_devices)
    dev: dict[str, list[DeviceNode]] = {"/dev/full": [DeviceNode("/dev/full", "c", 1, 7)]}
    mapped = ConfinementFlags(devices=(DeviceMapping("/dev/full", "/dev/f2", "r"),))
    assert decide(mapped, HOST, lambda path: dev.get(path, [])).device_nodes[-1].minor == 7
    dev["/dev/full"] = [DeviceNode("/dev/full", "c", 1, 9)]  # the host's /dev changed
    assert decide(mapped, HOST, lambda path: dev.get(path, [])).device_nodes[-1].minor == 9
