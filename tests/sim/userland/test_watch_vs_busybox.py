"""watch on the simulator against REAL busybox: it runs until SIGPIPE
(``| head``) or timeout ends it; the header's clock is masked."""

from __future__ import annotations

import re

import pytest

CASES = [
    "watch -t -n 0.1 echo hi | head -3 | od -c; watch; echo $?; watch -n x true; echo $?; watch -n 0.x true; "
    "watch -z true; echo $?",
    "COLUMNS=30 watch -n 0.1 'echo a;' echo b | head -4; COLUMNS=15 watch -n 1 echo | head -2 | od -c; "
    "COLUMNS=1 watch -n 0.1 echo x | head -3 | wc -c; COLUMNS=abc watch -n .1 -d true | head -1 | wc -c",
    "watch -n 0.1 'echo out; echo err >&2; exit 3' 2>&1 | head -6 | sed 's/[0-9]/N/g'; "
    "timeout 1 watch -t -n 0.3 'echo $((1+1))' | sort | uniq -c | sed 's/ *[0-9]* //'",
    "watch -n 0.1 -- nosuchcommand 2>&1 | head -4 | sed 's/[0-9]/N/g'; watch -t -n 0.05s -- ls -d / | head -2",
]


def _no_clock(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<time>", text)


@pytest.mark.parametrize("script", CASES)
def test_watch_cases(same, script):
    same(script, normalise=_no_clock)
