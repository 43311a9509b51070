"""The network applets added for tracker issue 23 -- arping, ... -- on the
simulator against the real kernel, in the same two daemons (each in a
network namespace its fixture creates) as test_network_agree.py.

Normalised besides what that module normalises: arping's reply times.
"""

from __future__ import annotations

import difflib
import re

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_network_agree import both, sides  # noqa: F401 -- the fixtures (two daemons)

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

_REPLY_TIME = re.compile(r"\] [\d.]+ms$", re.M)


def agree(pair, script: str, *options: str):
    results = []
    for side in pair:
        r = side.cli("run", "--rm", *options, "busybox", "sh", "-c", script)
        results.append((r[0], _REPLY_TIME.sub("] Tms", r[1]), _REPLY_TIME.sub("] Tms", r[2])))
    real, sim = results
    if real != sim:
        shown = [f"exit {r[0]}\n--stdout--\n{r[1]}--stderr--\n{r[2]}".splitlines() for r in (real, sim)]
        pytest.fail("\n".join(difflib.unified_diff(shown[0], shown[1], "real", "sim", lineterm="")))
    return real


def test_arping_agrees(both):  # noqa: F811 -- the fixture
    """Requests to a peer container (its MAC is the engine's, the same on
    both sides), duplicate-address probes, unsolicited and advert modes,
    the count and deadline arithmetic, and the errors; without CAP_NET_RAW
    the packet socket is refused before anything else."""
    for side in both:
        code, _, err = side.cli("run", "-d", "--name", "peer", "busybox", "sleep", "300")
        assert code == 0, err
    code, out, _err = agree(
        both,
        "arping -c 2 172.17.0.2; echo rc=$?; arping -D -c 1 172.17.0.2; echo dad=$?; "
        "arping -D -c 1 172.17.0.9; echo dad9=$?; arping -f 172.17.0.2; echo f=$?; "
        "arping -q -c 1 172.17.0.2; echo q=$?; arping -b -c 2 172.17.0.2; echo b=$?; "
        "arping -w 1 172.17.0.2; echo w=$?; arping -w 2 -c 5 172.17.0.7; echo w7=$?; "
        "arping -U -c 1 172.17.0.3; echo U=$?; arping -A -c 2 172.17.0.3; echo A=$?; "
        "arping -c 1 -I lo 127.0.0.1; echo lo=$?; arping -D -c 1 -I lo 127.0.0.1; echo lodad=$?; "
        "arping -c 1 -I nope 172.17.0.2; echo nope=$?; arping -c 1 -s 10.9.0.5 172.17.0.2; echo s=$?; "
        "arping -c 1 -s bad 172.17.0.2; echo s2=$?; arping -c 1 nosuchhost; echo host=$?; "
        "arping -c 1 -w x 172.17.0.2; echo wx=$?; arping -c 0 172.17.0.2; echo c0=$?; "
        "arping; echo none=$?; arping -c 1 10.8.0.1; echo other=$?",
    )
    assert code == 0 and "Unicast reply from 172.17.0.2 [02:42:ac:11:00:02] Tms\n" in out
    agree(both, "arping -c 1 172.17.0.2; echo raw=$?; arping; echo none=$?", "--cap-drop", "NET_RAW")


def test_nameif_vconfig_and_tunctl_agree(both):  # noqa: F811 -- the fixture
    """Without CAP_NET_ADMIN (a default container) nameif cannot rename,
    vconfig's requests fail (ENOPKG: neither kernel has 802.1Q) after its own
    argument checks, and tunctl finds no /dev/net/tun; with it, nameif
    renames eth0 by its MAC."""
    agree(
        both,
        "nameif; echo mactab=$?; nameif eth1 02:42:ac:11:00:02; echo rename=$?; nameif eth9 00:11:22:33:44:55; "
        "echo none=$?; nameif eth9; echo odd=$?; nameif x zz; echo parse=$?; nameif abcdefghijklmnopq 0:1:2:3:4:5; "
        "echo long=$?; printf '# c\\nfoo 00:11:22:33:44:55 extra\\n\\nbar\\n' > /tmp/tab; nameif -c /tmp/tab; echo bad=$?; "
        "printf 'eth2 mac=02:42:ac:11:0:2\\n' > /tmp/tab; nameif -c /tmp/tab; echo tab=$?; nameif -c /nonexist; echo nofile=$?; "
        "vconfig add eth0 5; echo add=$?; vconfig rem eth0.5; echo rem=$?; vconfig set_flag eth0 1 0; echo flag=$?; "
        "vconfig set_name_type VLAN_PLUS_VID; echo type=$?; vconfig set_name_type bogus; echo badtype=$?; "
        "vconfig add eth0 5000; echo range=$?; vconfig add eth0; echo short=$?; vconfig bogus; echo cmd=$?; "
        "vconfig set_egress_map eth0 x 1; echo map=$?; "
        "tunctl; echo tun=$?; tunctl -t tap0; echo t=$?; tunctl -f /dev/null; echo null=$?; tunctl -t x -d y; echo both=$?; "
        "tunctl foo; echo operand=$?; ip -o link | cut -d: -f2",
    )
    agree(
        both,
        "nameif eth1 02:42:ac:11:00:02; echo rename=$?; ip -o link | cut -d: -f2; "
        "nameif lo 02:42:ac:11:00:02; echo taken=$?; vconfig add eth1 5; echo add=$?",
        "--cap-add",
        "NET_ADMIN",
    )


def test_brctl_agrees(both):  # noqa: F811 -- the fixture
    """Debian's brctl (addbr, delbr, addif, delif; no "show"): refused
    without CAP_NET_ADMIN; with it, the kernel's checks on the container's
    own bridges -- a name cut to 15 bytes, no loopback or bridge as a port,
    a port in one bridge only, an up bridge not deleted.  (The interfaces
    are listed sorted: their indexes differ, see SIMPLIFICATIONS.md.)"""
    agree(
        both,
        "brctl; echo none=$?; brctl bogus; echo bogus=$?; brctl show; echo show=$?; brctl addbr; echo short=$?; "
        "brctl addbr br0; echo addbr=$?; brctl delbr nosuch; echo delbr=$?; brctl addif br0; echo addif1=$?; "
        "brctl addif br0 eth0; echo addif=$?; brctl addif br0 nosuch; echo noiface=$?; brctl delif br0 eth0; echo delif=$?",
    )
    agree(
        both,
        "brctl addbr br0; echo addbr=$?; brctl addbr br0; echo again=$?; brctl addbr abcdefghijklmnopqrs; echo long=$?; "
        "brctl addbr br1 extra; echo extra=$?; brctl addif br0 lo; echo lo=$?; brctl addif br0 br1; echo loop=$?; "
        "brctl addif nosuch eth0; echo nobr=$?; brctl addif eth0 lo; echo notbr=$?; brctl delif br0 eth0; echo notport=$?; "
        "brctl addif br0 eth0; echo addif=$?; brctl addif br0 eth0; echo busy=$?; brctl addif br1 eth0; echo other=$?; "
        "ip -o link | cut -d: -f2 | sort; brctl delbr eth0; echo delnotbr=$?; brctl delif br0 eth0; echo delif=$?; "
        "ip link set br1 up; brctl delbr br1; echo up=$?; ip link set br1 down; brctl delbr br1; echo down=$?; "
        "brctl delbr br0; echo delbr=$?; brctl delbr br0; echo gone=$?; ip -o link | cut -d: -f2",
        "--cap-add",
        "NET_ADMIN",
    )
