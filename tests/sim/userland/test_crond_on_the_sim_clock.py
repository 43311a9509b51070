"""crond running jobs at the minute boundaries of the simulated clock (a
real one would make the test wait minutes; what crond does when it starts
is compared with the real busybox in test_daemons_vs_busybox.py).

The crontab is installed by crontab after crond started: crond picks it up
from cron.update at its next wakeup.  Each minute the job runs as the user
with its environment, its stdout on crond's stdout and its stderr in the
log; the MAILTO job's output goes to a mail file that crond then pipes to
sendmail -- which the busybox image lacks, so crond says so."""

from __future__ import annotations

import re

SCRIPT = r"""
mkdir -p /var/spool/cron/crontabs
crond -f -L /tmp/log &
sleep 1
printf '* * * * * echo hi $USER $LOGNAME $HOME $PWD $SHELL; echo err >&2\nMAILTO=root\n*/2 * * * * echo mailed\n' | crontab -
sleep 150; kill $!; wait $!; echo "crond: $?"
ls /var/spool/cron
cat /tmp/log
"""


def test_crond_runs_jobs_each_minute(box):
    result = box.sh(SCRIPT)
    out = result.stdout
    runs = out.count("hi root root /root /root /bin/sh\n")
    assert runs in (2, 3), out  # 150 virtual seconds hold two or three minute boundaries
    assert out.count("crond: can't execute 'sendmail' for user root\n") >= 1, out
    assert "crond: 143\n" in out and "\ncrontabs\n" in out  # the mail files are gone
    log = out[out.index("crond: crond (busybox 1.35.0) started, log level 8") :]
    assert log.count("err\n") == runs
    assert len(re.findall(r"crond: USER root pid +\d+ cmd echo hi \$USER", log)) == runs
    assert (result.stderr, result.status) == ("Terminated\n", 0)  # ash reports the killed job
