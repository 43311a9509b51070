"""Looking at (and changing) the network: ip, ifconfig, route, netstat.

Each prints what busybox 1.35 prints, field for field, from what the kernel
answers over "netlink" (``sys.netlink``).  IPv4 only: the simulator has no
IPv6, so the real kernel's ``inet6`` lines have no counterpart here
(SIMPLIFICATIONS.md).  Changes (``ip link set``, ``ip addr add``, ``ip route
add``) need CAP_NET_ADMIN, which a container does not have -- "RTNETLINK
answers: Operation not permitted", as in Docker.
"""

from __future__ import annotations

import errno
import ipaddress

from .applet_table import applet
from .libc import Gen, complain, out, strerror

IFF_LINE = {"loopback": "link/loopback", "bridge": "link/ether", "veth": "link/ether", "ether": "link/ether"}


def _flags(link) -> str:
    parts = []
    if link.up and not link.carrier:
        parts.append("NO-CARRIER")
    if link.kind == "loopback":
        parts.append("LOOPBACK")
    else:
        parts += ["BROADCAST", "MULTICAST"]
    if link.up:
        parts.append("UP")
    if link.carrier:
        parts.append("LOWER_UP")
    if _mdown(link):
        parts.append("M-DOWN")
    return "<" + ",".join(parts) + ">"


def _peer_here(link):
    peer = link.peer
    return peer if peer is not None and peer.stack is link.stack else None


def _mdown(link) -> bool:
    """busybox looks the peer's index up in *this* namespace: not found, or down."""
    if link.kind != "veth" or link.peer is None:
        return False
    here = _peer_here(link)
    return here is None or not here.up


def _label(link) -> str:
    if link.kind == "veth" and link.peer is not None:
        here = _peer_here(link)
        return f"{link.name}@{here.name if here else f'if{link.peer.ifindex}'}"
    return link.name


def _link_lines(link) -> list[str]:
    qdisc = "noqueue" if link.up else "noop"
    master = f" master {link.master.name}" if link.master is not None else ""
    head = f"{link.ifindex}: {_label(link)}: {_flags(link)} mtu {link.mtu} qdisc {qdisc}{master} qlen 1000"
    brd = "00:00:00:00:00:00" if link.kind == "loopback" else "ff:ff:ff:ff:ff:ff"
    return [head, f"    {IFF_LINE.get(link.kind, 'link/ether')} {link.mac} brd {brd}"]


def _addr_lines(link) -> list[str]:
    lines = []
    for a in link.addrs:
        scope = "host" if a.ip.is_loopback else "global"
        brd = f" brd {a.network.broadcast_address}" if a in link.brd else ""
        lines.append(f"    inet {a.with_prefixlen}{brd} scope {scope} {link.name}")
        lines.append("       valid_lft forever preferred_lft forever")
    return lines


def _sorted_links(sys) -> list:
    return sorted(sys.netlink("links"), key=lambda lk: lk.ifindex)


def _find(sys, name: str):
    for link in sys.netlink("links"):
        if link.name == name:
            return link
    return None


def _rtnetlink(sys, e: OSError) -> Gen:
    yield from complain(sys, "ip", f"RTNETLINK answers: {strerror(e)}")
    return 2


def _route_key(r):
    return (int(r.dst.network_address), r.dst.prefixlen)


def _route_line(r) -> str:
    dst = "default" if r.dst.prefixlen == 0 else str(r.dst)
    via = f" via {r.gateway}" if r.gateway else ""
    if r.kernel:
        return f"{dst} dev {r.dev.name} scope link  src {r.src} "
    return f"{dst}{via} dev {r.dev.name} "


@applet("ip")
def ip_main(sys) -> Gen:
    args = sys.argv[1:]
    family4 = oneline = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-4",):
            family4 = True
        elif opt in ("-o", "-oneline"):
            oneline = True
        elif opt == "-6":
            return 0  # no IPv6 in the simulator: nothing to show
        else:
            yield from complain(sys, "ip", f"invalid argument '{opt}' to 'ip'")
            return 1
    if not args:
        yield from out(sys, _IP_USAGE)
        return 1
    obj, rest = args[0], args[1:]
    if "address".startswith(obj) and obj.startswith("a"):
        return (yield from _ip_addr(sys, rest, family4, oneline, show_addrs=True))
    if "link".startswith(obj) and obj.startswith("l"):
        return (yield from _ip_addr(sys, rest, family4, oneline, show_addrs=False))
    if "route".startswith(obj) and obj.startswith("r"):
        return (yield from _ip_route(sys, rest))
    if obj in ("neigh", "neighbor", "neighbour", "n"):
        return (yield from _ip_neigh(sys))
    yield from complain(sys, "ip", f"unknown object '{obj}'" if obj else "")
    return 1


