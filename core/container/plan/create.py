"""create: the container's own layers on top of the image's (``docker create``)."""

from __future__ import annotations

from ..context import LifecycleContext
from ..steps import Phase, Step


def layer_id(diff_id: str) -> str:
    """Layers are kept under the hex of their diff ID (the uncompressed digest)."""
    return diff_id.removeprefix("sha256:")


def resolve_image(ctx: LifecycleContext) -> None:
    # The record is the first thing the plan makes; a create that fails
    # leaves no container behind.
    ctx.on_undo("forget the container's record", ctx.forget)
    found = ctx.images.resolve(ctx.record.config.image)
    # In use until the record names it (saved below): an rmi meanwhile
    # waits, then counts this container among the image's users.
    with ctx.locks.images.shared(found.id):
        image = ctx.images.resolve(found.id)  # an rmi that came first: "No such image"
        ctx.record.image_id = image.id
        ctx.record.image_config = image.config.get("config", {})
        lowers = []
        for blob, diff_id in zip(image.layers, image.diff_ids, strict=True):
            lid = layer_id(diff_id)
            with ctx.locks.layers.exclusive(lid):  # unpacked once, shared afterwards
                if not ctx.kernel.unionfs.has_layer(lid):
                    ctx.kernel.unionfs.import_layer(lid, ctx.images.layer_entries(blob))
            lowers.append(lid)
        ctx.record.lowers = list(reversed(lowers))  # overlayfs wants the top-most first
        ctx.save()


HOSTS = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def prepare_init_layer(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unionfs.create_layer(record.init_layer)
    ctx.on_undo("remove init layer", lambda: unionfs.remove_layer(record.init_layer))
    files = unionfs.layer_files(record.init_layer)
    for directory in ("/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc", "/proc", "/sys"):
        files.mkdir(directory, 0o755)
    files.write("/etc/hostname", f"{record.hostname}\n".encode())
    files.write("/etc/hosts", HOSTS.encode())
    files.write("/etc/resolv.conf", b"# stepbox: containers have no network beyond lo\n")
    files.write("/.dockerenv", b"")


def prepare_rw_layer(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unionfs.create_layer(record.rw_layer)
    ctx.on_undo("remove read-write layer", lambda: unionfs.remove_layer(record.rw_layer))


CREATE: Phase[LifecycleContext] = Phase(
    "create",
    (
        Step(
            "resolve_image",
            "Resolve the image to its layers",
            "An image is a stack of read-only layers, each holding only what changed against "
            "its parent. Find the image's layers and make sure each one is unpacked -- once; every "
            "container of this image shares them.",
            "Docker镜像和容器 / Docker“层”",
            resolve_image,
        ),
        Step(
            "init_layer",
            "Prepare the init layer",
            "Docker puts a thin layer on top of the image with what belongs to this container "
            "only: its hostname, /etc/hosts, /etc/resolv.conf and the empty mount points. "
            "The seed calls it the init layer.",
            "init layer",
            prepare_init_layer,
        ),
        Step(
            "rw_layer",
            "Prepare the read-write layer",
            "An empty layer on top of everything: the only place the container's processes can "
            "write. Whatever they change lands here, and `commit` turns it into an image layer.",
            "read-write layer",
            prepare_rw_layer,
        ),
    ),
)
