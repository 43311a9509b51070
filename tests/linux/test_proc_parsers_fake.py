"""/proc parsers against fake files (pyfakefs): runs on any OS, as any user."""

from __future__ import annotations

from stepbox.backends.linux import procfs

MOUNTINFO = """\
22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w
23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime master:7 - cgroup cgroup rw,memory
40 22 8:1 / /mnt/with\\040space rw - ext4 /dev/sda1 rw
"""


def test_mountinfo_fields_optional_fields_and_escapes(fs):
    fs.create_file("/proc/self/mountinfo", contents=MOUNTINFO)
    entries = procfs.read_mountinfo()
    assert [e.mountpoint for e in entries] == [
        "/",
        "/proc",
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/memory",
        "/mnt/with space",
    ]
    root = entries[0]
    assert root.optional == ("shared:1",) and root.fstype == "overlay"
    assert root.super_options == "rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w"
    mem = entries[3]
    assert mem.root == "/docker/abc" and mem.super_options == "rw,memory"
    assert mem.parent_id == 31 and mem.optional == ("master:7",)
    assert entries[2].optional == ()


def test_mounts_file(fs):
    fs.create_file(
        "/proc/42/mounts",
        contents=(
            "overlay / overlay rw,relatime,lowerdir=/a 0 0\n"
            "proc /proc proc rw,nosuid 0 0\n"
            "tmpfs /a\\040b tmpfs ro 0 0\n"
        ),
    )
    mounts = procfs.read_mounts(42)
    assert [(m.source, m.target, m.fstype) for m in mounts] == [
        ("overlay", "/", "overlay"),
        ("proc", "/proc", "proc"),
        ("tmpfs", "/a b", "tmpfs"),
    ]
    assert str(mounts[1]) == "proc /proc proc rw,nosuid 0 0"


STATUS = """\
Name:\tsh
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Pid:\t4242
PPid:\t4240
NSpid:\t4242\t7\t1
CapBnd:\t00000000a80425fb
CapEff:\t00000000a80425fb
NoNewPrivs:\t1
"""


def test_status_nspid_caps_and_state(fs):
    fs.create_file("/proc/4242/status", contents=STATUS)
    st = procfs.read_status(4242)
    assert (st.name, st.state, st.pid, st.ppid) == ("sh", "S", 4242, 4240)
    assert st.nspid == (4242, 7, 1) and st.nspid[-1] == 1  # PID 1 in the innermost ns
    assert st.cap_eff == 0xA80425FB and st.no_new_privs


def test_status_without_nspid_falls_back_to_pid(fs):
    fs.create_file("/proc/9/status", contents="Name:\tx\nState:\tR (running)\nPid:\t9\nPPid:\t1\n")
    assert procfs.read_status(9).nspid == (9,)


def test_stat_comm_with_spaces_and_parens(fs):
    # comm may contain ") (": only the last ')' ends it.
    fields = ["S", "1"] + ["0"] * 17 + ["123456"] + ["0"] * 10
    fs.create_file("/proc/77/stat", contents=f"77 (we (ird) name) {' '.join(fields)}\n")
    st = procfs.read_stat(77)
    assert st.comm == "we (ird) name" and st.state == "S" and st.ppid == 1
    assert st.starttime == 123456
    assert procfs.start_time(77) == 123456
    assert procfs.start_time(78) is None  # no such process


def test_cgroup_file_v1_v2_and_hybrid_lines(fs):
    fs.create_file(
        "/proc/5/cgroup",
        contents=(
            "12:pids:/stepbox/c1\n4:cpu,cpuacct:/stepbox/c1\n1:name=systemd:/user.slice\n0::/stepbox/c1\n"
        ),
    )
    lines = procfs.read_cgroup_file(5)
    assert lines[0] == procfs.CgroupLine(12, ("pids",), "/stepbox/c1")
    assert lines[1].controllers == ("cpu", "cpuacct")
    assert lines[2].controllers == ("name=systemd",)
    assert procfs.v2_cgroup_path(lines) == "/stepbox/c1"
    assert procfs.v2_cgroup_path(lines[:3]) == ""


def test_namespace_links(fs):
    fs.create_dir("/proc/3/ns")
    fs.create_symlink("/proc/3/ns/uts", "uts:[4026531838]")
    fs.create_symlink("/proc/3/ns/pid", "pid:[4026531836]")
    assert procfs.read_namespaces(3) == {"uts": 4026531838, "pid": 4026531836}
    assert procfs.parse_ns_link("mnt:[4026531841]") == 4026531841


def test_cmdline_and_pid_list(fs):
    fs.create_file("/proc/8/cmdline", contents=b"/bin/sh\x00-c\x00echo hi\x00")
    fs.create_dir("/proc/self")
    fs.create_dir("/proc/12")
    assert procfs.read_cmdline(8) == ("/bin/sh", "-c", "echo hi")
    assert procfs.list_pids() == [8, 12]


def test_namespaces_strict_says_why(fs):
    import pytest

    with pytest.raises(ProcessLookupError):
        procfs.read_namespaces(404, strict=True)
    fs.create_dir("/proc/405/ns")  # a process whose ns links are missing
    assert procfs.read_namespaces(405, strict=True) == {}
