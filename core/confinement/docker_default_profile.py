"""Docker's default seccomp profile, as dockerd 20.10 applies it.

Read as a policy: a container may make about 350 system calls -- everything
an ordinary program needs -- and every other call fails with EPERM.  What is
refused is what reaches past the container: ``unshare`` and ``setns`` (new or
other namespaces), ``mount``, ``reboot``, ``init_module``, ``bpf``,
``perf_event_open``, ``keyctl``, ``add_key``, ``userfaultfd``,
``clock_settime``, ``acct``, ``swapon`` ...  Some are allowed *because of* a
capability: with ``--cap-add SYS_ADMIN`` the namespace and mount calls come
back, with ``SYS_TIME`` setting the clock, with ``SYS_PTRACE`` ptrace and
process_vm_*.  ``clone`` is allowed unless it asks for a new namespace, and
``clone3`` (whose flags live in memory the filter cannot read) answers ENOSYS
so that libc falls back to ``clone``.

This is stepbox's own statement of moby's ``profiles/seccomp/default.json``
at v20.10.24 (the rules, not the file): the allowed calls in alphabetical
order, then the conditional rules in the order the profile has them.  What
later Docker releases changed is listed in :data:`LATER_CHANGES`.
"""

from __future__ import annotations

from stepbox.core.kernel.seccomp import ArgCondition

from .seccomp_profile import Condition, Profile, ProfileRule

# The calls every container may make (the profile's first, unconditional rule).
ALLOWED = """
    accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
    clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
    clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup
    dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
    epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
    faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown
    fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
    fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex
    futex_time64 futex_waitv futimesat get_robust_list get_thread_area getcpu getcwd getdents
    getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32
    getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
    getresgid32 getresuid getresuid32 getrlimit getrusage getsid getsockname getsockopt gettid
    gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
    inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64
    io_setup io_submit io_uring_enter io_uring_register io_uring_setup ioctl ioprio_get
    ioprio_set ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
    lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek
    lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat
    mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
    mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap
    msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep newfstatat _newselect
    open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 poll ppoll ppoll_time64
    prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64
    pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
    recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2
    restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
    rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
    sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr sched_getparam
    sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
    sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget
    semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
    set_robust_list set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32
    setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32
    setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid setsockopt
    setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
    sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs statfs64 statx
    symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
    timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
    timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times
    tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
    utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
""".split()


ALWAYS = Condition()  # no condition


def allow(*names: str, includes: Condition = ALWAYS, excludes: Condition = ALWAYS, args=()) -> ProfileRule:
    return ProfileRule(
        names=names, action="SCMP_ACT_ALLOW", args=tuple(args), includes=includes, excludes=excludes
    )


def with_caps(*caps: str) -> Condition:
    return Condition(caps=caps)


def on(*arches: str) -> Condition:
    return Condition(arches=arches)


def arg(index: int, op: str, value: int, value_two: int = 0) -> ArgCondition:
    return ArgCondition(index, op, value, value_two)


# CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET
CLONE_NAMESPACE_FLAGS = 0x7E020000
# personality(2) values programs use: PER_LINUX, UNAME26, PER_LINUX32,
# UNAME26|PER_LINUX32, and 0xffffffff (only asks for the current one).
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

