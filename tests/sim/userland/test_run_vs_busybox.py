"""timeout, time, setsid, chroot, run-parts on the simulator against REAL
busybox: exit statuses of killed programs, the shell's "Terminated",
timeout's lingering grandchild in ps, time's report (numbers blanked, and
"?%", busybox's CPU share of a run too short to measure),
scripts without #! run by /bin/sh as glibc's execvp does."""

from __future__ import annotations

import pytest

CASES = [
    "timeout 1 sleep 3; echo $?; timeout -s KILL 1 sleep 3; echo $?; timeout 2 true; echo $?; timeout 1 nosuch; "
    'echo $?; timeout 1 sh -c "echo \\$\\$ \\$PPID"; ps -o pid,ppid,comm,args',
    "timeout; echo $?; timeout 1; echo $?; timeout -s BOGUS 1 true; echo $?; timeout x true; echo $?; "
    "timeout 1x true; timeout 1.5x true; timeout 1.x.5 true; echo $?; timeout 1m true; timeout 5 echo hi | cat",
    'timeout 0.5 sleep 2; echo $?; timeout -k 1 1 sh -c "trap \\"\\" TERM; sleep 5"; echo $?; '
    "timeout -s 2 1 sleep 2; echo $?",
    'time true 2>&1 | sed "s/[0-9]/N/g"; time -p sleep 0.1 2>&1 | sed "s/[0-9]/N/g"; '
    'time sh -c "exit 3" 2>&1 | sed "s/[0-9]/N/g"; time nosuch 2>&1 | sed "s/[0-9]/N/g"; time; echo $?',
    'time -f "%C|%x|%Z|%%|\\t" sh -c "exit 2"; echo $?; time -o f true; sed "s/[0-9]/N/g" f; time -a -o f true; '
    'wc -l f; TIME="x%ey" time true 2>&1 | sed "s/[0-9]/N/g"; time sh -c "kill -9 \\$\\$" 2>&1 | sed "s/[0-9]/N/g"',
    "time -o /nonexist/x true; time -v true 2>&1 | sed 's/[0-9][0-9]*/N/g; s/[?]%/N%/'",
    'setsid echo hi; setsid; echo $?; setsid nosuch; echo $?; setsid -c true; echo $?; setsid sh -c "exit 4"; echo $?',
    "mkdir -p r/bin; cp /bin/busybox r/bin/; chroot r /bin/busybox echo hi; echo $?; chroot r /bin/busybox pwd; "
    "chroot nosuch true; echo $?; chroot; echo $?; chroot r nosuch; echo $?",
    'mkdir d; printf "#!/bin/sh\\necho one \\$1\\n" > d/a; printf "#!/bin/sh\\necho two; exit 3\\n" > d/b-2; '
    'echo x > d/c.txt; printf "#!/bin/sh\\necho skip\\n" > d/n; printf "#!/bin/sh\\necho hid\\n" > d/.h; '
    "chmod +x d/a d/b-2 d/c.txt d/.h; mkdir d/sub; run-parts d; echo $?; run-parts --test d; run-parts --list d; "
    "run-parts --reverse -a X -a Y d; run-parts --exit-on-error d; echo $?; run-parts nosuch; echo $?; run-parts; "
    "run-parts -t d; run-parts -u 077 --test d; run-parts -u 8 d",
    'echo "echo hi \\$0 \\$1" > s; chmod +x s; find s -exec ./s x \\; ; echo s | xargs -I{} ./{} y; timeout 2 ./s z',
]


@pytest.mark.parametrize("script", CASES)
def test_run_cases(same, script):
    same(script)
