"""The daemon applets on the simulator against REAL busybox: svok and svc
(a service directory's supervise/ files as regular files -- the simulator
has no FIFOs), ..."""

from __future__ import annotations

import pytest

STATUS = "printf '0123456789abcdefghij' > s/supervise/status; "

RUNIT_CASES = [
    "svok; echo $?; svok nope; echo $?; svok ./nope; echo $?; mkdir -p s/supervise; svok ./s; echo $?; "
    "svok s/; echo $?; : > s/supervise/ok; svok ./s; echo $?; svok /work/s; echo $?; svok ./s/supervise/ok; echo $?; "
    "rm s/supervise/ok; mkdir s/supervise/ok; svok ./s; echo $?",
    "mkdir -p s/supervise; : > s/supervise/ok; chmod 0 s/supervise/ok; su -s /bin/sh nobody -c 'svok /work/s'; echo $?; "
    "svok s; echo $?",
    "mkdir -p s/supervise; svc; echo $?; svc -u; echo $?; svc ./s; echo $?; svc -y ./s; echo $?; svc -u ./s; echo $?; "
    ": > s/supervise/ok; svc -u ./s; echo $?; " + STATUS + "svc -u ./s ./nope s; echo $?; "
    ": > s/supervise/control; svc -uhd ./s /work/s; echo $?; cat s/supervise/control; echo; "
    "printf short > s/supervise/status; svc -x ./s; echo $?; SVDIR=/work svc -t s; echo $?",
    "mkdir -p s/supervise; : > s/supervise/ok; : > s/supervise/control; " + STATUS + "svc -h ./s; echo $?; "
    "cat s/supervise/control; echo; printf '0123456789abcdefgd\\001j' > s/supervise/status; svc -pd ./s; cat s/supervise/control; echo; "
    "SVWAIT=x svc -u ./s; echo $?; chmod 0 s/supervise/control; su -s /bin/sh nobody -c 'svc -u /work/s'; echo $?",
]


@pytest.mark.parametrize("script", RUNIT_CASES)
def test_runit_cases(same, script):
    same(script)


# dmesg and klogd: only what does not reach the kernel log here -- the oracle
# runs as root with every capability, and its log is the host's (the kernel's
# part is compared in whole containers: tests/diff/test_kernel_log_agree.py).
KLOG_CASES = [
    "dmesg -x; echo $?; dmesg -n x; echo $?; dmesg -s -1; echo $?; dmesg -s 99999999999; echo $?; "
    "dmesg -s 3000000000; echo $?; dmesg -n 4294967296; echo $?; dmesg -s; echo $?",
    "klogd -c 9; echo $?; klogd -c 0; echo $?; klogd -c x; echo $?; klogd -y; echo $?; klogd -c; echo $?",
]


@pytest.mark.parametrize("script", KLOG_CASES)
def test_klog_option_cases(same, script):
    same(script)


# crontab: the image has no /var/spool/cron; the cases make it (or use -c).
SPOOL = "mkdir -p /var/spool/cron/crontabs; "  # each case starts without (the oracle keeps /var)
CLEAN = "rm -rf /var/spool/cron; "
EDITOR = {
    "/bin/ed.sh": b"#!/bin/sh\necho \"editing ${1%.*}.PID as $(id -un) in $PWD, HOME=$HOME USER=$USER\"\ncat \"$1\"\necho '* * * * * date' >> \"$1\"\n"
}
CRONTAB_CASES = [
    "crontab -l; echo $?; crontab; echo $?; crontab a b; echo $?; crontab -l -r; echo $?; crontab -u nosuch -l; "
    "echo $?; crontab -c /nonexist -l; echo $?; crontab -x; echo $?",
    SPOOL + "crontab -l; echo $?; echo '* * * * * echo hi' > t; crontab t; echo $?; crontab -l; echo $?; "
    "stat -c '%A %u %g %s %n' /var/spool/cron/crontabs/*; cat /var/spool/cron/crontabs/cron.update; crontab -r; echo $?; crontab -l; "
    "crontab -d; echo $?; cat /var/spool/cron/crontabs/cron.update; ls /var/spool/cron/crontabs",
    SPOOL
    + "echo 'a b' | crontab -; echo $?; crontab -l; echo x | crontab -u nobody -; crontab -u nobody -l; "
    "crontab nosuchfile; echo $?; chmod 600 /var/spool/cron/crontabs/root; cp /var/spool/cron/crontabs/root /work/r; "
    "chmod 600 /work/r; crontab -u nobody /work/r; echo $?; su -s /bin/sh nobody -c 'crontab -l; crontab -u root -l'; echo $?",
    "mkdir -p /tmp/c; crontab -c /tmp/c /dev/null; echo $?; ls /tmp/c; chmod 555 /tmp/c; "
    "su -s /bin/sh nobody -c 'echo y | crontab -c /tmp/c -'; echo $?; echo z | crontab -c /tmp/c -; crontab -c /tmp/c -l",
    SPOOL + "echo '1 2 3 4 5 old' | crontab -; EDITOR=/bin/ed.sh crontab -e; echo $?; crontab -l; "
    "ls /var/spool/cron; EDITOR=/bin/ed.sh crontab -u nobody -e; crontab -u nobody -l; EDITOR=/nonexist crontab -e; "
    "echo $?; VISUAL=/bin/ed.sh EDITOR=/nonexist crontab -e; echo $?; crontab -l | wc -l",
]


