"""A registry to push to and pull from, inside the notebook, and what travelled.

The seed: “上传和下载镜像是会同时上传/下载子镜像和父镜像，之后只传输内容有变化的镜像。”
The first push of an image sends every layer; later pushes send only the
layers the registry lacks.  To *show* that rather than claim it, the stepbox
registry keeps a log of every request it served, with the bytes it
received and sent -- the tables and plots here are read off that log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stepbox.core.image.store import Image, ImageStore
from stepbox.core.registry.client import RegistryClient
from stepbox.core.registry.layer_metadata import compress_layer
from stepbox.core.registry.server import RegistryServer, make_server, serve_in_thread

from .tables import html_table, no_math, size


@dataclass
class LocalRegistry:
    server: RegistryServer

    @property
    def netloc(self) -> str:
        """``127.0.0.1:PORT``: the registry part of an image name (plain http, as for
        any loopback registry)."""
        return self.server.netloc

    @property
    def log(self):
        return self.server.app.log

    def mark(self) -> int:
        return len(self.server.app.log)

    def since(self, mark: int):
        return list(self.server.app.log[mark:])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_registry(directory: str) -> LocalRegistry:
    """A stepbox registry on a free loopback port, storing into ``directory``."""
    server = make_server("127.0.0.1:0", directory)
    serve_in_thread(server)
    return LocalRegistry(server)


def client(store: ImageStore) -> RegistryClient:
    """The push/pull client ``stepbox push`` uses, without progress bars."""
    return RegistryClient(store, progress=False)


def compressed_digest(store: ImageStore, blob: str) -> str:
    """A local layer's digest as the registry knows it: of the gzipped tar
    (deterministic gzip, so the same layer always has the same digest)."""
    return "sha256:" + hashlib.sha256(compress_layer(store.get_blob(blob))).hexdigest()


def sent_kinds(store: ImageStore, image: Image, moved: list[str]) -> dict[str, str]:
    """Colour an image's layers for a layer-stack picture: ``sent`` for those
    that travelled (their compressed digest is in ``moved``), ``kept`` for
    those that were already at the other end."""
    travelled = set(moved)
    return {blob: "sent" if compressed_digest(store, blob) in travelled else "kept" for blob in image.layers}


def requests_table(entries) -> str:
    """The registry's log entries: method, path, status, bytes each way."""
    rows = []
    for entry in entries:
        path = entry.path
        for marker in ("sha256:", "sha256%3A"):
            if marker in path:
                head, _, digest = path.partition(marker)
                path = head + marker + digest[:12] + "…" + digest[64:]
        rows.append((entry.method, path, entry.status, size(entry.bytes_received), size(entry.bytes_sent)))
    return html_table(rows, ("method", "path", "status", "received", "sent"), code_columns=(1,))


def bytes_received(entries) -> int:
    return sum(entry.bytes_received for entry in entries)


def bytes_sent(entries) -> int:
    return sum(entry.bytes_sent for entry in entries)


@dataclass
class Transfer:
    """One push or pull, as the registry's log saw it."""

    label: str
    pushed: bool
    moved: list[str]  # digests that travelled (compressed layers, configs)
    nbytes: int  # bytes that travelled, counted by the registry
    entries: list  # the registry's log entries for it
    html: str  # the picture: requests and the layer stack

    def _repr_html_(self) -> str:
        return no_math(self.html)


def transfer(registry: LocalRegistry, label: str, run, store: ImageStore, name: str) -> Transfer:
    """Run a push or pull (``run()`` returns its PushResult / PullResult) and
    show what travelled: the registry's requests, and ``name``'s layer stack
    with the layers that moved in red and those that stayed in green."""
    from .diagrams import layer_stack_svg
    from .tables import side_by_side
    from .views import image_layer_boxes

    mark = registry.mark()
    result = run()
    entries = registry.since(mark)
    pushed = hasattr(result, "uploaded")
    moved = list(result.uploaded if pushed else result.downloaded)
    nbytes = bytes_received(entries) if pushed else bytes_sent(entries)
    image = store.resolve(name)
    kinds = sent_kinds(store, image, moved)
    travelled = sum(1 for kind in kinds.values() if kind == "sent")
    html = (
        f"<p><b>{travelled} of {len(kinds)} layers travelled; {nbytes:,} bytes "
        f"{'uploaded' if pushed else 'downloaded'}</b></p>"
        + side_by_side(
            requests_table(entries),
            layer_stack_svg(image_layer_boxes(store, image, kinds), name.split("/")[-1]),
        )
    )
    return Transfer(label, pushed, moved, nbytes, entries, html)


__all__ = [
    "LocalRegistry",
    "Transfer",
    "transfer",
    "bytes_received",
    "bytes_sent",
    "client",
    "compressed_digest",
    "requests_table",
    "sent_kinds",
    "start_registry",
]
