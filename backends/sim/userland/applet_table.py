"""Which applets exist, and how a name finds its program.

An applet registers itself with :func:`applet`; :func:`lookup` is what the
multi-call binary does with ``basename(argv[0])``.  ``REAL_APPLETS`` is the
list ``busybox --list`` prints for busybox 1.35 on Debian: names real busybox
knows, so an unimplemented one answers "applet not available in the stepbox
simulator" rather than real busybox's "applet not found".
"""

from __future__ import annotations

import importlib

from ..sys_api import Program

# The shell's answer when an applet name is run by its own binary (busybox's
# FEATURE_SH_STANDALONE); ``type`` and ``command -v`` show it as the bare name.
STANDALONE_APPLET = "\0applet"

REAL_APPLETS: tuple[str, ...] = (
    '[', '[[', 'acpid', 'adjtimex', 'ar', 'arch', 'arp', 'arping', 'ascii', 'ash',
    'awk', 'base64', 'basename', 'bc', 'blkdiscard', 'blockdev', 'brctl', 'bunzip2', 'busybox', 'bzcat',
    'bzip2', 'cal', 'cat', 'chgrp', 'chmod', 'chown', 'chroot', 'chvt', 'clear', 'cmp',
    'cp', 'cpio', 'crc32', 'crond', 'crontab', 'cttyhack', 'cut', 'date', 'dc', 'dd',
    'deallocvt', 'depmod', 'devmem', 'df', 'diff', 'dirname', 'dmesg', 'dnsdomainname', 'dos2unix', 'dpkg',
    'dpkg-deb', 'du', 'dumpkmap', 'dumpleases', 'echo', 'ed', 'egrep', 'env', 'expand', 'expr',
    'factor', 'fallocate', 'false', 'fatattr', 'fdisk', 'fgrep', 'find', 'findfs', 'fold', 'free',
    'freeramdisk', 'fsfreeze', 'fstrim', 'ftpget', 'ftpput', 'getopt', 'getty', 'grep', 'groups', 'gunzip',
    'gzip', 'halt', 'head', 'hexdump', 'hostid', 'hostname', 'httpd', 'hwclock', 'i2cdetect', 'i2cdump',
    'i2cget', 'i2cset', 'i2ctransfer', 'id', 'ifconfig', 'ifdown', 'ifup', 'init', 'insmod', 'ionice',
    'ip', 'ipcalc', 'ipneigh', 'kill', 'killall', 'klogd', 'last', 'less', 'link', 'linux32',
    'linux64', 'linuxrc', 'ln', 'loadfont', 'loadkmap', 'logger', 'login', 'logname', 'logread', 'losetup',
    'ls', 'lsmod', 'lsscsi', 'lzcat', 'lzma', 'lzop', 'md5sum', 'mdev', 'microcom', 'mim',
    'mkdir', 'mkdosfs', 'mke2fs', 'mkfifo', 'mknod', 'mkpasswd', 'mkswap', 'mktemp', 'modinfo', 'modprobe',
    'more', 'mount', 'mt', 'mv', 'nameif', 'nc', 'netstat', 'nl', 'nologin', 'nproc',
    'nsenter', 'nslookup', 'nuke', 'od', 'openvt', 'partprobe', 'passwd', 'paste', 'patch', 'pidof',
    'ping', 'ping6', 'pivot_root', 'poweroff', 'printf', 'ps', 'pwd', 'rdate', 'readlink', 'realpath',
    'reboot', 'renice', 'reset', 'resume', 'rev', 'rm', 'rmdir', 'rmmod', 'route', 'rpm',
    'rpm2cpio', 'run-init', 'run-parts', 'sed', 'seq', 'setkeycodes', 'setpriv', 'setsid', 'sh', 'sha1sum',
    'sha256sum', 'sha3sum', 'sha512sum', 'shred', 'shuf', 'sleep', 'sort', 'ssl_client', 'start-stop-daemon', 'stat',
    'strings', 'stty', 'su', 'sulogin', 'svc', 'svok', 'swapoff', 'swapon', 'switch_root', 'sync',
    'sysctl', 'syslogd', 'tac', 'tail', 'tar', 'taskset', 'tc', 'tee', 'telnet', 'telnetd',
    'test', 'tftp', 'time', 'timeout', 'top', 'touch', 'tr', 'traceroute', 'traceroute6', 'true',
    'truncate', 'ts', 'tty', 'tunctl', 'ubirename', 'udhcpc', 'udhcpd', 'uevent', 'umount', 'uname',
    'uncompress', 'unexpand', 'uniq', 'unix2dos', 'unlink', 'unlzma', 'unshare', 'unxz', 'unzip', 'uptime',
    'usleep', 'uudecode', 'uuencode', 'vconfig', 'vi', 'w', 'watch', 'watchdog', 'wc', 'wget',
    'which', 'who', 'whoami', 'xargs', 'xxd', 'xz', 'xzcat', 'yes', 'zcat',
)

_TABLE: dict[str, Program] = {}

# Modules that register applets; imported on first lookup so that importing
# the userland package stays cheap and free of cycles.
_APPLET_MODULES = ("sh_main", "applets_text", "applets_filters", "applets_files", "applets_copy", "applets_owners",
                   "applets_proc", "applets_system", "applets_busybox")
_loaded = False


def applet(*names: str):
    """Decorator: register a program under one or more applet names."""
    def register(fn: Program) -> Program:
        for name in names:
            _TABLE[name] = fn
        return fn
    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _APPLET_MODULES:
            importlib.import_module(f"{__package__}.{mod}")


def lookup(name: str) -> Program | None:
    _load()
    return _TABLE.get(name)


def implemented_names() -> tuple[str, ...]:
    _load()
    return tuple(sorted(_TABLE))