@pytest.mark.parametrize("script", CRONTAB_CASES)
def test_crontab_cases(same, script):
    same(CLEAN + script, files=EDITOR)


# start-stop-daemon: the oracle's script is PID 1 as in a container, so the
# PIDs it prints are the same on both kernels.
SSD = "start-stop-daemon"
SSD_CASES = [
    f"{SSD}; echo $?; {SSD} -K; echo $?; {SSD} -S -K -n a; echo $?; {SSD} -S -m -x /bin/true; echo $?; "
    f"{SSD} -K -s FOO -n a; echo $?; {SSD} -S -x /nonexist; echo $?; {SSD} -S -a /nonexist; echo $?; "
    f"{SSD} -K -u nosuchuser; echo $?; {SSD} -S -N x -x /bin/true; echo $?; {SSD} -S; echo $?; {SSD} -y; echo $?; "
    f"{SSD} --stop --name zz; echo $?; {SSD} --stop --nam zz -o; echo $?; {SSD} -K -q -n zz; echo $?; "
    f"{SSD} --frob; echo $?; {SSD} -K -p /nonexist; echo $?; {SSD} -K -p /work; echo $?",
    f"{SSD} -S -x /bin/echo -- a b; echo $?; {SSD} -S -a echo -x /bin/echo a; {SSD} -S -- echo c; "
    f"{SSD} -S -n echo -a xx -x /bin/echo d; echo $?; {SSD} -S -x /bin/sh -- -c 'echo $0 $$'; echo $?; "
    f"{SSD} -S -m -p /tmp/pid -x /bin/sh -- -c 'echo $$; cat /tmp/pid'; {SSD} -S -c nobody -x /bin/id; "
    f"{SSD} -S -c nobody:daemon -x /bin/id; {SSD} -S -c :daemon -x /bin/id; {SSD} -S -c nosuch -x /bin/id; echo $?; "
    f"{SSD} -S -N 5 -x /bin/echo n; {SSD} -S -x sleep 0; echo $?; {SSD} -S -v -q -x /bin/echo v",
    "sleep 100 & a=$!; sleep 101 & b=$!; "
    "for p in $a $b; do until read c < /proc/$p/comm && [ $c = sleep ]; do :; done; done; "  # both exec'd
    f"{SSD} -K -t -n sleep; echo $?; {SSD} -K -x sleep -s 0; echo $?; "
    f"{SSD} -S -n sleep -x /bin/sleep 1; echo $?; {SSD} -S -o -n sleep -x /bin/sleep 1; echo $?; "
    f"{SSD} -K -n sleep -u root; echo $?; wait; {SSD} -K -n sleep; echo $?; {SSD} -K -u 0 -t | sed 's/[0-9]*//g'; "
    f"{SSD} -K -u 65534; echo $?; echo 99 > /tmp/p; {SSD} -K -p /tmp/p; echo $?; {SSD} -K -t -p /tmp/p; echo $?",
    f"{SSD} -S -b -m -p /tmp/p -x /bin/sleep -- 100; echo $?; cat /tmp/p; "
    "until read c < /proc/4/comm && [ $c = sleep ]; do :; done; echo $c; "
    f"{SSD} -S -b -m -p /tmp/p -x /bin/sleep -- 100; echo $?; {SSD} -K -p /tmp/p -s KILL; echo $?; sleep 1; "
    f"{SSD} -K -p /tmp/p; echo $?; {SSD} -S -b -x /nonexist; echo $?; "
    f"exec 5>/tmp/five; echo 5 > /tmp/q; {SSD} -S -b -p /tmp/q -x /bin/sh -- -c 'echo x >&5; echo $? > /tmp/n'; "
    f"while [ ! -s /tmp/n ]; do :; done; cat /tmp/n",
]


