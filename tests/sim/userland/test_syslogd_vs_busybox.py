"""syslogd, logger and logread on the simulator against REAL busybox
on the real kernel -- which also compares the simulated kernel's AF_UNIX
datagram sockets (backends/sim/net/unix.py) with Linux's: the socket inode
bind makes (ls -l, test -S, stat), open(2) of it (ENXIO), a stale socket
after syslogd exits, a name taken by a directory (EADDRINUSE), a missing
directory (ENOENT), permissions on the socket, umask.

The oracle's /dev and /var outlive a run, so each case starts by removing
what an earlier one left.  Time stamps and the host name (the oracle's is
the machine's) are normalised."""

from __future__ import annotations

import re
import socket

import pytest

FRESH = "rm -rf /dev/log /var/run /var/log /tmp/*; mkdir -p /var/run /var/log; "
STAMP = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d", re.M)
HOSTS = re.compile(r"^STAMP (?:c\d+|box\d+|" + re.escape(socket.gethostname().split(".")[0]) + ") ", re.M)


def normalise(text: str) -> str:
    return HOSTS.sub("STAMP HOST ", STAMP.sub("STAMP", text))


START = "syslogd -n {opts} & sleep 0.2; "
STOP = "sleep 0.2; kill {sig} $!; wait; "

CASES = [
    # the socket inode, the line format, priorities and facilities, logger's stdin lines
    FRESH
    + START.format(opts="")
    + "ls -l /dev/log | cut -c1-10; test -S /dev/log; echo S$?; test -f /dev/log; echo f$?; "
    "stat -c '%F %a %s' /dev/log; logger hello world; logger -p local3.err -t tg x; "
    "printf 'a\\nb\\n\\n' | logger -t multi; logger -p 7 dbg; logger -p auth.crit c; logger -p 0 emerg; "
    + STOP.format(sig="")
    + "cat /var/log/messages; ls -l /dev/log | cut -c1-10; logger after; echo $?; cat /var/log/messages | wc -l",
    # -S -O - -t -l, control characters, a client time stamp, SIGINT
    FRESH
    + START.format(opts="-S -O -")
    + "printf 'x\\001y\\tz' | logger -t c; logger -t T 'Jan 18 00:11:22 hi'; "
    + STOP.format(sig="-INT"),
    FRESH
    + START.format(opts="-t -O - -l 4")
    + "logger -p err -t T 'Jan 18 00:11:22 hi'; logger -p warn nowarn; logger -p crit yes; "
    + STOP.format(sig=""),
    # option errors; a daemon that writes its pidfile, a symlinked /dev/log, -m accepted
    FRESH + "syslogd -l x; echo $?; syslogd -l 0; echo $?; syslogd -O; echo $?; syslogd a; echo $?; "
    "syslogd -x; echo $?; ln -s /tmp/sock /dev/log; syslogd -m 1 -O /tmp/o; echo $?; sleep 0.2; "
    "ls -l /tmp/sock | cut -c1-10; test -s /var/run/syslogd.pid; echo pid$?; logger -t z yo; sleep 0.1; "
    "cat /tmp/o; kill $(cat /var/run/syslogd.pid); sleep 0.2; ls /var/run",
    # umask does not matter (chmod 0666); open(2) of a socket; stale and non-socket names; rm
    FRESH
    + "umask 077; "
    + START.format(opts="-O /tmp/o")
    + "ls -l /dev/log | cut -c1-10; (: > /dev/log) 2>&1; cat /dev/log 2>&1; "
    + STOP.format(sig="-INT")
    + "cat /tmp/o; logger stale; echo $?; rm /dev/log; test -e /dev/log; echo e$?; logger gone; echo $?; "
    ": > /tmp/f; ln -s /tmp/f /dev/log; logger notsock; echo $?; cat /tmp/o | wc -l",
    # bind where a directory is, or under a missing one
    FRESH
    + "mkdir /dev/log; syslogd -n; echo $?; rmdir /dev/log; ln -s /tmp/nodir/x /dev/log; syslogd -n; echo $?",
    # who may write to the socket: logger as nobody, before and after chmod 600
    # (su logs its own "+ none root:nobody" at auth.notice)
    FRESH
    + START.format(opts="-O /tmp/o")
    + "su -s /bin/sh nobody -c 'logger -t n one'; chmod 600 /dev/log; su -s /bin/sh nobody -c 'logger -t n two; echo $?'; "
    + STOP.format(sig="")
    + "cat /tmp/o",
]


# syslogd -C and logread: SysV shared memory and semaphores (backends/sim/sysv_ipc.py); the
# oracle runs in an IPC namespace of its own
LOOP = 'i=0; while [ $i -lt {n} ]; do logger -t t "line $i"; i=$((i+1)); done; sleep 0.3; '
CASES += [
    FRESH
    + "logread; echo $?; logread -x; echo $?; "
    + START.format(opts="-C")
    + "logger one; logger -t t two; sleep 0.1; logread; echo $?; "
    + STOP.format(sig="")
    + "logread; echo $?; ls /var/log",
    # a 4 KiB ring that wraps: the oldest complete line first
    FRESH + START.format(opts="-S -C4") + LOOP.format(n=200) + "logread | head -2; logread | wc -l; "
    "logread | tail -1; " + STOP.format(sig=""),
    FRESH
    + "syslogd -C3; echo $?; syslogd -Cx; echo $?; "
    + START.format(opts="-S -C4")
    + "s=$!; logger first; logread -F > /tmp/f & sleep 0.3; logger second; sleep 1.5; kill $!; cat /tmp/f; "
    "sleep 0.2; kill $s; wait",
]


@pytest.mark.parametrize("script", CASES)
def test_syslogd_cases(same, script):
    same(script, normalise=normalise)
