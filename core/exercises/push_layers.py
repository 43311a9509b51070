"""Pick the blobs a push must upload."""

from __future__ import annotations

import os
import tempfile

from stepbox.core.notebook.registry import client, compressed_digest, start_registry

from .walk import Wrong, answer, discard, walk

NAME = "push-layers"
TITLE = {"en": "Pick what a push uploads", "zh": "挑出 push 要上传的内容"}
STATEMENT = {
    "en": "The registry already holds learn/app:v1: busybox's layer, v1's layer (it made "
    "/app/data and /app/hello.sh) and v1's config. app:v2 is v1 plus one layer (a new "
    "/app/hello.sh). Set UPLOAD to the blobs `docker push learn/app:v2` sends: a subset "
    'of {"busybox", "data", "hello", "config"}. The checker pushes both to a registry '
    "with stepbox's client and reads what travelled.",
    "zh": "镜像仓库里已经有 learn/app:v1：busybox 的层、v1 的层（它创建了 /app/data 和 "
    "/app/hello.sh）以及 v1 的配置。app:v2 是 v1 再加一层（新的 /app/hello.sh）。把 UPLOAD 设为 "
    '`docker push learn/app:v2` 发送的内容：{"busybox", "data", "hello", "config"} 的子集。'
    "检查程序用 stepbox 的客户端把两个镜像都推送到一个仓库，再读出传输了哪些内容。",
}
KEYS = ("busybox", "data", "hello", "config")


def check(module, lab) -> None:
    upload = set(answer(module, "UPLOAD"))
    if not upload <= set(KEYS):
        keys, others = ", ".join(KEYS), sorted(upload - set(KEYS))
        raise Wrong(
            f"UPLOAD may hold only {keys}; it holds {others}", zh=f"UPLOAD 只能包含 {keys}；它里面有 {others}"
        )
    with tempfile.TemporaryDirectory(prefix="stepbox-exercise-") as directory:
        registry = start_registry(os.path.join(directory, "registry"))
        try:
            v1 = _commit(
                lab,
                f"{registry.netloc}/learn/app:v1",
                "busybox",
                "mkdir /app && echo data > /app/data && echo 'echo v1' > /app/hello.sh",
            )
            v2 = _commit(lab, f"{registry.netloc}/learn/app:v2", v1, "echo 'echo v2' > /app/hello.sh")
            pusher = client(lab.images)
            pusher.push(f"{registry.netloc}/learn/app:v1")
            result = pusher.push(f"{registry.netloc}/learn/app:v2")
        finally:
            registry.close()
    image = lab.images.resolve(v2)
    names = {compressed_digest(lab.images, blob): key for blob, key in zip(image.layers, KEYS, strict=False)}
    names[image.id] = "config"
    sent = {names[digest] for digest in result.uploaded}
    for key in sorted(sent - upload):
        raise Wrong(
            f"the push also sent {key!r}: the registry did not have it",
            zh=f"push 还发送了 {key!r}：镜像仓库里没有它",
        )
    for key in sorted(upload - sent):
        raise Wrong(
            f"the push did not send {key!r}: the registry answered that it has it already",
            zh=f"push 没有发送 {key!r}：镜像仓库回答说它已经有了",
        )


def _commit(lab, name: str, image: str, script: str) -> str:
    """Run ``script`` in a container of ``image`` and commit it as ``name``; its ID."""
    done = walk(lab, lab.config("sh", "-c", script, image=image))
    try:
        return lab.runtime.commit(lab.runtime.refresh(done.record), name).id
    finally:
        discard(lab, done)
