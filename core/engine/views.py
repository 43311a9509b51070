"""Containers and images as the Engine API shows them (Docker's field names).

The core already renders ``docker inspect`` (``ContainerRecord.inspect``);
these functions add what the API's clients also read -- ``docker ps``'s
summary line, ``docker images``' rows, the fields the ``docker`` SDK and CLI
expect to be present even when stepbox has nothing to put in them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stepbox.core.container.etc_files import etc_file_path
from stepbox.core.container.record import EXITED, PAUSED, RUNNING, ZERO_TIME, ContainerRecord
from stepbox.core.image.history import history_rows
from stepbox.core.image.lineage import parents
from stepbox.core.image.store import Image, ImageStore
from stepbox.core.units import human_duration


def _parse_time(text: str) -> datetime | None:
    if not text or text == ZERO_TIME:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def unix_time(text: str) -> int:
    moment = _parse_time(text)
    return int(moment.timestamp()) if moment else 0


def status_line(record: ContainerRecord) -> str:
    """``Up 3 seconds``, ``Exited (0) 5 minutes ago``, ``Created``."""
    now = datetime.now(UTC)
    if record.state in (RUNNING, PAUSED):
        started = _parse_time(record.started_at) or now
        line = "Up " + human_duration((now - started).total_seconds())
        return line + " (Paused)" if record.state == PAUSED else line
    if record.state == EXITED:
        finished = _parse_time(record.finished_at) or now
        return f"Exited ({record.exit_code}) {human_duration((now - finished).total_seconds())} ago"
    return record.state.capitalize()


def _network_mode(record: ContainerRecord) -> str:
    return "bridge" if record.config.network in ("default", "bridge") else record.config.network


_ARRAYS = ("Links", "Aliases", "DNSNames")


def _user_network(record: ContainerRecord) -> dict | None:
    """Rootless on the default network: the slirp4netns "network" the
    container is on, as an EndpointSettings (its address while it runs)."""
    found = record.user_network
    if not found:
        return None
    running = bool(found.get("pid"))
    return {
        "IPAMConfig": None,
        "Links": [],
        "Aliases": [],
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": found.get("Gateway", "") if running else "",
        "IPAddress": found.get("IPAddress", "") if running else "",
        "IPPrefixLen": found.get("IPPrefixLen", 0) if running else 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "MacAddress": "",
        "DriverOpts": None,
        "DNSNames": None,
    }


def _networks(record: ContainerRecord) -> dict:
    user_mode = _user_network(record)
    if user_mode is not None:
        # Not a network of the daemon's: the container's own slirp4netns
        # (rootless Docker shows its bridge here, podman its network mode).
        return {(record.user_network or {}).get("tool", "slirp4netns"): user_mode}
    if record.networks:
        # Docker's EndpointSettings as kept in the record, without stepbox's own notes
        # (the schema wants arrays where dockerd often sends null)
        return {
            name: {k: ([] if v is None and k in _ARRAYS else v) for k, v in s.items() if k != "stepbox"}
            for name, s in record.networks.items()
        }
    # An engine without networks gives a container loopback only; it still
    # names the network docker would, with empty addresses, so clients find
    # the keys they read.
    return {
        _network_mode(record): {
            "IPAMConfig": None,
            "NetworkID": "",
            "EndpointID": "",
            "Gateway": "",
            "IPAddress": "",
            "IPPrefixLen": 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "MacAddress": "",
            "DriverOpts": None,
        }
    }


def exposed_ports(record: ContainerRecord) -> list[str]:
    """Every port the container exposes: the image's EXPOSE, --expose, -p."""
    keys = list(record.image_config.get("ExposedPorts") or {})
    keys += list(record.config.exposed_ports) + list(record.config.port_bindings)
    return list(dict.fromkeys(keys))


def port_map(record: ContainerRecord) -> dict:
    """``NetworkSettings.Ports``: each exposed port -> its host bindings
    (null when not published); empty while the container does not run."""
    if record.state not in (RUNNING, PAUSED):
        return {}
    ports: dict[str, list[dict[str, str]] | None] = {key: None for key in exposed_ports(record)}
    ports.update({key: list(entries) for key, entries in (record.ports or {}).items()})
    return ports


def _port_rows(record: ContainerRecord) -> list[dict]:
    """``docker ps``'s PORTS column, as ``GET /containers/json`` sends it."""
    rows = []
    for key, entries in port_map(record).items():
        port, _, proto = key.partition("/")
        if not entries:
            rows.append({"PrivatePort": int(port), "Type": proto})
        for entry in entries or []:
            rows.append(
                {
                    "IP": entry["HostIp"],
                    "PrivatePort": int(port),
                    "PublicPort": int(entry["HostPort"]),
                    "Type": proto,
                }
            )
    return rows


def _legacy_bridge_fields(record: ContainerRecord) -> dict:
    """The top-level address fields the API still carries for the default bridge."""
    settings = _user_network(record) or (record.networks or {}).get("bridge") or {}
    return {
        "EndpointID": settings.get("EndpointID", ""),
        "Gateway": settings.get("Gateway", ""),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": settings.get("IPAddress", ""),
        "IPPrefixLen": settings.get("IPPrefixLen", 0),
        "IPv6Gateway": "",
        "MacAddress": settings.get("MacAddress", "") if settings.get("IPAddress") else "",
    }


