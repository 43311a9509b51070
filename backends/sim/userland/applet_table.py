"""Which applets exist, where each one lives, and how busybox runs them.

:func:`lookup` is what the multi-call binary does with ``basename(argv[0])``.
``REAL_APPLETS`` is the list ``busybox --list`` prints for busybox 1.35 on
Debian: names real busybox knows, so an unimplemented one answers "applet
not available in the stepbox simulator" rather than real busybox's "applet
not found".  ``MODULES`` says which module implements which applets; a
module is imported the first time one of its applets runs, so starting a
container costs only the modules it uses.  ``NOEXEC`` and ``NOFORK`` are
busybox's own marks on its applets (see :mod:`.spawn`).
"""

from __future__ import annotations

import importlib

from ..sys_api import Program

# The shell's answer when an applet name is run by its own binary (busybox's
# FEATURE_SH_STANDALONE); ``type`` and ``command -v`` show it as the bare name.
STANDALONE_APPLET = "\0applet"

REAL_APPLETS: tuple[str, ...] = (
    '[',
    '[[',
    'acpid',
    'adjtimex',
    'ar',
    'arch',
    'arp',
    'arping',
    'ascii',
    'ash',
    'awk',
    'base64',
    'basename',
    'bc',
    'blkdiscard',
    'blockdev',
    'brctl',
    'bunzip2',
    'busybox',
    'bzcat',
    'bzip2',
    'cal',
    'cat',
    'chgrp',
    'chmod',
    'chown',
    'chroot',
    'chvt',
    'clear',
    'cmp',
    'cp',
    'cpio',
    'crc32',
    'crond',
    'crontab',
    'cttyhack',
    'cut',
    'date',
    'dc',
    'dd',
    'deallocvt',
    'depmod',
    'devmem',
    'df',
    'diff',
    'dirname',
    'dmesg',
    'dnsdomainname',
    'dos2unix',
    'dpkg',
    'dpkg-deb',
    'du',
    'dumpkmap',
    'dumpleases',
    'echo',
    'ed',
    'egrep',
    'env',
    'expand',
    'expr',
    'factor',
    'fallocate',
    'false',
    'fatattr',
    'fdisk',
    'fgrep',
    'find',
    'findfs',
    'fold',
    'free',
    'freeramdisk',
    'fsfreeze',
    'fstrim',
    'ftpget',
    'ftpput',
    'getopt',
    'getty',
    'grep',
    'groups',
    'gunzip',
    'gzip',
    'halt',
    'head',
    'hexdump',
    'hostid',
    'hostname',
    'httpd',
    'hwclock',
    'i2cdetect',
    'i2cdump',
    'i2cget',
    'i2cset',
    'i2ctransfer',
    'id',
    'ifconfig',
    'ifdown',
    'ifup',
    'init',
    'insmod',
    'ionice',
    'ip',
    'ipcalc',
    'ipneigh',
    'kill',
    'killall',
    'klogd',
    'last',
    'less',
    'link',
    'linux32',
    'linux64',
    'linuxrc',
    'ln',
    'loadfont',
    'loadkmap',
    'logger',
    'login',
    'logname',
    'logread',
    'losetup',
    'ls',
    'lsmod',
    'lsscsi',
    'lzcat',
    'lzma',
    'lzop',
    'md5sum',
    'mdev',
    'microcom',
    'mim',
    'mkdir',
    'mkdosfs',
    'mke2fs',
    'mkfifo',
    'mknod',
    'mkpasswd',
    'mkswap',
    'mktemp',
    'modinfo',
    'modprobe',
    'more',
    'mount',
    'mt',
    'mv',
    'nameif',
    'nc',
    'netstat',
    'nl',
    'nologin',
    'nproc',
    'nsenter',
    'nslookup',
    'nuke',
    'od',
    'openvt',
    'partprobe',
    'passwd',
    'paste',
    'patch',
    'pidof',
    'ping',
    'ping6',
    'pivot_root',
    'poweroff',
    'printf',
    'ps',
    'pwd',
    'rdate',
    'readlink',
    'realpath',
    'reboot',
    'renice',
    'reset',
    'resume',
    'rev',
    'rm',
    'rmdir',
    'rmmod',
    'route',
    'rpm',
    'rpm2cpio',
    'run-init',
    'run-parts',
    'sed',
    'seq',
    'setkeycodes',
    'setpriv',
    'setsid',
    'sh',
    'sha1sum',
    'sha256sum',
    'sha3sum',
    'sha512sum',
    'shred',
    'shuf',
    'sleep',
    'sort',
    'ssl_client',
    'start-stop-daemon',
    'stat',
    'strings',
    'stty',
    'su',
    'sulogin',
    'svc',
    'svok',
    'swapoff',
    'swapon',
    'switch_root',
    'sync',
    'sysctl',
    'syslogd',
    'tac',
    'tail',
    'tar',
    'taskset',
    'tc',
    'tee',
    'telnet',
    'telnetd',
    'test',
    'tftp',
    'time',
    'timeout',
    'top',
    'touch',
    'tr',
    'traceroute',
    'traceroute6',
    'true',
    'truncate',
    'ts',
    'tty',
    'tunctl',
    'ubirename',
    'udhcpc',
    'udhcpd',
    'uevent',
    'umount',
    'uname',
    'uncompress',
    'unexpand',
    'uniq',
    'unix2dos',
    'unlink',
    'unlzma',
    'unshare',
    'unxz',
    'unzip',
    'uptime',
    'usleep',
    'uudecode',
    'uuencode',
    'vconfig',
    'vi',
    'w',
    'watch',
    'watchdog',
    'wc',
    'wget',
    'which',
    'who',
    'whoami',
    'xargs',
    'xxd',
    'xz',
    'xzcat',
    'yes',
    'zcat',
)


