"""Namespaces of the simulated kernel: inode numbers, isolation of each kind."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_kernel_helpers import Box, boot, read_all, say
from stepbox.backends.sim.namespaces import FIRST_DYNAMIC_INODE, INITIAL_INODES
from stepbox.core.kernel.namespaces import DEFAULT_CONTAINER_NAMESPACES, NamespaceKind
from stepbox.core.kernel.processes import MountSpec, SpawnSpec


@pytest.fixture
def k():
    return boot()


def test_initial_namespaces_have_the_kernels_inode_numbers(k):
    ns = k.namespaces.of(1)
    assert ns[NamespaceKind.UTS] == 4026531838
    assert ns[NamespaceKind.PID] == 4026531836
    assert ns[NamespaceKind.IPC] == 4026531839
    assert ns[NamespaceKind.USER] == 4026531837
    assert ns[NamespaceKind.CGROUP] == 4026531835
    assert {v for v in ns.values()} <= set(INITIAL_INODES.values())


def test_new_namespaces_get_new_increasing_inodes(k, tmp_path):
    a = Box(k, tmp_path, setup=False)
    b = Box(k, tmp_path, setup=False)
    host, na, nb = k.namespaces.of(1), k.namespaces.of(a.pid), k.namespaces.of(b.pid)
    for kind in DEFAULT_CONTAINER_NAMESPACES:
        assert na[kind] != host[kind] and nb[kind] != host[kind]
        assert FIRST_DYNAMIC_INODE <= na[kind] < nb[kind]
    assert na[NamespaceKind.USER] == host[NamespaceKind.USER]  # not asked for: shared


def test_hostname_is_per_uts_namespace(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    assert k.namespaces.hostname(box.pid) == "sim-host"  # a copy of the parent's
    box.handle.sethostname("web1")
    assert k.namespaces.hostname(box.pid) == "web1"
    assert k.namespaces.hostname(1) == "sim-host"
    assert k.tracer.ops[-1].call == "sethostname"


def test_loopback_is_down_until_brought_up(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    assert k.namespaces.interfaces(box.pid) == {"lo": False}
    box.handle.bring_up_loopback()
    assert k.namespaces.interfaces(box.pid) == {"lo": True}
    assert k.namespaces.interfaces(1) == {"lo": True, "eth0": True}


def test_host_network_shares_the_net_namespace(k, tmp_path):
    kinds = tuple(x for x in DEFAULT_CONTAINER_NAMESPACES if x is not NamespaceKind.NET)
    box = Box(k, tmp_path, namespaces=kinds, setup=False)
    assert k.namespaces.of(box.pid)[NamespaceKind.NET] == k.namespaces.of(1)[NamespaceKind.NET]
    assert "eth0" in k.namespaces.interfaces(box.pid)


def test_mounts_in_a_container_do_not_appear_on_the_host(k, tmp_path):
    host_before = k.mounts(1)
    box = Box(k, tmp_path)
    inside = [m.target for m in k.namespaces.mounts(box.pid)]
    assert inside[0] == "/" and "/proc" in inside and "/dev/shm" in inside
    host_after = k.mounts(1)
    assert [m for m in host_after if "/var/lib/stepbox/test" not in m.target] == host_before
    assert not any(m.target.endswith("/merged/proc") for m in host_after)


def test_mount_table_is_copied_lazily_and_then_independent(k, tmp_path):
    box = Box(k, tmp_path, setup=False)
    host_table = k.procs.get(1).ns.mnt.table
    assert box.proc.ns.mnt.table is host_table  # shared until someone changes it
    box.handle.make_mounts_private()
    assert box.proc.ns.mnt.table is not host_table
    assert all(m.shared for m in host_table.mounts.values())
    assert not any(m.shared for m in box.proc.ns.mnt.table.mounts.values())


def test_sethostname_needs_cap_sys_admin(k, tmp_path):
    box = Box(k, tmp_path)  # capabilities dropped to Docker's default set
    out = []

    def prog(sys):
        try:
            sys.sethostname("evil")
        except PermissionError as e:
            out.append(e.errno)
        try:
            sys.mount("tmpfs", "/tmp", "tmpfs")
        except PermissionError as e:
            out.append(e.errno)
        return 0
        yield

    assert box.run(prog).code == 0
    assert out == [errno.EPERM, errno.EPERM]
    assert k.namespaces.hostname(1) == "sim-host"


def test_sethostname_inside_before_the_drop_changes_only_the_container(k, tmp_path):
    box = Box(k, tmp_path, setup=False)

    def prog(sys):
        sys.sethostname("inner")
        say(sys, sys.gethostname() + " " + sys.uname()[1] + "\n")
        return 0
        yield

    box.enter_rootfs()
    assert box.run(prog).code == 0
    assert box.stdout() == "inner inner\n"
    assert k.namespaces.hostname(1) == "sim-host"


def test_user_namespace_maps_ids(k, tmp_path):
    kinds = DEFAULT_CONTAINER_NAMESPACES + (NamespaceKind.USER,)
    box = Box(
        k,
        tmp_path,
        namespaces=kinds,
        uid_map=((0, 100000, 65536),),
        gid_map=((0, 100000, 65536),),
        setup=False,
    )
    seen = {}

    def prog(sys):
        seen["uid"], seen["gid"] = sys.getuid(), sys.getgid()
        data = yield from read_all(sys, "/proc/self/uid_map")
        seen["map"] = data.decode().split()
        return 0

    box.handle.make_mounts_private()
    box.handle.mount(MountSpec("proc", "/proc", "proc"), box.rootfs)
    box.handle.pivot_root(box.rootfs)
    box.proc.uid = box.proc.gid = 100000  # the outside ids of the mapped root
    assert box.run(prog).code == 0
    assert seen == {"uid": 0, "gid": 0, "map": ["0", "100000", "65536"]}


def test_cgroup_namespace_root_is_the_containers_cgroup(k, tmp_path):
    box = Box(k, tmp_path)
    assert box.proc.ns.cgroup.root is k.cgroups.lookup(box.cgroup)


@settings()
@given(kinds=st.sets(st.sampled_from([k for k in NamespaceKind if k is not NamespaceKind.USER])))
def test_only_the_requested_kinds_are_new(kinds):
    k = boot()
    h = k.processes.spawn(SpawnSpec(namespaces=tuple(kinds)))
    host, mine = k.namespaces.of(1), k.namespaces.of(h.pid)
    for kind in NamespaceKind:
        assert (mine[kind] != host[kind]) == (kind in kinds)
    expected_pid = 1 if NamespaceKind.PID in kinds else h.pid
    assert k.namespaces.pid_in_namespace(h.pid) == expected_pid
