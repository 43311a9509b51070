"""Write the init layer of a container."""

from __future__ import annotations

import posixpath

from stepbox.core.kernel.unionfs import EntryKind

from .walk import Wrong, answer, call, discard, walk

NAME = "init-layer"
TITLE = {"en": "Write the init layer", "zh": "写出 init 层"}
STATEMENT = {
    "en": "Between the image's layers and the read-write layer, `docker create` puts the "
    "init layer: the mount points of what the start mounts (/proc, /sys, /dev ...) and empty "
    "placeholders for the files bind-mounted over them at start -- /etc/hostname, /etc/hosts "
    "and /etc/resolv.conf live in the container's own directory, so writing them never shows "
    "in `docker diff`. Write init_layer(hostname): every path it holds, {path: contents}, "
    "None for a directory, '-> TARGET' for a symlink. Give the exact contents of "
    "/etc/hostname; for another file, ... (Ellipsis) means 'some contents'. The checker "
    "runs the create phase and lists the layer it made.",
    "zh": "`docker create` 在镜像的层和读写层之间放了 init 层：启动时要挂载的东西的挂载点（/proc、"
    "/sys、/dev ……），以及启动时被 bind mount 覆盖的文件的空占位文件——/etc/hostname、/etc/hosts 和 "
    "/etc/resolv.conf 真正放在容器自己的目录里，所以写它们永远不会出现在 `docker diff` 里。写出 "
    "init_layer(hostname)：它包含的每一个路径，{路径: 内容}，目录写 None，符号链接写 '-> 目标'。"
    "/etc/hostname 要写出确切的内容；别的文件可以写 ...（Ellipsis），表示“有内容”。检查程序运行 "
    "create 阶段，列出它做出的这一层。",
}
HOSTNAME = "web1"


def listing(files, directory: str = "/") -> dict[str, object]:
    """Every path of a layer: {path: contents, None for a directory}."""
    found: dict[str, object] = {}
    for name in sorted(files.listdir(directory)):
        path = posixpath.join(directory, name)
        kind = files.lstat(path).kind
        if kind == EntryKind.DIR:
            found[path] = None
            found.update(listing(files, path))
        elif kind == EntryKind.SYMLINK:
            found[path] = f"-> {files.readlink(path)}"  # (/etc/mtab -> /proc/mounts)
        else:
            found[path] = files.read(path).decode()
    return found


def check(module, lab) -> None:
    init_layer = answer(module, "init_layer")
    done = walk(lab, lab.config("true", hostname=HOSTNAME), verb="create")
    try:
        real = listing(lab.kernel.unionfs.layer_files(done.record.init_layer))
    finally:
        discard(lab, done)
    got = call(init_layer, HOSTNAME)
    if not isinstance(got, dict):
        raise Wrong(
            f"init_layer must return a dict, not {type(got).__name__}",
            zh=f"init_layer 必须返回一个 dict，而不是 {type(got).__name__}",
        )
    for path in sorted(set(real) - set(got)):
        directory = real[path] is None
        raise Wrong(
            f"the init layer also holds {path}" + (" (a directory)" if directory else ""),
            zh=f"初始层里还有 {path}" + ("（一个目录）" if directory else ""),
        )
    for path in sorted(set(got) - set(real)):
        raise Wrong(f"the init layer holds no {path}", zh=f"初始层里没有 {path}")
    for path, contents in real.items():
        yours = got[path]
        if (contents is None) != (yours is None):
            raise Wrong(
                f"{path} is a {'directory' if contents is None else 'file'}",
                zh=f"{path} 是一个{'目录' if contents is None else '文件'}",
            )
        must_match = path == "/etc/hostname" or yours is not Ellipsis
        if contents is not None and must_match and yours != contents:
            raise Wrong(
                f"{path} holds {contents!r}, you wrote {yours!r}",
                zh=f"{path} 的内容是 {contents!r}，你写的是 {yours!r}",
            )
