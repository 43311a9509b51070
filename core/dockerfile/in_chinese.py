"""The Dockerfile builder's steps in Chinese: what a build walk shows under ``--lang zh``,
a Chinese locale or a Chinese notebook's lab (``core/container/in_chinese.py`` looks
here too).

Keyed by the English explanation each one translates (``EXPLAIN``,
``DEFAULT_EXPLAIN`` and the tag step in ``builder.py``), as the lifecycle's table is:
an edited English text has no Chinese until translated again, and
``tests/core/test_steps_in_chinese.py`` says so.  A build step's title is its
Dockerfile instruction (``RUN apk add curl``): the ``{}`` pattern keeps it as it is.
"""

from __future__ import annotations

# English explanation -> (English title pattern, Chinese title, Chinese explanation)
IN_CHINESE: dict[str, tuple[str, str, str]] = {
    # FROM
    "Start from an image: its layers become the bottom of the new image, its config "
    "(Env, Cmd, WorkingDir ...) the starting config. `scratch` starts from nothing.": (
        "{}",
        "{}",
        "从一个镜像开始：它的层成为新镜像最底下的层，它的配置（Env、Cmd、WorkingDir ……）成为起始配置。"
        "`scratch` 表示从空白开始。",
    ),
    # RUN
    "Create a container from the image built so far, run the command in it, and commit "
    "its read-write layer -- exactly what the command changed -- as a new layer.": (
        "{}",
        "{}",
        "用到目前为止构建出的镜像创建一个容器，在里面运行这条命令，再把容器的可读写层——正好是命令改变的东西——"
        "提交成一个新层。",
    ),
    # COPY
    "Copy files from the build context (or another stage) into a new layer. Nothing "
    "runs: the layer is made directly from the files.": (
        "{}",
        "{}",
        "把构建上下文（或另一个构建阶段）里的文件复制进一个新层。什么程序都不运行：这一层直接由文件做成。",
    ),
    # ADD
    "Like COPY; a local tar archive is unpacked, a URL downloaded.": (
        "{}",
        "{}",
        "和 COPY 一样；只是本地的 tar 归档会被解开，URL 会被下载。",
    ),
    # ARG
    "Declare a build argument: a variable for this build only, set with --build-arg; "
    "it is not saved in the image's Env.": (
        "{}",
        "{}",
        "声明一个构建参数：只在这次构建里有效的变量，用 --build-arg 设置；它不会存进镜像的 Env。",
    ),
    # ENV, CMD, WORKDIR, LABEL, EXPOSE, USER ... (DEFAULT_EXPLAIN)
    "Change the image's config only: a new image with one more history entry "
    "marked empty_layer -- no new layer.": (
        "{}",
        "{}",
        "只改变镜像的配置：得到一个新镜像，它的历史里多了一条标为 empty_layer 的记录——没有新层。",
    ),
    # tag
    "The last image built is the result: give it its names.": (
        "Tag the image",
        "给镜像打标签",
        "最后构建出的镜像就是结果：给它起名字。",
    ),
}

__all__ = ["IN_CHINESE"]
