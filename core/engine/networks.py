"""``/networks/...``: the network endpoints (``docker network ...``, docker-compose).

How ``docker network create n1`` and ``docker run --network n1 ...`` look
on the wire::

    POST /v1.44/networks/create  {"Name": "n1", "Driver": "bridge", ...}
                                    -> 201 {"Id": "9f1c…", "Warning": ""}
    POST /v1.44/containers/create {..., "HostConfig": {"NetworkMode": "n1"},
          "NetworkingConfig": {"EndpointsConfig": {"n1": {"Aliases": [...]}}}}
    GET  /v1.44/networks/n1      -> the network, with its running containers

docker-compose 1.29 creates its networks with labels, inspects them again
on the next ``up`` and compares Driver, Options, IPAM and Labels with its
file -- so a network reads back exactly as it was created.
"""

from __future__ import annotations

from typing import Any

from stepbox.core.http_server.messages import Request, Response
from stepbox.core.network.store import NetworkRecord

from .create_body import check_endpoint_settings
from .engine import Engine
from .errors import BadParameter
from .filters import parse_filters
from .routes import Router


class NetworkEndpoints:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        add = router.add
        add("GET", "/networks", self.list)
        add("GET", "/networks/json", self.list)  # docker-py < 2 used this spelling
        add("POST", "/networks/create", self.create)
        add("POST", "/networks/prune", self.prune)
        add("GET", "/networks/{id}", self.inspect)
        add("DELETE", "/networks/{id}", self.remove)
        add("POST", "/networks/{id}/connect", self.connect)
        add("POST", "/networks/{id}/disconnect", self.disconnect)

    @property
    def manager(self):
        manager = self.engine.runtime.networks
        if manager is None:
            from stepbox.core.network.manager import NetworkUnavailable

            raise NetworkUnavailable("this daemon manages no networks")
        return manager

    # -- reading --------------------------------------------------------------------
    def list(self, req: Request) -> Response:
        filters = _filters(req)
        with self.manager.lock:
            rows = [self._document(r, containers=False) for r in self.manager.all()]
        return Response.json([row for row in rows if _matches(row, filters)])

    def inspect(self, req: Request) -> Response:
        with self.manager.lock:
            record = self.manager.find(req.params["id"])
            return Response.json(self._document(record, containers=True))

    def _document(self, record: NetworkRecord, containers: bool) -> dict:
        config = []
        if record.subnet:
            entry = {"Subnet": record.subnet, "Gateway": record.gateway}
            if record.ip_range:
                entry["IPRange"] = record.ip_range
            config.append(entry)
        doc: dict[str, Any] = {
            "Name": record.name,
            "Id": record.id,
            "Created": record.created,
            "Scope": "local",
            "Driver": record.driver,
            "EnableIPv4": True,
            "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": dict(record.ipam_options), "Config": config},
            "Internal": record.internal,
            "Attachable": record.attachable,
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": {},
            "Options": dict(record.options),
            "Labels": dict(record.labels),
        }
        if containers:
            members: dict[str, Any] = doc["Containers"]
            for c in self.manager.active_containers(record):
                settings = next(s for s in c.networks.values() if s.get("NetworkID") == record.id)
                members[c.id] = {
                    "Name": c.name,
                    "EndpointID": settings["EndpointID"],
                    "MacAddress": settings["MacAddress"],
                    "IPv4Address": f"{settings['IPAddress']}/{settings['IPPrefixLen']}",
                    "IPv6Address": "",
                }
        return doc

    # -- changing ---------------------------------------------------------------------
    def create(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object (Docker's network config)")
        name = _string(body, "Name")
        if not name:
            raise BadParameter("network name is required (Name)")
        for key in ("Ingress", "ConfigOnly", "EnableIPv6"):
            if body.get(key):
                raise BadParameter(f"{key} networks are not supported by stepbox")
        config_from = body.get("ConfigFrom") or {}
        if not isinstance(config_from, dict):
            raise BadParameter("invalid value for ConfigFrom: expected an object")
        if config_from.get("Network"):
            raise BadParameter("ConfigFrom is not supported by stepbox")
        if (body.get("Scope") or "local") != "local":
            raise BadParameter("only local scope networks are supported by stepbox")
        ipam = body.get("IPAM") or {}
        if not isinstance(ipam, dict):
            raise BadParameter("invalid value for IPAM: expected an object")
        if (ipam.get("Driver") or "default") != "default":
            raise BadParameter(f"IPAM driver {ipam['Driver']!r} is not supported (only default)")
        configs = ipam.get("Config") or []
        if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
            raise BadParameter("invalid value for IPAM.Config: expected a list of objects")
        if len(configs) > 1:
            raise BadParameter("stepbox supports one IPAM config (one IPv4 subnet) per network")
        config = configs[0] if configs else {}
        if config.get("AuxiliaryAddresses"):
            raise BadParameter("IPAM AuxiliaryAddresses are not supported by stepbox")
        labels = _string_map(body, "Labels")
        options = _string_map(body, "Options")
        with self.manager.lock:
            record = self.manager.create(
                name,
                driver=_string(body, "Driver") or "bridge",
                subnet=_string(config, "Subnet"),
                gateway=_string(config, "Gateway"),
                ip_range=_string(config, "IPRange"),
                internal=bool(body.get("Internal")),
                attachable=bool(body.get("Attachable")),
                labels=labels,
                options=options,
                ipam_options=_string_map(ipam, "Options"),
            )
        self.engine.events.publish(
            "network", "create", record.id, {"name": record.name, "type": record.driver}
        )
        return Response.json({"Id": record.id, "Warning": ""}, status=201)

    def remove(self, req: Request) -> Response:
        with self.manager.lock:
            record = self.manager.remove(req.params["id"])
        self.engine.events.publish(
            "network", "destroy", record.id, {"name": record.name, "type": record.driver}
        )
        return Response(204, b"")

    def prune(self, req: Request) -> Response:
        filters = _filters(req)
        removed = []
        with self.manager.lock:
            for record in self.manager.all():
                if record.predefined or self.manager.active_containers(record):
                    continue
                if not _matches(
                    self._document(record, containers=False), {"label": filters.get("label", [])}
                ):
                    continue
                self.manager.remove(record.id)
                removed.append(record.name)
        return Response.json({"NetworksDeleted": removed or None})

    def connect(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object")
        container = _string(body, "Container")
        if not container:
            raise BadParameter("Container is required")
        settings = body.get("EndpointConfig") or {}
        check_endpoint_settings(req.params["id"], settings)
        self.engine.connect(container, req.params["id"], settings)
        return Response(200, b"")

    def disconnect(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object")
        container = _string(body, "Container")
        if not container:
            raise BadParameter("Container is required")
        self.engine.disconnect(container, req.params["id"], bool(body.get("Force")))
        return Response(200, b"")


def _string(section: dict, key: str) -> str:
    value = section.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadParameter(f"invalid value for {key}: expected a string")
    return value


def _string_map(section: dict, key: str) -> dict:
    value = section.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadParameter(f"invalid value for {key}: expected an object of strings")
    return dict(value)


def _filters(req: Request) -> dict[str, list[str]]:
    return parse_filters(req.arg("filters"), ("driver", "id", "label", "name", "scope", "type", "dangling"))


def _matches(doc: dict, filters: dict[str, list[str]]) -> bool:
    for key, wanted in filters.items():
        if not wanted:
            continue
        if key == "name" and not any(w in doc["Name"] for w in wanted):
            return False
        if key == "id" and not any(doc["Id"].startswith(w) for w in wanted):
            return False
        if key == "driver" and doc["Driver"] not in wanted:
            return False
        if key == "scope" and "local" not in wanted:
            return False
        if key == "type":
            kind = "builtin" if doc["Name"] in ("bridge", "host", "none") else "custom"
            if kind not in wanted:
                return False
        if key == "label":
            for w in wanted:
                k, eq, v = w.partition("=")
                if k not in doc["Labels"] or (eq and doc["Labels"][k] != v):
                    return False
    return True
