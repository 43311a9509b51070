"""Make a Dockerfile whose slow step survives a source change in the cache."""

from __future__ import annotations

from .building import Context, cached_steps
from .walk import Wrong, answer, discard, walk

NAME = "build-cache"
TITLE = {"en": "A Dockerfile the cache survives", "zh": "让构建缓存经得起源码修改"}
STATEMENT = {
    "en": "Each instruction's cache key depends on the image before it and, for COPY, on "
    "the files copied. The context holds requirements.txt and app.sh; the RUN that "
    "'installs' the requirements is slow. Rewrite DOCKERFILE so that after an edit of "
    "app.sh a rebuild takes that RUN from the cache -- and the image still runs the new "
    "app.sh. The checker builds twice with stepbox's builder.",
    "zh": "每条指令的缓存键取决于它之前的镜像，COPY 还取决于被复制的文件。构建上下文里有 "
    "requirements.txt 和 app.sh；“安装”依赖的 RUN 很慢。改写 DOCKERFILE，使得修改 app.sh 之后"
    "重新构建时这条 RUN 使用缓存——而镜像运行的仍然是新的 app.sh。检查程序用 stepbox 的构建器构建两次。",
}
FILES = {"requirements.txt": "left-pad==1.3\n", "app.sh": "echo version 1\n"}
INSTALL = "/installed.txt"


def check(module, lab) -> None:
    dockerfile = answer(module, "DOCKERFILE")
    context = Context(lab, {**FILES, "Dockerfile": dockerfile})
    try:
        context.build()
        context.write("app.sh", "echo version 2\n")
        result, lines = context.build()
        installs = [i for i in cached_steps(lines) if i.startswith("RUN") and INSTALL in i]
        if not installs:
            raise Wrong(
                f"no RUN writes {INSTALL}: keep the step that installs the requirements",
                zh=f"没有哪条 RUN 写 {INSTALL}：保留安装依赖的那一步",
            )
        for instruction, cached in cached_steps(lines).items():
            if instruction in installs and not cached:
                raise Wrong(
                    f"after app.sh changed, {instruction!r} ran again instead of coming from the cache",
                    zh=f"app.sh 改了之后，{instruction!r} 重新运行了，而不是使用缓存",
                )
        done = walk(lab, lab.config("sh", "-c", f"cat {INSTALL}; sh /app/app.sh", image=result.image_id))
        output = lab.output(done.record)
        discard(lab, done)
        if "left-pad" not in output or "version 2" not in output:
            raise Wrong(
                f"the image must hold the installed requirements and run the new /app/app.sh; it printed {output!r}",
                zh=f"镜像里必须有装好的依赖，并且运行新的 /app/app.sh；它打印的是 {output!r}",
            )
    finally:
        context.close()
