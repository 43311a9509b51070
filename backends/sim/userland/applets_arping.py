"""arping -- after busybox 1.35's networking/arping.c: ARP requests (or
replies, ``-A``) sent by hand out of one interface, and the answers.

busybox drives it with SIGALRM: every second ``catcher`` checks the count
and the deadline, then sends (unless the last probe left less than 0.5 s
ago); replies are read in between.  The same loop here runs on the virtual
clock.  The option bits are busybox's, including its quirk: the bit that
says "unicasting" is also ``-c``'s, so with ``-c`` no probe counts as a
broadcast.  SIGINT's summary is not modelled (a signal ends the applet as
any other; see SIMPLIFICATIONS.md).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .applet_table import applet
from .libc import BufferedOutput, Die, Gen, UsageError, complain, dies, getopt, show_usage, strerror, xatou
from .net_resolv import resolve

NetSys = Any  # Sys plus the simulated kernel's socket calls (backends/sim/net/sys_net.py)

# getopt32's bits for "UDAqfbc:+w:I:s:", and arping.c's names for them
UNSOLICITED, DAD, ADVERT, QUIET, QUIT_ON_REPLY, BCAST_ONLY, UNICASTING, TIMEOUT = (1 << k for k in range(8))
LETTERS = "UDAqfbcwIs"
IMPLIED = {"D": "f", "A": "U"}  # "Df:AU": DAD quits on a reply, advert is unsolicited
ARPOP_REQUEST, ARPOP_REPLY = 1, 2


class _Finish(Exception):
    """finish(): the summary is printed; the exit status."""

    def __init__(self, status: int):
        self.status = status


@applet("arping")
@dies("arping")
def arping_main(sys: NetSys) -> Gen:
    try:
        sys.packet_socket()  # xsocket(AF_PACKET) comes before the options
    except OSError as e:
        raise Die(f"socket: {strerror(e)}") from None
    try:
        opts = getopt(sys.argv[1:], "UDAqfbc:w:I:s:")
    except UsageError as e:
        if e.message:
            yield from complain(sys, "arping", e.message)
        yield from show_usage(sys, "arping")
        return 1
    if len(opts.operands) != 1:
        yield from show_usage(sys, "arping")
        return 1
    mask = 0
    for letter in LETTERS:
        if letter in opts:
            mask |= 1 << LETTERS.index(letter)
            if letter in IMPLIED:
                mask |= 1 << LETTERS.index(IMPLIED[letter])
    count = xatou(opts.value("c") or "", 0, 2**31 - 1) if "c" in opts else -1
    timeout_us = (
        xatou(opts.value("w") or "", 0, 2**31 // 2_000_000) * 1_000_000 + 500_000 if "w" in opts else 0
    )
    device = opts.value("I", "eth0") or ""
    source = opts.value("s")
    run = _Arping(sys, mask, count, timeout_us, device)
    out = run.out
    try:
        status = yield from run.prepare(opts.operands[0], source)
        if status is not None:
            return status
        return (yield from run.loop())
    except _Finish as done:
        return done.status
    finally:
        yield from out.flush()


class _Arping:
    def __init__(self, sys: NetSys, mask: int, count: int, timeout_us: int, device: str):
        self.sys, self.mask, self.count, self.timeout_us, self.device = sys, mask, count, timeout_us, device
        self.out = BufferedOutput(sys, 1)
        self.src = self.dst = ipaddress.IPv4Address(0)
        self.peer_mac: str | None = None  # he.sll_addr once unicasting (None: broadcast)
        self.start = self.last = 0
        self.sent = self.brd_sent = self.received = self.brd_recv = self.req_recv = 0
        self.pending: list[tuple[int, str]] = []  # answers on their way: (arrival usec, MAC)

    def now(self) -> int:
        return int(round(self.sys.time() * 1_000_000))

    def prepare(self, target: str, source: str | None) -> Gen:
        """Everything before the first probe; an exit status if it stops there."""
        sys, err = self.sys, f"interface {self.device} "
        links = {link.name: link for link in sys.netlink("links")}
        link = links.get(self.device)
        if link is None:
            raise Die(err + "not found: No such device", 2)
        if not link.up:
            raise Die(err + "is down", 2)
        if link.kind == "loopback":
            yield from complain(sys, "arping", err + "is not ARPable")
            return 0 if self.mask & DAD else 2
        found = yield from resolve(sys, target)
        if not found:
            raise Die(f"bad address '{target}'", 2)
        self.dst = ipaddress.IPv4Address(found[0])
        if source is not None:
            try:
                self.src = ipaddress.IPv4Address(_inet_aton(source))
            except ValueError:
                raise Die(f"invalid source address {source}", 2) from None
        if self.mask & (DAD | UNSOLICITED) == UNSOLICITED and not int(self.src):
            self.src = self.dst
        if not self.mask & DAD or int(self.src):
            stack = sys.netlink("stack")
            if int(self.src):
                if self.src not in stack.local_addresses():  # bind(): not one of ours
                    raise Die("bind: Cannot assign requested address", 2)
            else:
                self.src = _device_source(link, self.dst)
        if not self.mask & QUIET:
            self.out.write(f"ARPING {self.dst} from {self.src} {self.device}\n")
        return None

    def loop(self) -> Gen:
        sys = self.sys
        while True:
            alarm = self.catcher() + 1_000_000
            while True:
                arriving = [p for p in self.pending if p[0] <= alarm]
                if not arriving:
                    break
                self.pending.remove(arriving[0])
                wait = arriving[0][0] - self.now()
                if wait > 0:
                    yield from self.out.flush()
                    yield from sys.sleep(wait / 1_000_000)
                self.recv(arriving[0][1])
            wait = alarm - self.now()
            if wait > 0:
                yield from self.out.flush()
                yield from sys.sleep(wait / 1_000_000)
        return 0  # pragma: no cover

    def catcher(self) -> int:
        now = self.now()
        if self.start == 0:
            self.start = now or 1
        if self.count == 0 or (self.timeout_us and now - self.start > self.timeout_us):
            self.finish()
        if self.count > 0:
            self.count -= 1
        if self.last == 0 or now - self.last > 500_000:
            self.send()
            if self.count == 0 and self.mask & UNSOLICITED:
                self.finish()
        return now

    def send(self) -> None:
        op = ARPOP_REPLY if self.mask & ADVERT else ARPOP_REQUEST
        answer = self.sys.arp_send(self.device, op, str(self.src), str(self.dst))
        self.last = self.now() or 1
        self.sent += 1
        if not self.mask & UNICASTING:
            self.brd_sent += 1
        if answer is not None and (self.peer_mac is None or self.peer_mac == answer[0]):
            mac, usec = answer
            self.pending.append((self.last + usec, mac))

    def recv(self, mac: str) -> None:
        """recv_pack of an answer to our request: its sender is the target,
        its target is our source address and our MAC (so no "for")."""
        if not self.mask & QUIET:
            diff = self.now() - self.last
            self.out.write(f"Unicast reply from {self.dst} [{mac}] {diff // 1000}.{diff % 1000:03d}ms\n")
        self.received += 1
        if self.mask & QUIT_ON_REPLY:
            self.finish()
        if not self.mask & BCAST_ONLY:
            self.peer_mac = mac
            self.mask |= UNICASTING

    def finish(self) -> None:
        if not self.mask & QUIET:
            self.out.write(
                f"Sent {self.sent} probe(s) ({self.brd_sent} broadcast(s))\n"
                f"Received {self.received} response(s) ({self.req_recv} request(s), {self.brd_recv} broadcast(s))\n"
            )
        if self.mask & DAD:
            raise _Finish(1 if self.received else 0)
        if self.mask & UNSOLICITED:
            raise _Finish(0)
        raise _Finish(0 if self.received else 1)


def _inet_aton(text: str) -> int:
    """glibc's inet_aton: a.b.c.d, a.b.c, a.b or a, each part decimal, 0x hex or 0 octal."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        raise ValueError(text)
    values = []
    for part in parts:
        try:
            values.append(
                int(part, 16)
                if part[:2].lower() == "0x"
                else int(part, 8)
                if part[:1] == "0" and len(part) > 1
                else int(part)
            )
        except ValueError:
            raise ValueError(text) from None
        if values[-1] < 0 or not part[:1].isdigit():
            raise ValueError(text)
    *head, tail = values
    if any(v > 255 for v in head) or tail >= 1 << (8 * (5 - len(values))):
        raise ValueError(text)
    value = 0
    for k, v in enumerate(head):
        value |= v << (24 - 8 * k)
    return value | tail


def _device_source(link: Any, dst: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    """The address a UDP socket bound to the device and connected with
    SO_DONTROUTE gets: the device's address on DST's subnet, else its first."""
    if not link.addrs:
        raise Die("connect: Network is unreachable", 2)
    for iface in link.addrs:
        if dst in iface.network:
            return iface.ip
    return link.addrs[0].ip