def container_summary(record: ContainerRecord, labels: dict) -> dict:
    """One row of ``GET /containers/json`` (``docker ps``)."""
    return {
        "Id": record.id,
        "Names": ["/" + record.name],
        "Image": record.config.image,
        "ImageID": record.image_id,
        "Command": " ".join(record.argv),
        "Created": unix_time(record.created),
        "Ports": _port_rows(record),
        "Labels": dict(labels),
        "State": record.state,
        "Status": status_line(record),
        "HostConfig": {"NetworkMode": _network_mode(record)},
        "NetworkSettings": {"Networks": _networks(record)},
        "Mounts": record.mount_points(),
    }


def container_inspect(document: dict, record: ContainerRecord, notes, exec_ids: list[str]) -> dict:
    """``GET /containers/{id}/json``: the core's inspect document, completed."""
    doc = dict(document)
    doc["Created"] = record.created
    doc.update(
        {
            # The container's own /etc files (etc_files.py), once it has started.
            "ResolvConfPath": _etc_path(record, "resolv.conf"),
            "HostnamePath": _etc_path(record, "hostname"),
            "HostsPath": _etc_path(record, "hosts"),
            "RestartCount": notes.restart_count,
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": exec_ids or None,
            "NetworkSettings": {
                "Bridge": "",
                "SandboxID": "",
                "SandboxKey": f"/proc/{record.pid}/ns/net" if record.pid else "",
                "Ports": port_map(record),
                "HairpinMode": False,
                "LinkLocalIPv6Address": "",
                "LinkLocalIPv6PrefixLen": 0,
                **_legacy_bridge_fields(record),
                "Networks": _networks(record),
            },
        }
    )
    host = dict(doc.get("HostConfig", {}))
    host.update(
        {
            "PidsLimit": host.get("PidsLimit") or None,
            "LogConfig": {"Type": "json-file", "Config": {}},
            "RestartPolicy": record.config.restart.to_api(),
            "Init": record.config.init or None,
            # an array even when empty: the API's schema (and docker inspect) say so
            "Ulimits": [{"Name": n, "Soft": soft, "Hard": hard} for n, soft, hard in record.config.ulimits],
            "Privileged": False,
            "CpuShares": 0,
        }
    )
    doc["HostConfig"] = host
    config = dict(doc.get("Config", {}))
    config.update(
        {
            "Tty": record.config.tty,
            "OpenStdin": record.config.open_stdin,
            "StdinOnce": record.config.stdin_once,
            "AttachStdin": record.config.open_stdin and record.config.stdin_once,
            "AttachStdout": not record.config.open_stdin or record.config.stdin_once,
            "AttachStderr": True,
            "Labels": dict(notes.labels),
            "Domainname": "",
        }
    )
    exposed = exposed_ports(record)
    if exposed:
        config["ExposedPorts"] = {key: {} for key in exposed}
    if record.config.mac_address:
        config["MacAddress"] = record.config.mac_address
    if notes.stop_signal:
        config["StopSignal"] = notes.stop_signal
    for key in ("Entrypoint", "Cmd"):  # the schema has arrays here, never null
        if config.get(key) is None:
            config.pop(key, None)
    doc["Config"] = config
    if not doc.get("GraphDriver", {}).get("Data"):
        doc["GraphDriver"] = {"Name": "overlay2", "Data": {}}  # the schema wants an object
    return doc


def _etc_path(record: ContainerRecord, name: str) -> str:
    return etc_file_path(record, name) if record.started_once else ""


def image_size(store: ImageStore, image: Image) -> int:
    return store.image_size(image)  # the layers' files, as docker counts


def image_summary(store: ImageStore, image: Image, containers: int, parent_id: str = "") -> dict:
    """One row of ``GET /images/json`` (``docker images``)."""
    return {
        "Id": image.id,
        "ParentId": parent_id,
        "RepoTags": list(image.tags),
        "RepoDigests": [],
        "Created": unix_time(image.config.get("created", "")),
        "Size": image_size(store, image),
        "SharedSize": -1,
        "Labels": dict((image.config.get("config") or {}).get("Labels") or {}),
        "Containers": containers,
    }


def image_inspect(store: ImageStore, image: Image) -> dict:
    """``GET /images/{name}/json``."""
    config = image.config
    section = dict(config.get("config") or {})
    return {
        "Id": image.id,
        "RepoTags": list(image.tags),
        "RepoDigests": [],
        "Parent": parents(store.list()).get(image.id, ""),
        "Comment": (config.get("history") or [{}])[-1].get("comment", ""),
        "Created": config.get("created", ""),
        "DockerVersion": "",
        "Author": config.get("author", ""),
        "Config": section,
        "Architecture": config.get("architecture", "amd64"),
        "Os": config.get("os", "linux"),
        "Size": image_size(store, image),
        "GraphDriver": {"Name": "overlay2", "Data": {}},
        "RootFS": {"Type": "layers", "Layers": list(image.diff_ids)},
        "Metadata": {"LastTagTime": ZERO_TIME},
    }


def image_history(store: ImageStore, image: Image) -> list[dict]:
    """``GET /images/{name}/history`` (see :mod:`stepbox.core.image.history`)."""
    return history_rows(store, image)
