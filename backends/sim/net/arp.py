"""ARP frames sent by hand (an AF_PACKET socket: busybox's arping).

The kernel's own ARP (resolving a next hop) is in :mod:`.fabric`; this is
what a neighbour on the segment does with a request a program sent itself:
Linux's ``arp_process`` answers a request for any of its own (non-loopback)
addresses (``arp_ignore=0``), also a duplicate-address probe (sender
0.0.0.0), and learns the asker's address when the request was for it.  A
reply (``arping -A``) or a gratuitous request (sender = target) gets no
answer.
"""

from __future__ import annotations

from .fabric import HOP_USEC, segment
from .stack import IPv4, Link

ARPOP_REQUEST, ARPOP_REPLY = 1, 2


def answer(link: Link, op: int, sender_ip: IPv4, target_ip: IPv4) -> tuple[str, int] | None:
    """A frame sent out of ``link``: (the answering MAC, round trip usec), or None."""
    if op != ARPOP_REQUEST or sender_ip == target_ip or target_ip.is_loopback:
        return None
    for other in segment(link):
        if not other.up:
            continue
        owner = other.stack.local_addresses().get(target_ip)
        if owner is None or target_ip.is_loopback:
            continue
        if int(sender_ip):
            other.stack.neigh[(other.name, sender_ip)] = link.mac
        return other.mac, 2 * HOP_USEC
    return None
