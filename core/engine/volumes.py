"""``/volumes/...``: ``docker volume create|ls|inspect|rm|prune`` on the wire.

::

    POST   /v1.44/volumes/create   {"Name": "data", "Labels": {...}, "DriverOpts": {...}}  -> 201 Volume
    GET    /v1.44/volumes?filters={"dangling":["true"]}                               -> {"Volumes": [...]}
    GET    /v1.44/volumes/data                                                          -> Volume
    DELETE /v1.44/volumes/data?force=0           -> 204, or 409 "volume is in use - [container id]"
    POST   /v1.44/volumes/prune?filters={"all":["true"]} -> {"VolumesDeleted": [...], "SpaceReclaimed": n}

A volume is "in use" while any container -- running or stopped -- has it
among its mounts: that container could start again and expect its data.
"""

from __future__ import annotations

from stepbox.core.http_server.messages import Request, Response
from stepbox.core.volumes import filters
from stepbox.core.volumes.errors import NoSuchVolume
from stepbox.core.volumes.store import LOCAL, Volume

from .engine import Engine
from .errors import BadParameter
from .routes import Router


def volume_view(volume: Volume) -> dict:
    """A Volume as the API shows it (``docker volume inspect``).  Without
    labels or options dockerd sends ``null`` for them (Go's nil map), though
    the published spec calls them non-nullable objects: stepbox sends what
    clients get from dockerd."""
    return {
        "CreatedAt": volume.created_at,
        "Driver": volume.driver,
        "Labels": dict(volume.labels) or None,
        "Mountpoint": volume.mountpoint,
        "Name": volume.name,
        "Options": dict(volume.options) or None,
        "Scope": "local",
    }


class VolumeEndpoints:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        add = router.add
        add("GET", "/volumes", self.list)
        add("POST", "/volumes/create", self.create)
        add("POST", "/volumes/prune", self.prune)
        add("GET", "/volumes/{name}", self.inspect)
        add("PUT", "/volumes/{name}", self.update)
        add("DELETE", "/volumes/{name}", self.remove)

    @property
    def runtime(self):
        return self.engine.runtime

    def list(self, req: Request) -> Response:
        wanted = filters.parse_filters(req.arg("filters"))
        keep = filters.list_predicate(wanted)
        with self.runtime.locks.volumes:
            volumes = self.runtime.volumes.list()
            in_use = _names_in_use(self.runtime)
        rows = [
            volume_view(v)
            for v in volumes
            if keep(filters.VolumeFacts(v.name, v.driver, v.labels, v.name in in_use))
        ]
        return Response.json({"Volumes": rows, "Warnings": []})

    def create(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object (Docker's VolumeCreateOptions)")
        name = _string(body, "Name")
        driver = _string(body, "Driver") or LOCAL
        options = _strings(body, "DriverOpts")
        labels = _strings(body, "Labels")
        if body.get("ClusterVolumeSpec"):
            raise BadParameter("ClusterVolumeSpec is not supported by stepbox (no swarm)")
        with self.runtime.locks.volumes:
            volume, created = self.runtime.volumes.create(
                name or None, driver=driver, options=options, labels=labels
            )
        if created:
            self.engine.events.publish("volume", "create", volume.name, {"driver": volume.driver})
        return Response.json(volume_view(volume), 201)

    def inspect(self, req: Request) -> Response:
        with self.runtime.locks.volumes:
            volume = self.runtime.volumes.get(req.params["name"])
        return Response.json(volume_view(volume))

    def update(self, req: Request) -> Response:
        raise BadParameter("volume update is only for cluster volumes, and stepbox has no swarm")

    def remove(self, req: Request) -> Response:
        name = req.params["name"]
        with self.runtime.locks.volumes:
            existed = self.runtime.volumes.exists(name)
            self.runtime.remove_volume(name, force=req.flag("force"))
        if existed:
            self.engine.events.publish("volume", "destroy", name, {"driver": LOCAL})
        return Response.empty(204)

    def prune(self, req: Request) -> Response:
        """Unused local volumes without driver options (their data is a
        mount, nothing to reclaim): since API 1.42 only anonymous ones,
        unless ``all=true``; before, all of them."""
        wanted = filters.parse_filters(req.arg("filters"))
        filters.check_keys(wanted, filters.PRUNE_FILTERS)
        everything = filters.boolean(wanted, "all") if "all" in wanted else _older(req.api_version, "1.42")
        deleted, reclaimed = [], 0
        with self.runtime.locks.volumes:
            in_use = _names_in_use(self.runtime)
            for volume in self.runtime.volumes.list():
                if volume.name in in_use or volume.driver != LOCAL or volume.options:
                    continue
                if not everything and not volume.anonymous:
                    continue
                if "label" in wanted and not filters.labels_match(wanted["label"], volume.labels):
                    continue
                if "label!" in wanted and any(
                    filters.labels_match([w], volume.labels) for w in wanted["label!"]
                ):
                    continue
                size = self.runtime.volumes.size(volume)
                try:
                    self.runtime.volumes.remove(volume)
                except NoSuchVolume:
                    continue
                deleted.append(volume.name)
                reclaimed += max(size, 0)
        for name in deleted:
            self.engine.events.publish("volume", "destroy", name, {"driver": LOCAL})
        self.engine.events.publish("volume", "prune", "", {"reclaimed": str(reclaimed)})
        return Response.json({"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed})


def volume_usage(runtime) -> list[dict]:
    """``GET /system/df``'s Volumes: each local volume without driver
    options (their data is a mount: moby's LocalVolumesSize skips them)
    with its size on disk and how many containers use it."""
    users: dict[str, int] = {}
    for record in runtime.containers.all():
        for m in record.mounts:
            if m.get("type") == "volume" and m.get("name"):
                users[m["name"]] = users.get(m["name"], 0) + 1
    return [
        {**volume_view(v), "UsageData": {"Size": runtime.volumes.size(v), "RefCount": users.get(v.name, 0)}}
        for v in runtime.volumes.list()
        if v.driver == LOCAL and not v.options
    ]


def _names_in_use(runtime) -> set[str]:
    return {
        m["name"]
        for record in runtime.containers.all()
        for m in record.mounts
        if m.get("type") == "volume" and m.get("name")
    }


def _string(body: dict, key: str) -> str:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadParameter(f"invalid value for {key}: expected a string")
    return value or ""


def _strings(body: dict, key: str) -> dict[str, str]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadParameter(f"invalid value for {key}: expected an object of strings")
    return dict(value)


def _older(version: str, than: str) -> bool:
    try:
        return tuple(int(p) for p in (version or "1.44").split(".")) < tuple(int(p) for p in than.split("."))
    except ValueError:
        return False


__all__ = ["VolumeEndpoints", "volume_view"]