_IP_USAGE = ""


def _ip_addr(sys, rest: list[str], family4: bool, oneline: bool, show_addrs: bool) -> Gen:
    verb = rest[0] if rest else "show"
    if verb in ("add", "del", "delete") and show_addrs:
        return (yield from _ip_addr_change(sys, verb, rest[1:]))
    if verb == "set" and not show_addrs:
        return (yield from _ip_link_set(sys, rest[1:]))
    words = rest[1:] if verb in ("show", "list", "lst", "sh", "ls", "l", "s") else rest
    if words and words[0] == "dev":
        words = words[1:]
    want = words[0] if words else ""
    links = _sorted_links(sys)
    if want:
        links = [lk for lk in links if lk.name == want]
        if not links:
            yield from complain(sys, "ip", f"can't find device '{want}'")
            return 1
    lines: list[str] = []
    for link in links:
        head = _link_lines(link)
        addrs = _addr_lines(link) if show_addrs else []
        if oneline:
            if show_addrs:
                for i in range(0, len(addrs), 2):
                    text = addrs[i].strip()
                    lines.append(f"{link.ifindex}: {link.name}    {text}\\       {addrs[i + 1].strip()}")
            else:
                lines.append(head[0] + "\\    " + head[1].strip())
            continue
        if family4 and show_addrs:
            lines += [head[0], *addrs]
        else:
            lines += head + addrs
    yield from out(sys, "".join(line + "\n" for line in lines))
    return 0


def _ip_addr_change(sys, verb: str, words: list[str]) -> Gen:
    if len(words) < 3 or "dev" not in words:
        yield from complain(sys, "ip", "need at least 'dev' argument")
        return 1
    cidr = words[0]
    dev = words[words.index("dev") + 1] if words.index("dev") + 1 < len(words) else ""
    if "/" not in cidr:
        cidr += "/32"
    try:
        ipaddress.IPv4Interface(cidr)
    except ValueError:
        yield from complain(sys, "ip", f"an inet prefix is expected rather than \"{words[0]}\"")
        return 1
    if _find(sys, dev) is None:
        yield from complain(sys, "ip", f"can't find device '{dev}'")
        return 1
    try:
        sys.netlink("addr_add" if verb == "add" else "addr_del", dev=dev, cidr=cidr)
    except OSError as e:
        return (yield from _rtnetlink(sys, e))
    return 0


def _ip_link_set(sys, words: list[str]) -> Gen:
    if words and words[0] == "dev":
        words = words[1:]
    if not words:
        yield from complain(sys, "ip", "need at least 'dev' argument")
        return 1
    dev, words = words[0], words[1:]
    if _find(sys, dev) is None:
        yield from complain(sys, "ip", f"can't find device '{dev}'")
        return 1
    change: dict = {}
    while words:
        w = words.pop(0)
        if w in ("up", "down"):
            change["up"] = w == "up"
        elif w in ("mtu", "address", "name") and words:
            change[w] = words.pop(0)
        else:
            yield from complain(sys, "ip", f"invalid argument '{w}' to 'ip'")
            return 1
    try:
        sys.netlink("link_set", dev=dev, **change)
    except OSError as e:
        # busybox makes these changes with ioctls, not netlink: the first
        # one it tries (name, mtu, address, then the flags) is the one that fails
        ioctls = (("name", "SIOCSIFNAME"), ("mtu", "SIOCSIFMTU"), ("address", "SIOCSIFHWADDR"))
        call = next((name for key, name in ioctls if key in change), "SIOCSIFFLAGS")
        yield from complain(sys, "ip", f"{call}: {strerror(e)}")
        return 2  # ip's xfunc_error_retval
    return 0


