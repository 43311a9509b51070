"""``/images/...``, ``/commit`` and ``/build``: the image endpoints.

The seed's image story on the wire: ``docker commit`` turns a container's
read-write layer into a new image layer (``POST /commit``), ``docker save``
and ``load`` move images as tar files (``GET /images/get``, ``POST
/images/load``), and an image name is also a path segment -- with its
slashes and colons (``/images/localhost:5000/app:1.0/json``).
"""

from __future__ import annotations

import builtins
import json
import tempfile
import time

from stepbox.core.container.errors import Conflict
from stepbox.core.http_server.messages import Request, Response, StreamResponse, written_by
from stepbox.core.image import archive
from stepbox.core.image.bootstrap import BUSYBOX_REF, ensure_busybox
from stepbox.core.image.lineage import intermediate_ids, parents
from stepbox.core.image.reference import parse_reference
from stepbox.core.image.store import ImageNotFound

from .build import BuildEndpoint
from .build_prune import prune_build_cache
from .engine import Engine
from .errors import BadParameter, Unsupported
from .filters import bool_filter, labels_match, parse_filters, time_filter
from .routes import Router
from .transfers import stream_transfer
from .views import image_history, image_inspect, image_summary, unix_time

TAR = "application/x-tar"


def json_lines(*messages: dict) -> bytes:
    """Docker's progress stream: one JSON object per line."""
    return b"".join(json.dumps(m).encode() + b"\r\n" for m in messages)