RULES: tuple[ProfileRule, ...] = (
    allow(*ALLOWED),
    allow("ptrace", includes=Condition(min_kernel=(4, 8))),  # older kernels let ptrace bypass seccomp
    *(allow("personality", args=[arg(0, "SCMP_CMP_EQ", p)]) for p in PERSONALITIES),
    allow("sync_file_range2", includes=on("ppc64le")),
    allow(
        "arm_fadvise64_64",
        "arm_sync_file_range",
        "sync_file_range2",
        "breakpoint",
        "cacheflush",
        "set_tls",
        includes=on("arm", "arm64"),
    ),
    allow("arch_prctl", includes=on("amd64", "x32")),
    allow("modify_ldt", includes=on("amd64", "x32", "x86")),
    allow("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr", includes=on("s390", "s390x")),
    allow("open_by_handle_at", includes=with_caps("CAP_DAC_READ_SEARCH")),
    allow(
        "bpf",
        "clone",
        "clone3",
        "fanotify_init",
        "fsconfig",
        "fsmount",
        "fsopen",
        "fspick",
        "lookup_dcookie",
        "mount",
        "mount_setattr",
        "move_mount",
        "name_to_handle_at",
        "open_tree",
        "perf_event_open",
        "quotactl",
        "quotactl_fd",
        "setdomainname",
        "sethostname",
        "setns",
        "syslog",
        "umount",
        "umount2",
        "unshare",
        includes=with_caps("CAP_SYS_ADMIN"),
    ),
    allow(
        "clone",
        args=[arg(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0)],
        excludes=Condition(caps=("CAP_SYS_ADMIN",), arches=("s390", "s390x")),
    ),
    ProfileRule(  # s390 passes clone's flags second
        names=("clone",),
        action="SCMP_ACT_ALLOW",
        args=(arg(1, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0),),
        includes=on("s390", "s390x"),
        excludes=with_caps("CAP_SYS_ADMIN"),
        comment="s390 parameter ordering for clone is different",
    ),
    ProfileRule(
        names=("clone3",),
        action="SCMP_ACT_ERRNO",
        errno_ret=38,  # ENOSYS: "no such call", so glibc falls back to clone(2)
        excludes=with_caps("CAP_SYS_ADMIN"),
    ),
    allow("reboot", includes=with_caps("CAP_SYS_BOOT")),
    allow("chroot", includes=with_caps("CAP_SYS_CHROOT")),
    allow("delete_module", "init_module", "finit_module", includes=with_caps("CAP_SYS_MODULE")),
    allow("acct", includes=with_caps("CAP_SYS_PACCT")),
    allow(
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
        includes=with_caps("CAP_SYS_PTRACE"),
    ),
    allow("iopl", "ioperm", includes=with_caps("CAP_SYS_RAWIO")),
    allow("settimeofday", "stime", "clock_settime", includes=with_caps("CAP_SYS_TIME")),
    allow("vhangup", includes=with_caps("CAP_SYS_TTY_CONFIG")),
    allow("get_mempolicy", "mbind", "set_mempolicy", includes=with_caps("CAP_SYS_NICE")),
    allow("syslog", includes=with_caps("CAP_SYSLOG")),
)

DOCKER_DEFAULT_PROFILE = Profile(
    default_action="SCMP_ACT_ERRNO",  # EPERM
    arch_map=(
        ("SCMP_ARCH_X86_64", ("SCMP_ARCH_X86", "SCMP_ARCH_X32")),
        ("SCMP_ARCH_AARCH64", ("SCMP_ARCH_ARM",)),
        ("SCMP_ARCH_MIPS64", ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32")),
        ("SCMP_ARCH_MIPS64N32", ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64")),
        ("SCMP_ARCH_MIPSEL64", ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32")),
        ("SCMP_ARCH_MIPSEL64N32", ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64")),
        ("SCMP_ARCH_S390X", ("SCMP_ARCH_S390",)),
    ),
    rules=RULES,
)

# What Docker's default profile changed after 20.10 (read from moby's
# default.json at each release), for the reader comparing with a newer
# dockerd.  Not applied: stepbox follows the Docker it is tested against.
LATER_CHANGES = (
    "23.0: defaultErrnoRet 1 written out (EPERM, as before); riscv64 in archMap",
    "23.0: socket() allowed only when the family is not AF_VSOCK (40)",
    "23.0: pkey_alloc, pkey_free, pkey_mprotect allowed; process_vm_readv/writev allowed on kernels "
    ">= 4.8 (before: only with CAP_SYS_PTRACE)",
    "23.0: bpf allowed with CAP_BPF, perf_event_open with CAP_PERFMON (besides CAP_SYS_ADMIN); "
    "clock_settime64 with CAP_SYS_TIME; swapcontext on ppc64le; riscv_flush_icache on riscv64",
    "25.0: io_uring_setup, io_uring_enter, io_uring_register no longer allowed; name_to_handle_at "
    "allowed without CAP_SYS_ADMIN",
    "26.0: cachestat, fchmodat2, futex_wait, futex_wake, futex_requeue, map_shadow_stack allowed; "
    "set_mempolicy_home_node with CAP_SYS_NICE",
)