def _ip_route(sys, rest: list[str]) -> Gen:
    verb = rest[0] if rest else "show"
    if verb in ("show", "list", "ls"):
        routes = sorted(sys.netlink("routes"), key=_route_key)
        yield from out(sys, "".join(_route_line(r) + "\n" for r in routes))
        return 0
    if verb == "get":
        if len(rest) < 2:
            yield from complain(sys, "ip", "need at least destination address")
            return 1
        try:
            kind, dst, dev, route = sys.netlink("route_get", dst=rest[1])
        except OSError as e:
            if e.errno == errno.EINVAL:
                yield from complain(sys, "ip", f"an inet prefix is expected rather than \"{rest[1]}\"")
                return 1
            return (yield from _rtnetlink(sys, e))
        if kind == "local":
            yield from out(sys, f"local {dst} dev lo  src {dst} \n")
            return 0
        stack = sys.netlink("stack")
        src = stack.source_for(route, dst)
        via = f" via {route.gateway}" if route.gateway else ""
        yield from out(sys, f"{dst}{via} dev {dev.name}  src {src} \n")
        return 0
    if verb in ("add", "del", "delete", "append", "replace"):
        words = rest[1:]
        if not words:
            yield from complain(sys, "ip", "need at least destination address")
            return 1
        args = {"dst": words[0]}
        i = 1
        while i < len(words) - 1:
            if words[i] in ("via", "dev"):
                args[words[i]] = words[i + 1]
            i += 2
        try:
            sys.netlink("route_add" if verb != "del" and verb != "delete" else "route_del", **args)
        except OSError as e:
            return (yield from _rtnetlink(sys, e))
        except ValueError:
            yield from complain(sys, "ip", f"an inet prefix is expected rather than \"{words[0]}\"")
            return 1
        return 0
    yield from complain(sys, "ip", f"command \"{verb}\" is unknown, try \"ip route help\"")
    return 1


def _ip_neigh(sys) -> Gen:
    lines = [
        f"{ip} dev {dev} lladdr {mac} ref 1 used 0/0/0 probes 4 REACHABLE\n"
        for (dev, ip), mac in sorted(sys.netlink("neigh").items(), key=lambda kv: (kv[0][0], int(kv[0][1])))
    ]
    yield from out(sys, "".join(lines))
    return 0


# -- ifconfig ---------------------------------------------------------------------------------


def human_bytes(n: int) -> str:
    value, units = float(n), ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    while value >= 1024 and i < len(units) - 1:
        value /= 1024
        i += 1
    return f"{value:.1f} {units[i]}"


def _ifconfig_block(link) -> str:
    if link.kind == "loopback":
        lines = [f"{link.name:<10}Link encap:Local Loopback  "]
    else:
        lines = [f"{link.name:<10}Link encap:Ethernet  HWaddr {link.mac.upper()}  "]
    if link.addrs:
        a = link.addrs[0]
        if link.kind == "loopback":
            lines.append(f"          inet addr:{a.ip}  Mask:{a.netmask}")
        else:
            bcast = a.network.broadcast_address if a in link.brd else "0.0.0.0"
            lines.append(f"          inet addr:{a.ip}  Bcast:{bcast}  Mask:{a.netmask}")
    flags = []
    if link.up:
        flags.append("UP")
    flags.append("LOOPBACK" if link.kind == "loopback" else "BROADCAST")
    if link.carrier:
        flags.append("RUNNING")
    if link.kind != "loopback":
        flags.append("MULTICAST")
    lines.append(f"          {' '.join(flags)}  MTU:{link.mtu}  Metric:1")
    lines.append(f"          RX packets:{link.rx_packets} errors:0 dropped:0 overruns:0 frame:0")
    lines.append(f"          TX packets:{link.tx_packets} errors:0 dropped:0 overruns:0 carrier:0")
    lines.append("          collisions:0 txqueuelen:1000 ")
    lines.append(
        f"          RX bytes:{link.rx_bytes} ({human_bytes(link.rx_bytes)})  "
        f"TX bytes:{link.tx_bytes} ({human_bytes(link.tx_bytes)})"
    )
    return "\n".join(lines) + "\n\n"


@applet("ifconfig")
def ifconfig_main(sys) -> Gen:
    args = sys.argv[1:]
    show_all = False
    if args and args[0] == "-a":
        show_all, args = True, args[1:]
    links = sorted(sys.netlink("links"), key=lambda lk: lk.name)
    if not args:
        yield from out(sys, "".join(_ifconfig_block(lk) for lk in links if lk.up or show_all))
        return 0
    name, change = args[0], args[1:]
    link = next((lk for lk in links if lk.name == name), None)
    if link is None:
        yield from complain(
            sys, "ifconfig", f"{name}: error fetching interface information: Device not found"
        )
        return 1
    if not change:
        yield from out(sys, _ifconfig_block(link))
        return 0
    try:
        for word in change:
            if word in ("up", "down"):
                sys.netlink("link_set", dev=name, up=word == "up")
            elif "." in word:
                sys.netlink("addr_add", dev=name, cidr=word if "/" in word else word + "/24")
    except OSError as e:
        yield from complain(sys, "ifconfig", f"SIOCSIFFLAGS: {strerror(e)}")
        return 1
    return 0


# -- route ------------------------------------------------------------------------------------


