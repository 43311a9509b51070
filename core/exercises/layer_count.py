"""Count the layers a Dockerfile adds."""

from __future__ import annotations

from .building import Context
from .walk import Wrong, answer

NAME = "layer-count"
TITLE = {"en": "Count the layers of a build", "zh": "数一数构建出的层"}
STATEMENT = {
    "en": "Only instructions that change files make a layer; ENV, CMD, LABEL and the like "
    "change only the image's config (history shows them as empty layers). Set NEW_LAYERS "
    "to how many layers the image built from DOCKERFILE has more than busybox. The "
    "checker builds it with stepbox's builder and counts.",
    "zh": "只有改变文件的指令才会产生一层；ENV、CMD、LABEL 之类只改变镜像的配置（history 里显示为"
    "空层）。把 NEW_LAYERS 设为由 DOCKERFILE 构建出的镜像比 busybox 多出的层数。检查程序用 "
    "stepbox 的构建器构建并计数。",
}
DOCKERFILE = """\
FROM busybox
ENV GREETING=hello
LABEL course=stepbox
RUN echo $GREETING > /greeting.txt
COPY notes.txt /srv/
WORKDIR /srv
RUN rm /greeting.txt
EXPOSE 8080
CMD ["cat", "/srv/notes.txt"]
"""


def check(module, lab) -> None:
    predicted = answer(module, "NEW_LAYERS")
    context = Context(lab, {"notes.txt": "layers\n", "Dockerfile": DOCKERFILE})
    try:
        result, _lines = context.build()
    finally:
        context.close()
    new = len(lab.images.resolve(result.image_id).layers) - len(lab.images.resolve("busybox").layers)
    if predicted != new:
        raise Wrong(
            f"the build added {new} layers, not {predicted!r} (`stepbox history` shows which)",
            zh=f"构建加了 {new} 层，不是 {predicted!r}（`stepbox history` 显示是哪几层）",
        )
