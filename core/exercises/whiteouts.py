"""Resolve a path through a stack of layers with whiteouts."""

from __future__ import annotations

import io
import posixpath
import tarfile
import uuid

from stepbox.core.image.layer_tar import read_layer

from .walk import Wrong, answer, call

NAME = "whiteouts"
TITLE = {"en": "Resolve a path through layers", "zh": "在层之间查找路径"}
STATEMENT = {
    "en": "An image's layers are tars of what changed; a deleted file is a whiteout "
    "'.wh.NAME', and a directory whose lower contents are gone holds '.wh..wh..opq'. "
    "Write lookup(layers, path): the contents of the file a container sees at path, or "
    "None if it sees none. The checker mounts each stack with the kernel's union "
    "filesystem and reads the path.",
    "zh": "镜像的每一层是记录变化的 tar 包；被删除的文件是一个 whiteout 文件 '.wh.文件名'，"
    "下层内容被清空的目录里有 '.wh..wh..opq'。写出 lookup(layers, path)：容器在 path 处看到的"
    "文件内容，看不到文件时返回 None。检查程序用内核的联合文件系统挂载每一组层，再读取这个路径。",
}
# Each case: layers top-most first, {path in the tar: contents, None for a directory}.
CASES = (
    ([{}, {"etc/motd": "base\n"}], ["etc/motd"]),
    ([{"etc/motd": "mine\n"}, {"etc/motd": "base\n"}], ["etc/motd"]),
    ([{"etc/.wh.motd": ""}, {"etc/motd": "base\n", "etc/passwd": "root\n"}], ["etc/motd", "etc/passwd"]),
    (
        [{"app/.wh..wh..opq": "", "app/new": "2\n"}, {"app/old": "1\n", "app/keep": "1\n"}],
        ["app/old", "app/keep", "app/new"],
    ),
    ([{"app/x": "3\n"}, {".wh.app": ""}, {"app/x": "1\n", "app/y": "1\n"}], ["app/x", "app/y"]),
    ([{"tmp/.wh.gone": ""}, {"tmp/gone": "top?\n"}, {"tmp/gone": "1\n"}], ["tmp/gone"]),
)


def layer_tar(files: dict[str, str | None]) -> bytes:
    """A layer tar as an image holds it (parent directories first)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        added: set[str] = set()
        for path in sorted(files):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if parent not in added and files.get(parent, None) is None:
                    tar.addfile(_info(parent, tarfile.DIRTYPE))
                    added.add(parent)
            contents = files[path]
            if contents is None:
                if path not in added:
                    tar.addfile(_info(path, tarfile.DIRTYPE))
                    added.add(path)
            else:
                data = contents.encode()
                tar.addfile(_info(path, tarfile.REGTYPE, len(data)), io.BytesIO(data))
    return out.getvalue()


def _info(name: str, kind: bytes, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, size, 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


def seen(lab, layers: list[dict[str, str | None]], paths: list[str]) -> dict[str, str | None]:
    """Mount the stack with the kernel's union filesystem; what it shows at each path."""
    unionfs = lab.kernel.unionfs
    ids = [uuid.uuid4().hex * 2 for _ in layers]
    upper = uuid.uuid4().hex * 2
    try:
        for lid, files in zip(ids, layers, strict=True):
            unionfs.import_layer(lid, read_layer(io.BytesIO(layer_tar(files))))
        unionfs.create_layer(upper)
        mount = unionfs.mount(ids, upper, f"exercise-{upper[:12]}")
        try:
            merged = unionfs.merged(mount)
            return {p: _read(merged, posixpath.join("/", p)) for p in paths}
        finally:
            unionfs.unmount(mount)
    finally:
        for lid in [*ids, upper]:
            if unionfs.has_layer(lid):
                unionfs.remove_layer(lid)


def _read(files, path: str) -> str | None:
    try:
        return files.read(path).decode()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def check(module, lab) -> None:
    lookup = answer(module, "lookup")
    for layers, paths in CASES:
        real = seen(lab, [dict(layer) for layer in layers], paths)
        for path in paths:
            got = call(lookup, [dict(layer) for layer in layers], path)
            if got != real[path]:
                stack = " over ".join(str(layer) for layer in layers)
                raise Wrong(
                    f"layers {stack}: at /{path} the container sees {real[path]!r}, you said {got!r}",
                    zh=f"层 {stack}：容器在 /{path} 看到的是 {real[path]!r}，你说的是 {got!r}",
                )
