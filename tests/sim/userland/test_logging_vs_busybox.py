"""ts and logger on the simulator against REAL busybox: ts's formats,
-s/-i and microseconds (clock digits masked: two runs of the real thing
differ there), logger's -s copy to stderr, tags, -p checking, stdin lines
(the image has no syslogd: the messages themselves go nowhere in both)."""

from __future__ import annotations

import pytest

CASES = [
    "printf 'a\\nb\\n\\nc' | ts '%Y'; printf 'a\\n' | ts -s; printf 'a\\nb\\n' | ts -i '%H:%M:%.S' | sed 's/[0-9]/N/g'; "
    "printf 'x\\n' | ts | sed 's/[0-9]/N/g'; ts a b; echo $?; ts -x; echo $?; echo | ts '%.s' | wc -c; "
    "printf 'q\\n' | ts -s '%s %%'",
    "echo hi | logger -s -t tag; echo rc $?; logger -s hello world; logger -p bad.x x; echo $?; logger -p user.bad x; "
    "echo $?; logger -p 3 -s x; logger -p LOCAL0.Err -s y; logger; echo $?; printf 'a\\n\\nb\\n' | logger -s; "
    "su -s /bin/sh nobody -c 'logger -s me'; logger -z; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_logging_cases(same, script):
    same(script)