# module (in this package) -> the applets it registers with @applet
MODULES: dict[str, tuple[str, ...]] = {
    "sh_main": ("sh", "ash"),
    "applets_text": (
        "true",
        "false",
        "echo",
        "printf",
        "test",
        "[",
        "cat",
        "head",
        "tail",
        "wc",
        "grep",
        "egrep",
        "fgrep",
        "basename",
        "dirname",
    ),
    "applets_sed": ("sed",),
    "awk.main": ("awk",),
    "applets_find": ("find",),
    "applets_xargs": ("xargs",),
    "applets_digest": ("md5sum", "sha1sum", "sha256sum", "sha512sum", "sha3sum", "crc32"),
    "applets_encode": ("base64", "uuencode", "uudecode"),
    "applets_dump": ("od", "hexdump", "xxd"),
    "applets_tar": ("tar",),
    "applets_gzip": (
        "gzip",
        "gunzip",
        "zcat",
        "bzip2",
        "bunzip2",
        "bzcat",
        "xz",
        "unxz",
        "xzcat",
        "lzma",
        "unlzma",
        "lzcat",
        "uncompress",
    ),
    "applets_lines": (
        "cmp",
        "paste",
        "fold",
        "nl",
        "rev",
        "tac",
        "expand",
        "unexpand",
        "strings",
        "dos2unix",
        "unix2dos",
        "shuf",
    ),
    "applets_sort": ("sort",),
    "applets_time": ("date",),
    "applets_filters": ("uniq", "cut", "tr", "tee", "yes", "seq", "expr"),
    "applets_files": ("mkdir", "rmdir", "touch", "ln", "readlink", "dd", "pwd"),
    "applets_ls": ("ls",),
    "applets_stat": ("stat",),
    "applets_disk": ("du", "df"),
    "applets_copy": ("rm", "cp", "mv"),
    "applets_owners": ("chown", "chgrp", "chmod"),
    "applets_proc": ("ps", "kill", "sleep", "usleep", "free", "nproc"),
    "applets_system": (
        "hostname",
        "id",
        "whoami",
        "uname",
        "which",
        "env",
        "mount",
        "umount",
        "ip",
    ),
}

_MODULE_OF: dict[str, str] = {name: mod for mod, names in MODULES.items() for name in names}

# Applets busybox 1.35 marks NOEXEC: a shell (FEATURE_SH_STANDALONE) or an
# applet that spawns one (FEATURE_PREFER_APPLETS: xargs, find -exec...) runs
# it in the forked child without execve -- so /proc/PID/cmdline stays the
# parent's and ``ps`` shows ``{ps} sh -c ...``.
NOEXEC = frozenset(
    """awk blkdiscard blockdev brctl cal chgrp chmod chown chroot chvt cp crc32 cttyhack cut
    date dd deallocvt df dnsdomainname dos2unix dumpkmap dumpleases env expr fatattr find fold
    freeramdisk fsfreeze fstrim getopt groups head hexdump hostname id insmod ionice ip ipcalc
    ipneigh linux32 linux64 ln loadfont loadkmap losetup ls lsmod lsscsi md5sum mkfifo mknod
    mkpasswd mktemp modinfo modprobe mv nameif nuke partprobe paste ps renice reset resume rm
    rmmod seq setkeycodes sha1sum sha256sum sha3sum sha512sum shuf sort stat stty sulogin svc
    svok sysctl tac taskset tunctl umount unix2dos uptime vconfig w who xargs xxd yes""".split()
)
# Applets marked NOFORK: an applet that spawns one runs it inside itself,
# without even a fork.  (Debian's ash is built without FEATURE_SH_NOFORK:
# the shell still forks for them.)
NOFORK = frozenset(
    """[ [[ adjtimex arch basename clear dirname echo false free hostid kill killall link
    logname mkdir nproc pivot_root printf pwd readlink realpath rmdir sync test touch true
    truncate tty uname unlink usleep which whoami""".split()
)

_TABLE: dict[str, Program] = {}


def applet(*names: str):
    """Decorator: register a program under one or more applet names (each
    must be listed under its module in ``MODULES``)."""

    def register(fn: Program) -> Program:
        for name in names:
            _TABLE[name] = fn
        return fn

    return register


def lookup(name: str) -> Program | None:
    """The program of an implemented applet, importing its module if needed."""
    program = _TABLE.get(name)
    if program is None:
        module = _MODULE_OF.get(name)
        if module is None:
            return None
        importlib.import_module(f"{__package__}.{module}")
        program = _TABLE.get(name)
    return program


def implemented_names() -> tuple[str, ...]:
    return tuple(sorted(_MODULE_OF))