@pytest.mark.parametrize("script", SSD_CASES)
def test_start_stop_daemon_cases(same, script):
    same(script)


# crond: what it does when it starts (options, reading crontabs, its log at
# level 0 with the fields' bitmaps), never waiting for a real minute.  Running
# jobs at minute boundaries is tested on the simulator's clock
# (test_crond_on_the_sim_clock.py).
# Each case waits until the second is below 50 (no minute boundary falls
# within it), and a crond it started until its pidfile is written -- after it
# read the crontabs -- rather than for a time (the machine may be loaded).
BEFORE_THE_MINUTE = "rm -rf /var/run; mkdir /var/run; while [ $(date +%S) -ge 50 ]; do sleep 1; done; "
STARTED = "until [ -s /var/run/crond.pid ]; do sleep 0.1; done; rm /var/run/crond.pid; "
CRONTAB = (
    "* * * * * echo hi\\nMAILTO=\\n1-5/2,7 */3 1 jan-mar mon-fri echo x # comment\\n\\t# only a comment\\n"
    "bad line\\n@bogus x\\n@daily\\n61 * * * * echo y\\n0 0 * * sun,sat echo w\\n*/15 9-17 * * 1-5 a  b\\tc\\n"
    "SHELL=/bin/ash\\n5 4 x * * z\\n0 0 3-1 * * wrap\\n*/0 * * * * s\\n7 * * * 7 sunday\\n"
)
CROND_CASES = [
    "crond -x; echo $?; crond -l x; echo $?; crond -l -1; echo $?; crond -f -c /nonexist; echo $?; "
    "crond -f -L /tmp/l -c /nonexist; echo $?; crond -c /nonexist; echo $?; crond -b -f -L /tmp/l -c /nonexist; "
    "echo $?; crond -f -b -L /tmp/l -c /nonexist; echo $?; until [ $(wc -l < /tmp/l) -ge 3 ]; do sleep 0.1; done; "
    "cat /tmp/l",
    BEFORE_THE_MINUTE + f"mkdir /tmp/cr; printf '{CRONTAB}' > /tmp/cr/root; : > /tmp/cr/a.b; "
    "crond -f -l 0 -L /tmp/log -c /tmp/cr & " + STARTED + "kill $!; wait $!; echo $?; cat /tmp/log",
    BEFORE_THE_MINUTE + f"mkdir /tmp/cr; printf '{CRONTAB}' > /tmp/cr/root; chown nobody /tmp/cr/root; "
    "crond -f -l 0 -L /tmp/l -c /tmp/cr & " + STARTED + "kill $!; wait $!; echo $?; "
    "rm /tmp/cr/root; printf '1 1 1 1 1 x\\n@hourly echo h\\n' > /tmp/cr/root; crond -f -l 5 -L /tmp/l -c /tmp/cr; "
    "echo $?; cat /tmp/l",
    BEFORE_THE_MINUTE
    + "mkdir /tmp/cr; printf '* * * * * x\\n' > /tmp/cr/root; crond -f -L /tmp/nodir/log -c /tmp/cr & "
    + STARTED
    + "kill $!; wait $!; echo $?; crond -L /tmp/log2 -c /tmp/cr; echo $?; "
    + STARTED
    + "cat /tmp/log2; pidof crond | wc -w; mkdir /tmp/cr2; : > /tmp/cr2/nosuchuser; "
    "crond -f -l 7 -L /tmp/l -c /tmp/cr2 & " + STARTED + "kill $!; cat /tmp/l",
]


def _unannounced(text: str) -> str:
    """Without the shell's "Terminated" for the crond it killed: busybox ash says
    it only if ``wait $!`` began before the child died -- a race in the real one
    too (the simulator's shell says it whenever it waits by PID)."""
    return "".join(line for line in text.splitlines(keepends=True) if line != "Terminated\n")


@pytest.mark.parametrize("script", CROND_CASES)
def test_crond_start_cases(same, script):
    same(script, normalise=_unannounced)