class ImageEndpoints:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        add = router.add
        add("GET", "/images/json", self.list)
        add("POST", "/images/create", self.create)
        add("GET", "/images/get", self.save_many)
        add("POST", "/images/load", self.load)
        add("POST", "/images/prune", self.prune)
        add("GET", "/images/search", self.not_available("searching a registry"))
        add("POST", "/commit", self.commit)
        build = BuildEndpoint(self.engine)
        add("POST", "/build", build)
        add("POST", "/build/prune", lambda req: prune_build_cache(self.engine, build.cache, req))
        add("GET", "/images/{name*}/json", self.inspect)
        add("GET", "/images/{name*}/history", self.history)
        add("GET", "/images/{name*}/get", self.save_one)
        add("POST", "/images/{name*}/tag", self.tag)
        add("POST", "/images/{name*}/push", self.push)
        add("DELETE", "/images/{name*}", self.remove)

    @property
    def store(self):
        return self.engine.images

    # -- reading ---------------------------------------------------------------------
    def list(self, req: Request) -> Response:
        users: dict[str, int] = {}
        for record in self.engine.runtime.containers.all():
            users[record.image_id] = users.get(record.image_id, 0) + 1
        images = self.store.list()
        parent_of = parents(images)
        if not req.flag("all"):  # docker hides the steps of builds (untagged parents)
            hidden = intermediate_ids(images, parent_of)
            images = [i for i in images if i.id not in hidden]
        rows = [
            image_summary(self.store, image, users.get(image.id, 0), parent_of.get(image.id, ""))
            for image in images
        ]
        filters = parse_filters(req.arg("filters"), IMAGE_FILTERS)
        old_filter = req.arg("filter")  # the API before 1.41: ?filter=<reference>
        wanted = filters.get("reference", []) + ([old_filter] if old_filter else [])
        if wanted:
            rows = [r for r in rows if any(_tag_matches(t, w) for t in r["RepoTags"] for w in wanted)]
        if "dangling" in filters:
            dangling = bool_filter(filters["dangling"], "dangling")
            rows = [r for r in rows if (not r["RepoTags"]) == dangling]
        rows.sort(key=lambda r: r["Created"], reverse=True)
        return Response.json(rows)

    def inspect(self, req: Request) -> Response:
        image = self.store.resolve(req.params["name"])
        return Response.json(image_inspect(self.store, image))

    def history(self, req: Request) -> Response:
        image = self.store.resolve(req.params["name"])
        return Response.json(image_history(self.store, image))

    # -- names -----------------------------------------------------------------------
    def tag(self, req: Request) -> Response:
        repo = req.arg("repo")
        if not repo:
            raise BadParameter("repository name must have at least one component")
        target = f"{repo}:{req.arg('tag')}" if req.arg("tag") else repo
        parse_reference(target)
        image = self.store.resolve(req.params["name"])
        self.store.tag(image, target)  # the index's own lock orders the writes
        self.engine.events.publish("image", "tag", image.id, {"name": target})
        return Response.empty(201)

    def remove(self, req: Request) -> Response:
        lines = self.engine.runtime.remove_image(req.params["name"], force=req.flag("force"))
        items = []
        for line in lines:
            kind, _, value = line.partition(": ")
            items.append({kind: value})
        self.engine.events.publish("image", "delete", req.params["name"], {})
        return Response.json(items)

    def prune(self, req: Request) -> Response:
        """``docker image prune``: images no container uses -- only dangling
        ones (untagged, and no other image's parent) unless ``dangling=false``
        (``-a``) -- narrowed by ``until`` and ``label``/``label!``, as with
        dockerd; a build's untagged steps go once the image made from them
        has gone.  Then the blobs and layers nothing uses any more; the space
        reclaimed is the bytes of the blobs that went (dockerd counts its
        layers' sizes the same way: what the deletion gave back)."""
        filters = parse_filters(req.arg("filters"), ("dangling", "until", "label", "label!"))
        dangling_only = bool_filter(filters.get("dangling", ["true"]), "dangling")
        now = time.time()
        until = [time_filter(v, "until", now) for v in filters.get("until", [])]
        items: builtins.list[dict[str, str]] = []
        tried: set[str] = set()
        blobs_before = self.store.blob_sizes()
        while True:  # again after each pass: a removed image's parent may be dangling now
            images = self.store.list()
            parent_ids = set(parents(images).values())
            used = {record.image_id for record in self.engine.runtime.containers.all()}
            chosen = [
                image
                for image in images
                if image.id not in used
                and image.id not in tried
                and (not dangling_only or (not image.tags and image.id not in parent_ids))
                and all(unix_time(image.config.get("created", "")) < limit for limit in until)
                and labels_match(
                    (image.config.get("config") or {}).get("Labels") or {},
                    filters.get("label", []),
                    filters.get("label!", []),
                )
            ]
            if not chosen:
                break
            for image in chosen:
                tried.add(image.id)
                try:
                    lines = self.engine.runtime.remove_image(image.id)
                except (ImageNotFound, Conflict):
                    continue  # removed, or given a container, meanwhile
                items += [{kind: value} for kind, _, value in (line.partition(": ") for line in lines)]
                self.engine.events.publish("image", "delete", image.id, {})
        items += [{"Deleted": d} for d in self.engine.runtime.collect_garbage()]
        blobs_after = self.store.blob_sizes()
        reclaimed = sum(size for digest, size in blobs_before.items() if digest not in blobs_after)
        return Response.json({"ImagesDeleted": items or None, "SpaceReclaimed": reclaimed})

    # -- making images -----------------------------------------------------------------
    def commit(self, req: Request) -> Response:
        container = req.arg("container")
        if not container:
            raise BadParameter("container is required: POST /commit?container=<id or name>")
        repo = req.arg("repo") or ""
        ref = None
        if repo:
            ref = f"{repo}:{req.arg('tag')}" if req.arg("tag") else repo
            parse_reference(ref)
        req.json()  # the optional config body: read, not used
        with self.engine.changing(container) as record:  # frozen and read: no one else changes it
            image = self.engine.runtime.commit(
                record,
                ref,
                message=req.arg("comment") or "",
                author=req.arg("author") or "",
                changes=[c for c in req.args("changes") if c.strip()],
                pause=req.flag("pause", True),
            )
        self.engine.events.publish("container", "commit", record.id, {"imageID": image.id})
        return Response.json({"Id": image.id}, 201)

    def create(self, req: Request):
        """``docker import`` (``fromSrc=-``: the tar is the body) or ``docker
        pull`` (``fromImage``)."""
        if req.arg("fromSrc") is not None:
            return self._import(req)
        name = req.arg("fromImage")
        if not name:
            raise BadParameter("either fromImage or fromSrc is required")
        ref = f"{name}:{req.arg('tag')}" if req.arg("tag") and "@" not in name else name
        return self._pull(req, ref)

    def _import(self, req: Request) -> Response:
        if req.arg("fromSrc") != "-":
            raise Unsupported("importing from a URL is not supported: send the tar as the body (fromSrc=-)")
        repo = req.arg("repo") or ""
        ref = (f"{repo}:{req.arg('tag')}" if req.arg("tag") else repo) or None
        if ref:
            parse_reference(ref)
        image = archive.import_rootfs(  # streamed; no lock (see load)
            self.store,
            req.body,
            ref,
            req.arg("message") or "",
            [c for c in req.args("changes") if c.strip()],
        )
        self.engine.events.publish("image", "import", image.id, {})
        return Response(200, json_lines({"status": image.id}))

    def _pull(self, req: Request, ref: str):
        reference = parse_reference(ref)
        # busybox is built from the host's binary (core/image/bootstrap.py),
        # so `docker run busybox` works offline, as everywhere in stepbox.
        if str(reference) == str(parse_reference(BUSYBOX_REF)):
            try:
                self.store.resolve(BUSYBOX_REF)
                status = "Status: Image is up to date for busybox:latest"
            except ImageNotFound:
                ensure_busybox(self.store, self.engine.kernel)
                status = "Status: Downloaded newer image for busybox:latest (built from the host's busybox)"
            return Response(
                200,
                json_lines({"status": "Pulling from library/busybox", "id": "latest"}, {"status": status}),
            )
        return stream_transfer(
            self.engine,
            req,
            "pull",
            str(reference),
            after=lambda: self.engine.events.publish("image", "pull", reference.familiar_str(), {}),
        )

    def push(self, req: Request):
        name = req.params["name"]
        ref = f"{name}:{req.arg('tag')}" if req.arg("tag") else name
        self.store.resolve(ref)  # 404 before any progress is sent
        return stream_transfer(self.engine, req, "push", ref)

    @staticmethod
    def not_available(what: str):
        def handler(req: Request):
            raise Unsupported(f"{what} is not supported by stepbox")

        return handler

    # -- files -----------------------------------------------------------------------
    def save_many(self, req: Request) -> StreamResponse:
        return self._save(req.args("names"))

    def save_one(self, req: Request) -> StreamResponse:
        return self._save([req.params["name"]])

    def _save(self, names: builtins.list[str]) -> StreamResponse:
        if not names:
            raise BadParameter("no image names given: GET /images/get?names=<name>")
        chosen: dict = {}
        for name in names:
            image = self.store.resolve(name)
            tags = chosen.setdefault(image.id, (image, []))[1]
            if name not in (image.id, image.short_id) and not name.startswith("sha256:"):
                tags.append(name)
        images = list(chosen.values())
        blobs = {d for image, _ in images for d in (image.manifest_digest, image.id, *image.layers)}
        store = self.store

        def write(out) -> None:
            # Streamed as it is made; the blobs stay pinned against a prune
            # for as long as the client takes to read them.
            with store.pinned(blobs):
                archive.save(store, images, out)

        return StreamResponse(written_by(write), content_type=TAR)

    def load(self, req: Request) -> Response:
        # No lock: the archive streams to scratch files for as long as the
        # client takes, the store's own index lock orders the writes, and
        # its pins keep a prune from the blobs meanwhile.
        lines = archive.load(self.store, req.body)
        for line in lines:
            self.engine.events.publish("image", "load", line.rpartition(" ")[2], {})
        return Response(200, json_lines(*({"stream": line + "\n"} for line in lines)))


def spool(body) -> tempfile.SpooledTemporaryFile[bytes]:
    """Copy a request body into a (memory, then disk) file that can seek."""
    spooled = tempfile.SpooledTemporaryFile(max_size=64 << 20)
    while chunk := body.read(1 << 20):
        spooled.write(chunk)
    spooled.seek(0)
    return spooled


IMAGE_FILTERS = ("reference", "dangling")


def _tag_matches(tag: str, wanted: str) -> bool:
    import fnmatch

    repo = tag.rpartition(":")[0]
    return fnmatch.fnmatch(tag, wanted) or fnmatch.fnmatch(repo, wanted)
