"""rdate on the simulator against REAL busybox: only printing (-p), since the
oracle runs as the host's root and must never set the host's clock.  The
oracle runs in a network namespace of its own (``unshare -n``) and the
time server is ``nc -l`` on its loopback; the simulator's container has its
own network already.  Setting the clock (no -p) is compared in whole
containers by tests/diff/test_rdate_agree.py, where Docker's capabilities
leave out CAP_SYS_TIME."""

from __future__ import annotations

SCRIPT = b"""ip link set lo up 2>/dev/null
rdate; echo $?; rdate -x; echo $?; rdate -p nosuch.invalid; echo $?; rdate -p 127.0.0.1:x; echo $?
rdate -p 127.0.0.1; echo $?; rdate -p 127.0.0.1:3737; echo $?; rdate -p 127.0.0.1:70000; echo $?
serve() { printf "$1" | nc -l -p 3737 & sleep 1; }
serve '\\350\\000\\000\\000'; rdate -p 127.0.0.1:3737; echo $?; wait
serve '\\000\\000\\000\\020'; rdate -sp 127.0.0.1:3737; echo $?; wait
serve '\\377\\377\\377\\377'; TZ=EST5 rdate -p 127.0.0.1:3737 extra; echo $?; wait
serve '\\000\\020'; rdate -p 127.0.0.1:3737; echo $?; wait
serve ''; rdate -p 127.0.0.1:3737; echo $?; wait
"""


def test_rdate_prints_the_remote_time(host, box):
    """Usage, bad address/port, refused, the 32 bits nearest to now (1900-based:
    2023, and 2036 past the wrap), TZ, extra operands ignored, short reads."""
    real = host.run(["unshare", "-n", "sh", "/s.sh"], files={"/s.sh": SCRIPT})
    sim = box.run(["sh", "/s.sh"], files={"/s.sh": SCRIPT})
    assert (sim.stdout, sim.stderr, sim.status) == (real.stdout, real.stderr, real.status)
    assert "Fri May  5 22:21:52 2023" in real.stdout
