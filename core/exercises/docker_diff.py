"""Predict `docker diff`."""

from __future__ import annotations

from .walk import Wrong, answer, discard, walk

NAME = "docker-diff"
TITLE = {"en": "Predict docker diff", "zh": "预测 docker diff"}
STATEMENT = {
    "en": "A container writes only to its read-write layer; `docker diff` lists that layer "
    "against the image: A (added), C (changed: also every directory whose entries "
    "changed), D (deleted). Predict, as a set of lines like 'A /data', what `docker diff` "
    "shows after the container of COMMAND has run. The checker runs it.",
    "zh": "容器只写它的读写层；`docker diff` 把这一层与镜像相比较：A（新增）、C（修改：条目有变化的"
    "目录也算）、D（删除）。预测 COMMAND 的容器运行之后 `docker diff` 显示的内容，写成像 'A /data' "
    "这样的行的集合。检查程序会运行它。",
}
COMMAND = "mkdir /data && echo hi > /data/note && echo guest:x:405:100::/home/guest:/bin/sh >> /etc/passwd && rm /etc/group && touch /tmp/t"


def check(module, lab) -> None:
    prediction = {" ".join(line.split()) for line in answer(module, "PREDICTION")}
    done = walk(lab, lab.config("sh", "-c", COMMAND))
    try:
        if done.error is not None or lab.runtime.refresh(done.record).exit_code != 0:
            output = lab.output(done.record)
            raise Wrong(
                f"the container of {COMMAND!r} failed: {output}", zh=f"{COMMAND!r} 的容器失败了：{output}"
            )
        real = {f"{kind} {path}" for kind, path in lab.runtime.diff(done.record)}
    finally:
        discard(lab, done)
    for line in sorted(real - prediction):
        raise Wrong(f"docker diff also shows {line!r}", zh=f"docker diff 还显示了 {line!r}")
    for line in sorted(prediction - real):
        raise Wrong(f"docker diff does not show {line!r}", zh=f"docker diff 没有显示 {line!r}")
