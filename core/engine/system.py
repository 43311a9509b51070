"""``/_ping``, ``/version``, ``/info``, ``/events``: the daemon describes itself.

Every docker command starts with ``HEAD /_ping``: the answer's
``Api-Version`` header tells the CLI which version to put in front of every
later path (the lower of its own and ours), and ``Builder-Version: 1`` tells
it to build with the classic ``POST /build`` rather than BuildKit.  The
``Stepbox-Backend`` header names the kernel the daemon runs containers on.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import sys
import time
from datetime import UTC, datetime

from stepbox import __version__
from stepbox.core.http_server.messages import Request, Response, StreamResponse

from . import API_VERSION, MIN_API_VERSION
from .engine import Engine
from .errors import BadParameter
from .filters import parse_filters
from .routes import Router
from .volumes import volume_usage

PING_HEADERS = {
    "Api-Version": API_VERSION,
    "Builder-Version": "1",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Swarm": "inactive",
}


class SystemEndpoints:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.add("GET", "/_ping", self.ping)
        router.add("GET", "/version", self.version)
        router.add("GET", "/info", self.info)
        router.add("GET", "/events", self.events)
        router.add("GET", "/system/df", self.disk_usage)

    def ping(self, req: Request) -> Response:
        # Stepbox-Backend: the stepbox CLI checks in the same request that it
        # reached a daemon on the kernel it was asked for (--backend).
        return Response(
            200, b"OK", "text/plain; charset=utf-8", {**PING_HEADERS, "Stepbox-Backend": self.engine.backend}
        )

    def version(self, req: Request) -> Response:
        kernel = platform.release()
        component = {
            "Name": "Engine",
            "Version": __version__,
            "Details": {
                "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION,
                "Os": "linux",
                "Arch": "amd64",
                "KernelVersion": kernel,
                "Backend": self.engine.backend,
            },
        }
        return Response.json(
            {
                "Platform": {"Name": f"stepbox {__version__} ({self.engine.backend} kernel)"},
                "Components": [component],
                "Version": __version__,
                "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION,
                "GitCommit": "stepbox",
                "GoVersion": f"python{sys.version_info.major}.{sys.version_info.minor}",
                "Os": "linux",
                "Arch": "amd64",
                "KernelVersion": kernel,
                "Experimental": False,
                "BuildTime": "",
            }
        )

    def info(self, req: Request) -> Response:
        engine = self.engine
        records = engine.ps(all_=True)
        images = engine.images.list()
        states = [r.state for r in records]
        return Response.json(
            {
                "ID": "stepbox",
                "Name": platform.node(),
                "Containers": len(records),
                "ContainersRunning": states.count("running"),
                "ContainersPaused": states.count("paused"),
                "ContainersStopped": len(records) - states.count("running") - states.count("paused"),
                "Images": len(images),
                "Driver": engine.kernel.storage_driver,
                "DriverStatus": [
                    ["Backend", engine.backend],
                    *([["Why", engine.backend_why]] if engine.backend_why else []),
                    ["Kernel", engine.kernel.description],
                    *_rootless_network(engine.kernel),
                ],
                "DockerRootDir": engine.root,
                "ServerVersion": __version__,
                "OperatingSystem": f"stepbox ({engine.backend} kernel)",
                "OSType": "linux",
                "Architecture": platform.machine() or "x86_64",
                "KernelVersion": platform.release(),
                "NCPU": os.cpu_count() or 1,
                "MemTotal": host_memory_total(),
                "CgroupDriver": "cgroupfs",
                "CgroupVersion": engine.kernel.cgroup_version(),
                "LoggingDriver": "json-file",
                "Debug": False,
                "IndexServerAddress": "https://index.docker.io/v1/",
                "Plugins": {"Volume": [], "Network": ["bridge", "host", "null"], "Log": ["json-file"]},
                "MemoryLimit": True,
                "SwapLimit": False,
                "CpuCfsPeriod": True,
                "CpuCfsQuota": True,
                "PidsLimit": True,
                "IPv4Forwarding": False,
                "BridgeNfIptables": False,
                "OomKillDisable": False,
                "Labels": [],
                "ExperimentalBuild": False,
                "SystemTime": datetime.now(UTC).isoformat(),
                "NEventsListener": 0,
                "RegistryConfig": {
                    "IndexConfigs": {},
                    "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                    "Mirrors": [],
                },
                "Runtimes": {"stepbox": {"path": "stepbox"}},
                "DefaultRuntime": "stepbox",
                "Swarm": {
                    "LocalNodeState": "inactive",
                    "NodeID": "",
                    "NodeAddr": "",
                    "ControlAvailable": False,
                    "Error": "",
                    "RemoteManagers": None,
                },
                "LiveRestoreEnabled": engine.kernel.containers_outlive_program,
                "Isolation": "",
                "InitBinary": "",
                "SecurityOptions": ["name=seccomp,profile=unconfined", *engine.kernel.security_options],
                "Warnings": [],
            }
        )

    def events(self, req: Request) -> StreamResponse:
        since = _timestamp(req.arg("since"), "since")
        until_time = _timestamp(req.arg("until"), "until")
        since_nano = int(since * 1e9) if since is not None else None
        wanted = {k: set(v) for k, v in parse_filters(req.arg("filters"), EVENT_FILTERS).items()}
        q, past = self.engine.events.subscribe(since_nano)

        def body():
            try:
                for event in past:
                    if _event_matches(event, wanted):
                        yield json.dumps(event.to_json()).encode() + b"\n"
                while until_time is None or time.time() < until_time:
                    try:
                        event = q.get(timeout=0.5 if until_time else 30)
                    except queue.Empty:
                        continue
                    if _event_matches(event, wanted):
                        yield json.dumps(event.to_json()).encode() + b"\n"
            finally:
                self.engine.events.unsubscribe(q)

        return StreamResponse(body())

    def disk_usage(self, req: Request) -> Response:
        """``docker system df``: what the images' layers take (each layer
        once), each container's read-write layer (SizeRw) and the local
        volumes (their size and how many containers use each)."""
        from .views import container_summary, image_summary

        engine = self.engine
        with engine.runtime.locks.volumes:
            volumes = volume_usage(engine.runtime)
        records = engine.ps(all_=True)  # as last saved: reading never waits
        images = engine.images.list()
        used_by: dict[str, int] = {}
        for record in records:
            used_by[record.image_id] = used_by.get(record.image_id, 0) + 1
        layers: dict[str, int] = {}
        rows = []
        for image in images:
            for digest in image.layers:
                layers[digest] = engine.images.layer_size(digest)
            row = image_summary(engine.images, image, used_by.get(image.id, 0))
            rows.append(row)
        shared = {d for d in layers if sum(d in i.layers for i in images) > 1}
        for image, row in zip(images, rows, strict=True):
            row["SharedSize"] = sum(layers[d] for d in image.layers if d in shared)
        containers = []
        for record in records:
            row = container_summary(record, engine.notes(record).labels)
            row["SizeRw"] = layer_bytes(engine.kernel.unionfs, record.rw_layer)
            row["SizeRootFs"] = row["SizeRw"] + sum(
                layers.get(d, 0) for i in images if i.id == record.image_id for d in i.layers
            )
            containers.append(row)
        return Response.json(
            {
                "LayersSize": sum(layers.values()),
                "Images": rows,
                "Containers": containers,
                "Volumes": volumes,
                "BuildCache": [],
            }
        )


def layer_bytes(unionfs, layer: str) -> int:
    """The bytes of the files a layer holds (a container's read-write layer)."""
    try:
        return sum(entry.contents.size for entry in unionfs.changes(layer))  # sizes: nothing read
    except (OSError, KeyError, LookupError):
        return 0


EVENT_FILTERS = ("type", "event", "container", "image")


def _timestamp(value: str | None, name: str) -> float | None:
    """``since``/``until``: Unix seconds, possibly with a fraction."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise BadParameter(f"invalid value for {name}: {value!r} is not a Unix timestamp") from None
    if not 0 <= seconds < 1e11:  # NaN fails this too
        raise BadParameter(f"invalid value for {name}: {value!r} is out of range")
    return seconds


def _event_matches(event, wanted: dict[str, set[str]]) -> bool:
    if "type" in wanted and event.type not in wanted["type"]:
        return False
    if "event" in wanted and event.action not in wanted["event"]:
        return False
    for key in ("container", "image"):
        if key in wanted:
            if event.type != key:
                return False
            names = {event.id, event.attributes.get("name", "")}
            if not any(n and (n in names or event.id.startswith(n)) for n in wanted[key]):
                return False
    return True


def host_memory_total() -> int:
    """The host's memory in bytes (0 if unknown): `info`'s MemTotal, and the limit
    `stats` shows for a container without one, as dockerd does."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rootless_network(kernel) -> list[list[str]]:
    """DriverStatus's ``Network`` row for a kernel without bridges (rootless):
    what the default network is there."""
    if kernel.user_network is not None:
        return [["Network", kernel.user_network.describe()]]
    if kernel.port_relay is not None:
        return [
            [
                "Network",
                f"loopback only: {kernel.no_user_network_why or 'no user-mode network'}; "
                "published ports are relayed by the daemon",
            ]
        ]
    return []
