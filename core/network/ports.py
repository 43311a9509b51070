"""Published ports: ``-p 8080:80``, ``-p 127.0.0.1::53/udp``, ``-P``.

A container's address is private to the host (172.17.0.2 is reachable
from the host, not from the LAN).  *Publishing* a port makes a host port
forward to a container port.  The Engine API carries it as Docker's two
fields: ``ExposedPorts`` ({"80/tcp": {}}) and ``HostConfig.PortBindings``
({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}); an empty ``HostPort``
means "any free port" (``-p 80``, ``-P``), chosen when the container starts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


class BadPortSpec(ValueError):
    pass


@dataclass(frozen=True)
class PortBinding:
    proto: str  # "tcp" | "udp"
    container_port: int
    host_ip: str = ""  # "" = every address (0.0.0.0)
    host_port: int = 0  # 0 = a free one, picked at start

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


def _port(text: str, what: str) -> int:
    if not text.isdecimal() or not 0 < int(text) < 65536:
        raise BadPortSpec(f"invalid {what}: {text!r} (a number from 1 to 65535)")
    return int(text)


def _range(text: str, what: str) -> list[int]:
    low, dash, high = text.partition("-")
    if not dash:
        return [_port(text, what)]
    first, last = _port(low, what), _port(high, what)
    if last < first:
        raise BadPortSpec(f"invalid {what} range: {text}")
    return list(range(first, last + 1))


def parse_port_key(key: str) -> tuple[int, str]:
    """``"80/tcp"`` (or ``"80"``) -> (80, "tcp")."""
    port, _, proto = key.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise BadPortSpec(f"invalid protocol {proto!r} in {key!r}: tcp or udp (sctp is not supported)")
    return _port(port, "container port"), proto


def parse_publish(spec: str) -> list[PortBinding]:
    """One ``-p`` value: ``[ip:][hostPort:]containerPort[/proto]``, ports may be ranges."""
    body, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise BadPortSpec(f"invalid proto: {proto} (in -p {spec}; tcp or udp)")
    host_ip = ""
    if body.startswith("["):  # [::1]:80:80
        raise BadPortSpec(f"invalid -p {spec}: IPv6 host addresses are not supported")
    parts = body.split(":")
    if len(parts) == 3:
        host_ip, host, container = parts
        if host_ip:
            try:
                ipaddress.IPv4Address(host_ip)
            except ValueError:
                raise BadPortSpec(f"invalid IP address {host_ip!r} in -p {spec}") from None
    elif len(parts) == 2:
        host, container = parts
    elif len(parts) == 1:
        host, container = "", parts[0]
    else:
        raise BadPortSpec(f"invalid -p {spec}: expected [ip:][hostPort:]containerPort[/proto]")
    containers = _range(container, "containerPort")
    hosts = _range(host, "hostPort") if host else [0] * len(containers)
    if len(hosts) != len(containers):
        raise BadPortSpec(f"invalid ranges specified for container and host Ports: {spec}")
    return [PortBinding(proto, c, host_ip, h) for c, h in zip(containers, hosts, strict=True)]


def bindings_to_api(bindings: list[PortBinding]) -> tuple[dict, dict]:
    """(ExposedPorts, PortBindings) as the Engine API carries them."""
    exposed: dict = {}
    port_bindings: dict = {}
    for b in bindings:
        exposed[b.key] = {}
        port_bindings.setdefault(b.key, []).append(
            {"HostIp": b.host_ip, "HostPort": str(b.host_port) if b.host_port else ""}
        )
    return exposed, port_bindings


def bindings_from_api(port_bindings: dict | None) -> list[PortBinding]:
    """``HostConfig.PortBindings`` -> bindings; ``BadPortSpec`` names what is wrong."""
    if port_bindings is None:
        return []
    if not isinstance(port_bindings, dict):
        raise BadPortSpec("invalid value for PortBindings: expected an object")
    found = []
    for key, entries in port_bindings.items():
        port, proto = parse_port_key(key)
        if entries is None:
            entries = [{}]
        if not isinstance(entries, list):
            raise BadPortSpec(f"invalid value for PortBindings[{key}]: expected a list")
        for entry in entries or [{}]:
            if not isinstance(entry, dict):
                raise BadPortSpec(f"invalid value for PortBindings[{key}]: expected objects")
            host_ip = entry.get("HostIp") or ""
            host_port = entry.get("HostPort") or ""
            if not isinstance(host_ip, str) or not isinstance(host_port, str):
                raise BadPortSpec(f"invalid value for PortBindings[{key}]: HostIp and HostPort are strings")
            if host_ip:
                try:
                    ipaddress.IPv4Address(host_ip)
                except ValueError:
                    raise BadPortSpec(
                        f"invalid HostIp {host_ip!r} for {key}: an IPv4 address (IPv6 is not supported)"
                    ) from None
            if "-" in host_port:
                raise BadPortSpec(f"invalid HostPort {host_port!r} for {key}: ranges are not supported here")
            found.append(PortBinding(proto, port, host_ip, _port(host_port, "HostPort") if host_port else 0))
    return found


def exposed_from_api(exposed: dict | None) -> list[tuple[int, str]]:
    if exposed is None:
        return []
    if not isinstance(exposed, dict):
        raise BadPortSpec("invalid value for ExposedPorts: expected an object")
    return [parse_port_key(key) for key in exposed]
