"""arch, linux32/64, hostid, tty, uptime, clear, reset, pidof, killall,
renice, ionice, id, groups, logname, who, w, last, ascii, factor, cal,
[[ on the simulator against REAL busybox; Hypothesis picks numbers for
factor and months for cal."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "arch; linux64 uname -m; linux32 -R true; echo $?; linux64 -x; hostid; echo $?; hostid x; tty; echo $?; "
    'tty -s; echo $?; tty a b; uptime -s | sed "s/[0-9]/N/g"; clear | od -c; reset | od -c',
    "pidof sh; echo $?; pidof nosuch; echo $?; pidof -s sh; pidof; echo $?; killall nosuch; echo $?; killall; "
    "echo $?; killall -l | head -2; sleep 5 & sleep 0.1; killall sleep; echo $?; wait; killall -q nosuch; echo $?",
    "killall -BOGUS x; killall -l 9 TERM 137; sleep 5 & sleep 0.1; killall -s KILL sleep; wait; echo $?; killall -q; "
    "echo x | { sleep 0.1; pidof sh; }; pidof busybox; pidof /bin/sh; killall -q -9 nosuch; echo $?",
    "id; id -u; id -un; id -G; id -Gn; id -g -n; id nobody; id -ur; id -r; id -n; id -ug; id a b; id nosuch",
    "groups nobody root; groups -x; groups; logname; echo $?; logname x; who; echo $?; w; who -H; who -a; who x; "
    "last; echo $?; last -x; mkdir -p /var/log; touch /var/log/wtmp; last; echo $?",
    "renice 5 $$; echo $?; renice -n 2 -p $$; echo $?; renice x; renice 1 abc; renice 1 -u nosuch; renice 1 -u root; "
    "echo $?; renice; ionice; ionice -p $$; ionice -c 2 -n 4 true; echo $?; ionice -c 5 true; ionice -c 3 echo hi",
    "ascii; factor 0 1 2 3 4 12 36 97 1001 18446744073709551615 18446744073709551557 +5 ' 7'; factor -1; echo $?; "
    "factor 18446744073709551616; factor abc; printf '6 8\\n 9\\n' | factor; factor 0x10",
    "cal 2 2024; cal -j 2 2024; cal -m 9 1752; cal -j 9 1752; cal 1 1; cal 12 9999; cal 13 2020; cal 0 1; cal x; "
    "cal 1 2 3; cal -y 2024; cal -jy 1752; cal -my 1",
    "[[ 1 -eq 1 ]]; echo $?; [[ a = b ]]; echo $?; [[ 1; echo $?; /bin/[[ x ]]; echo $?; /bin/[[ x; echo $?; "
    "grep -x; egrep --bogus; fgrep -y; [ ; echo $?",
    # what Debian's busybox lacks fails as it does there: "not found", 127
    "nohup true; echo $?; busybox nohup true; echo $?; pgrep sh; echo $?; busybox join a b; echo $?; "
    "comm a b; fmt; split; cksum; nice true; pkill x; adduser x; addgroup x; deluser x; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_system_cases(same, script):
    same(script)


@settings(max_examples=30, deadline=None)
@given(
    numbers=st.lists(st.one_of(st.integers(0, 10**6), st.integers(0, 2**64 - 1)), min_size=1, max_size=4),
    month=st.integers(1, 12),
    year=st.one_of(st.integers(1, 9999), st.sampled_from([1752, 1600, 1700, 1800, 1900, 2000])),
    flags=st.sampled_from(["", "-j", "-m", "-jm", "-y", "-jy"]),
)
def test_generated_factors_and_calendars(same, numbers, month, year, flags):
    same(f"factor {' '.join(map(str, numbers))}; cal {flags} {month} {year} | md5sum")
