"""The engine's packet rules as one nftables table, loaded with ``nft -f``.

Docker writes iptables rules into the host's shared chains (DOCKER,
DOCKER-USER, DOCKER-ISOLATION-STAGE-1/2 ...).  nftables lets a program own a
*table* of its own instead: stepbox's rules all live in ``table ip stepbox``,
and a whole new version of that table is loaded in one transaction::

    table ip stepbox            # make sure it exists, so that ...
    delete table ip stepbox     # ... deleting it cannot fail
    table ip stepbox { ... }    # the new rules

``nft -f`` applies a file atomically: a packet sees either the old rules or
the new ones, never half of each, and deleting the table removes every rule
stepbox ever made.  The chains, and why each rule is there:

* ``forward`` (filter): packets the host *routes* between interfaces.  Two
  different bridges never talk (isolation between networks); an internal
  network talks to nothing but itself.
* ``prerouting`` / ``output`` (nat, before routing): a packet for one of the
  host's own addresses and a published port is rewritten (DNAT) to the
  container's address -- from outside (prerouting) and from the host itself
  (output; loopback excepted: 127.0.0.1 is the userland proxy's).
* ``postrouting`` (nat, after routing): packets from a network's subnet that
  leave through another interface get the outgoing interface's address
  (masquerade), so the answers come back to the host, which knows the way on.
"""

from __future__ import annotations

import json

from stepbox.core.kernel.network import Firewall

TABLE = "stepbox"
FAMILY = "ip"


def _name(text: str) -> str:
    """An interface name as an nft string literal."""
    return json.dumps(text)


def render(rules: Firewall, table: str = TABLE) -> str:
    """The ``nft -f`` script that replaces the table by ``rules`` (or only
    removes it, when ``rules`` is empty)."""
    head = f"table {FAMILY} {table}\ndelete table {FAMILY} {table}\n"
    if rules.empty:
        return head
    forward, published, postrouting = [], [], []
    bridges = [b.bridge for b in rules.bridges]
    for b in rules.bridges:
        me = _name(b.bridge)
        if b.internal:
            forward.append(f'iifname {me} oifname != {me} drop comment "internal network"')
            forward.append(f'oifname {me} iifname != {me} drop comment "internal network"')
            continue
        others = [_name(o) for o in bridges if o != b.bridge]
        if others:
            forward.append(
                f'iifname {me} oifname {{ {", ".join(others)} }} drop comment "isolation between networks"'
            )
        if b.masquerade:
            postrouting.append(
                f'ip saddr {b.subnet} oifname != {me} masquerade comment "outbound NAT for {b.bridge}"'
            )
    for p in rules.ports:
        daddr = "" if p.host_ip in ("", "0.0.0.0") else f"ip daddr {p.host_ip} "
        published.append(
            f"iifname != {_name(p.bridge)} {daddr}{p.proto} dport {p.host_port} "
            f"dnat to {p.container_ip}:{p.container_port}"
        )
    lines = [f"table {FAMILY} {table} {{"]
    lines += _chain("forward", "type filter hook forward priority filter; policy accept;", forward)
    lines += _chain("published", "", published)
    lines += _chain(
        "prerouting",
        "type nat hook prerouting priority dstnat; policy accept;",
        ["fib daddr type local jump published"],
    )
    lines += _chain(
        "output",
        "type nat hook output priority -100; policy accept;",
        ["ip daddr != 127.0.0.0/8 fib daddr type local jump published"],
    )
    lines += _chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;", postrouting)
    lines.append("}")
    return head + "\n".join(lines) + "\n"


def _chain(name: str, hook: str, rules: list[str]) -> list[str]:
    body = ([f"\t\t{hook}"] if hook else []) + [f"\t\t{rule}" for rule in rules]
    return [f"\tchain {name} {{", *body, "\t}"]
