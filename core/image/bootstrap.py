"""The ``busybox`` base image, made on the spot when there is no registry.

The seed calls a base image "仅Linux发行版userland中安装的文件" -- only the files
of a distribution's userland.  busybox is the smallest userland there is: one
static binary that is ``sh``, ``ls``, ``ps`` … depending on the name it is
called by, plus a few files in /etc.  stepbox builds the same layout as
Docker Hub's ``busybox`` image from the binary the kernel backend offers: the
host's static busybox (real kernel, and the simulator when the host has one)
or the simulator's stand-in.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

from stepbox.core.kernel import EntryKind, Kernel, LayerEntry

from .layer_tar import write_layer
from .store import Image, ImageNotFound, ImageStore

BUSYBOX_REF = "busybox:latest"
# A fixed date keeps the bootstrapped image's ID the same on every machine
# with the same binary, so both backends and every test see one image.
BOOTSTRAP_CREATED = "2024-01-01T00:00:00Z"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:mail
www-data:x:33:www-data
operator:x:37:
users:x:100:
nogroup:x:65534:
"""


class NoBaseImage(LookupError):
    pass


def busybox_entries(binary: bytes, applets: list[str]) -> list[LayerEntry]:
    def d(path: str, mode: int = 0o755) -> LayerEntry:
        return LayerEntry(path, EntryKind.DIR, mode=mode)

    entries = [
        d("bin"),
        d("dev"),
        d("etc"),
        d("home"),
        d("root", 0o700),
        d("tmp", 0o1777),
        d("usr"),
        d("usr/sbin"),
        d("var"),
        d("var/spool"),
        d("var/spool/mail"),
        d("var/www"),
        LayerEntry("bin/busybox", EntryKind.FILE, mode=0o755, data=binary),
        LayerEntry("etc/passwd", EntryKind.FILE, data=PASSWD.encode()),
        LayerEntry("etc/group", EntryKind.FILE, data=GROUP.encode()),
    ]
    # Every applet is a hardlink to the one binary, as in Docker Hub's image.
    entries += [
        LayerEntry(f"bin/{name}", EntryKind.HARDLINK, mode=0o755, link="bin/busybox")
        for name in sorted(set(applets))
        if name and "/" not in name and name != "busybox"
    ]
    return entries


def ensure_busybox(store: ImageStore, kernel: Kernel, say: Callable[[str], None] = lambda msg: None) -> Image:
    """The ``busybox`` image, bootstrapped from ``kernel.busybox()`` if absent."""
    try:
        return store.resolve(BUSYBOX_REF)
    except ImageNotFound:
        pass
    with _BOOTSTRAPPING:  # two `docker run busybox` at once build it once
        try:
            return store.resolve(BUSYBOX_REF)
        except ImageNotFound:
            return _bootstrap_busybox(store, kernel, say)


_BOOTSTRAPPING = threading.Lock()


def _bootstrap_busybox(store: ImageStore, kernel: Kernel, say: Callable[[str], None]) -> Image:
    found = kernel.busybox()
    if found is None:
        raise NoBaseImage(
            "No such image: busybox, and this host has no static busybox binary to build it from. "
            "Install one (Debian/Ubuntu: apt-get install busybox-static) or load an image "
            "with `stepbox load`."
        )
    binary, applets = found
    source = (
        "the host's busybox binary" if binary.startswith(b"\x7fELF") else "the simulator's stand-in busybox"
    )
    buf = io.BytesIO()
    write_layer(busybox_entries(binary, applets), buf)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": BOOTSTRAP_CREATED,
        "config": {
            "Env": [f"PATH={DEFAULT_PATH}"],
            "Cmd": ["sh"],
            "Labels": {"org.stepbox.bootstrap": source},
        },
        "history": [{"created": BOOTSTRAP_CREATED, "created_by": f"stepbox bootstrap from {source}"}],
    }
    image = store.add_image([buf.getvalue()], config, tag=BUSYBOX_REF)
    say(f"Built the busybox image from {source} ({image.short_id}).")
    return image