@applet("route")
def route_main(sys) -> Gen:
    args = sys.argv[1:]
    numeric = "-n" in args
    netstat_format = "--netstat" in args  # netstat -r: busybox's route table in netstat's columns
    args = [a for a in args if a not in ("-n", "-e", "-ee", "--netstat")]
    if args and args[0] in ("add", "del"):
        words = args[1:]
        target = {"dst": "default"}
        if words and words[0] in ("-net", "-host"):
            words = words[1:]
        if words and words[0] != "default":
            target["dst"] = words[0]
        for key, name in (("gw", "via"), ("dev", "dev")):
            if key in words and words.index(key) + 1 < len(words):
                target[name] = words[words.index(key) + 1]
        try:
            sys.netlink("route_add" if args[0] == "add" else "route_del", **target)
        except OSError as e:
            yield from complain(sys, "route", f"SIOC{'ADD' if args[0] == 'add' else 'DEL'}RT: {strerror(e)}")
            return 1
        return 0
    lines = [
        "Kernel IP routing table",
        "Destination     Gateway         Genmask         Flags "
        + ("  MSS Window  irtt" if netstat_format else "Metric Ref    Use")
        + " Iface",
    ]
    for r in sorted(sys.netlink("routes"), key=_route_key):
        net = r.dst
        dest = "default" if net.prefixlen == 0 and not numeric else str(net.network_address)
        gw = str(r.gateway) if r.gateway else ("0.0.0.0" if numeric else "*")
        flags = "U" + ("G" if r.gateway else "") + ("H" if net.prefixlen == 32 else "")
        start = f"{dest:<15.15} {gw:<15.15} {str(net.netmask):<16}{flags:<6}"
        if netstat_format:
            lines.append(f"{start}{0:5d} {0:<5d} {0:6d} {r.dev.name}")
        else:
            lines.append(f"{start}{0:<6d} {0:<2d} {0:7d} {r.dev.name}")
    yield from out(sys, "".join(line + "\n" for line in lines))
    return 0


# -- netstat ----------------------------------------------------------------------------------


@applet("netstat")
def netstat_main(sys) -> Gen:
    from .libc import parse_options

    opts = yield from parse_options(sys, "netstat", "raltuwxen")
    if opts is None:
        return 1
    if "r" in opts:
        sys.argv = ["route", "--netstat"] + (["-n"] if "n" in opts else [])
        return (yield from route_main(sys))
    listening, everything = "l" in opts, "a" in opts
    tcp = "t" in opts or not ("u" in opts or "w" in opts or "x" in opts)
    udp = "u" in opts or not ("t" in opts or "w" in opts or "x" in opts)
    title = "servers and established" if everything else ("only servers" if listening else "w/o servers")
    lines = [
        f"Active Internet connections ({title})",
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       ",
    ]
    rows = []
    for s in sys.sockets():
        if s.local is None or s.proto not in ("tcp", "udp"):
            continue
        if (s.proto == "tcp" and not tcp) or (s.proto == "udp" and not udp):
            continue
        is_server = (s.proto == "tcp" and s.state == "listen") or (s.proto == "udp" and s.remote is None)
        if not everything and is_server != listening:
            continue
        v6 = getattr(s, "v6", False)
        local = f"{':::' if v6 else str(s.local[0]) + ':'}{s.local[1]}"
        if s.remote is not None:
            foreign = f"{s.remote[0]}:{s.remote[1]}"
        else:
            foreign = ":::*" if v6 else "0.0.0.0:*"
        state = "LISTEN" if s.state == "listen" else ("ESTABLISHED" if s.proto == "tcp" else "")
        if s.proto == "udp" and s.remote is not None:
            state = "ESTABLISHED"
        recvq = len(s.rbuf) if s.proto == "tcp" else sum(len(d[1]) for d in s.dgrams)
        rows.append(
            ((s.proto != "tcp", v6, int(s.local[0]), s.local[1]), s.proto, recvq, local, foreign, state)
        )
    for _key, proto, recvq, local, foreign, state in sorted(rows):
        lines.append(f"{proto:<5} {recvq:6d} {0:6d} {local:<23} {foreign:<23} {state:<12}")
    if "x" in opts or not ("t" in opts or "u" in opts or "w" in opts):
        # UNIX domain sockets are not simulated: the heading, with no rows
        lines.append(f"Active UNIX domain sockets ({title})")
        lines.append("Proto RefCnt Flags       Type       State         I-Node Path")
    yield from out(sys, "".join(line + "\n" for line in lines))
    return 0


def hostname_addresses(sys, name: str) -> Gen:
    """``hostname -i``: the addresses ``name`` resolves to."""
    from .net_resolv import resolve

    return (yield from resolve(sys, name))
