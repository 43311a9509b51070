"""create: the container's own layers on top of the image's (``docker create``)."""

from __future__ import annotations

from stepbox.core.kernel.unionfs import EntryKind, NewName

from .. import mounting
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
        if not ctx.images.has_id(found.id):
            ctx.images.resolve(found.id)  # an rmi that came first: "No such image"
        image = found  # the same content: an image ID is its config's digest
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


# What Docker's init layer holds (moby daemon/initlayer): the mount points
# of what is mounted at start, and empty placeholders for the files that are
# bind-mounted from the container's own directory (etc_files.py) -- so that
# writing /etc/hosts in the container never shows in `diff` or `commit`.
INIT_LAYER_DIRS = ("/dev", "/dev/pts", "/dev/shm", "/etc", "/proc", "/sys")
INIT_LAYER_FILES = ("/.dockerenv", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/dev/console")
# ... made in this order: the directories, the files (0755 whatever the
# umask, as Docker's are), then /etc/mtab.
INIT_LAYER_NAMES = (
    *(NewName(directory, EntryKind.DIR, 0o755) for directory in INIT_LAYER_DIRS),
    *(NewName(path, EntryKind.FILE, 0o755) for path in INIT_LAYER_FILES),
    NewName("/etc/mtab", EntryKind.SYMLINK, target="/proc/mounts"),
)


def prepare_init_layer(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unionfs.create_layer(record.init_layer)
    ctx.on_undo("remove init layer", lambda: unionfs.remove_layer(record.init_layer))
    unionfs.layer_files(record.init_layer).make_names(INIT_LAYER_NAMES)


def prepare_rw_layer(ctx: LifecycleContext) -> None:
    record, unionfs = ctx.record, ctx.kernel.unionfs
    unionfs.create_layer(record.rw_layer)
    ctx.on_undo("remove read-write layer", lambda: unionfs.remove_layer(record.rw_layer))


def create_volumes(ctx: LifecycleContext) -> None:
    assert ctx.volumes is not None, "the runtime gives every context its volume store"
    mounting.create_volumes(ctx, ctx.volumes)


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
            "Docker puts a thin layer on top of the image with what every container needs to "
            "find in place: the mount points /proc, /sys, /dev and empty placeholders for "
            "/etc/hostname, /etc/hosts and /etc/resolv.conf -- the real files live in the "
            "container's own directory and are bind-mounted over them at start. The seed calls "
            "it the init layer.",
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
        Step(
            "volumes",
            "Create the volumes",
            "The seed's Dockerfile ends with VOLUME /data: data that must outlive the container. "
            "The read-write layer dies with the container, so /data is not kept there: it becomes "
            "a volume, a directory of the host outside every layer (volumes/NAME/_data), which a "
            "bind mount will show at /data. A new volume is filled with what the image has at "
            "that path. -v NAME:/path uses (or makes) a named volume; -v /path and VOLUME make "
            "anonymous ones.",
            "Docker容器 / VOLUME",
            create_volumes,
        ),
    ),
)
