"""The notebooks' own script steps in Chinese: what a Chinese lab's ``script_walk`` shows.

A script's actions (:mod:`.script`) are written in the notebook's code -- a push then a
pull, the CLI's requests, build/run/commit/push -- and a Chinese twin keeps its English
twin's code token for token (tests/notebooks/test_notebooks.py).  So, as the lifecycle's
steps are (``core/container/in_chinese.py``), they are translated here, keyed by the
English explanation: an edited English text has no Chinese until it is translated again,
and ``tests/notebooks/test_script_steps_in_chinese.py`` fails until then.  A title that is
a command line (chapter 04, ``docker build -t ...``) stays as it is written.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stepbox.core.container.steps import Step

# English explanation -> (English title, Chinese title, Chinese explanation)
IN_CHINESE: dict[str, tuple[str, str, str]] = {
    # -- 04: the engine and its REST API (each title is the command line it runs)
    "create + attach + wait + start, then the output arrives on the attached stream.": (
        "stepbox run --rm busybox echo hello through the REST API",
        "stepbox run --rm busybox echo hello through the REST API",
        "create + attach + wait + start，然后输出从 attach 的数据流上到达。",
    ),
    "List images: one GET (the daemon made busybox for the first run).": (
        "stepbox images",
        "stepbox images",
        "列出镜像：一个 GET 请求（busybox 是守护进程为第一次 run 做出来的）。",
    ),
    "-d: create and start, and return; the container keeps running in the daemon.": (
        "stepbox run -d --name web busybox sleep 300",
        "stepbox run -d --name web busybox sleep 300",
        "-d：create、start，然后就返回；容器在守护进程里继续运行。",
    ),
    "The daemon knows the container although the command that started it has exited.": (
        "stepbox ps",
        "stepbox ps",
        "启动容器的那个命令已经退出了，守护进程仍然知道这个容器。",
    ),
    "exec: create an exec instance, start it (upgraded stream), read its exit code.": (
        "stepbox exec web hostname",
        "stepbox exec web hostname",
        "exec：创建一个 exec 实例，启动它（连接被升级成数据流），再读出它的退出码。",
    ),
    "Remove it: one DELETE (force: kill it first).": (
        "stepbox rm -f web",
        "stepbox rm -f web",
        "删除它：一个 DELETE 请求（force：先把它杀掉）。",
    ),
    # -- 05: push and pull through a registry
    "Nothing is in the registry yet: every layer, the base included, goes up, then the config and the manifest.": (
        "push app:v1 — the first time",
        "push app:v1——第一次",
        "仓库里还什么都没有：每一层，连基础镜像的层在内，都要上传，然后是配置和清单（manifest）。",
    ),
    "The registry answers 200 to each HEAD: it has every blob. Nothing is uploaded but the manifest.": (
        "push app:v1 — again",
        "push app:v1——再来一次",
        "仓库对每个 HEAD 都回答 200：每个数据块（blob）它都有了。除了清单，什么都不上传。",
    ),
    "v2 shares v1's layers: only its new top layer and its config travel.": (
        "push app:v2",
        "push app:v2",
        "v2 和 v1 共用那些层：只有它新的最上层和它的配置需要传送。",
    ),
    "An empty store: pull downloads every layer, the parent (busybox) with the child.": (
        "pull app:v1 on another machine",
        "在另一台机器上 pull app:v1",
        "一个空的镜像存储：pull 下载每一层，父镜像（busybox）和子镜像一起下载。",
    ),
    "Two of v2's three layers are already there: only the top layer is downloaded.": (
        "pull app:v2 on the other machine",
        "在那台机器上 pull app:v2",
        "v2 的三层里已经有两层在那里了：只下载最上面那一层。",
    ),
    # -- 08: the union filesystem, one file operation at a time
    "Nothing is written: the lookup goes top-down and finds /etc/passwd in the image's layer.": (
        "Read a file from the image",
        "读镜像里的一个文件",
        "什么都不写：查找从上往下进行，在镜像的层里找到了 /etc/passwd。",
    ),
    "The first write to a lower file copies the whole file up into the read-write layer, then changes the copy. The image's file is untouched.": (
        "Change a file of the image: copy-up",
        "改动镜像里的一个文件：copy-up",
        "第一次写下层的文件时，先把整个文件复制上来（copy-up）放进可读写层，再改这份副本。镜像里的文件原封不动。",
    ),
    "A lower layer cannot be changed, so deleting marks the name deleted in the upper layer (a 0/0 character device; '.wh.cat' in a layer tar). The image still has /bin/cat.": (
        "Delete a file of the image: a whiteout",
        "删除镜像里的一个文件：whiteout",
        "下层不能改，所以删除是在上层把这个名字标记为已删除（一个 0/0 的字符设备；在层的 tar 包里是 '.wh.cat'）。镜像里仍然有 /bin/cat。",
    ),
    "rm -rf then mkdir makes the new directory opaque: it hides everything below it at that path.": (
        "Replace a whole directory: an opaque directory",
        "整个替换一个目录：不透明目录",
        "先 rm -rf 再 mkdir，新目录就是不透明的（opaque）：它把下层同一路径下的一切都遮住。",
    ),
    "The init layer holds only an empty placeholder for /etc/hostname; the real file lives in the container's own directory and is bind-mounted over it at start. Writing it changes that file: nothing is copied up, and docker diff and commit never see it.": (
        "Write /etc/hostname: a bind mount, not a layer",
        "写 /etc/hostname：一个绑定挂载，不是层",
        "初始层里只有 /etc/hostname 的一个空占位文件；真正的文件在容器自己的目录里，启动时被绑定挂载（bind mount）到它上面。写它改的是那个文件：没有任何东西被复制上来，docker diff 和 commit 也永远看不到它。",
    ),
    # -- 10: the capstone, build to deploy
    "Four instructions, three layers: busybox, the copied script, what RUN changed.": (
        "docker build -t greeter:v1 .",
        "docker build -t greeter:v1 .",
        "四条指令，三层：busybox、复制进来的脚本、RUN 改动的内容。",
    ),
    "A container: init layer, read-write layer, namespaces, a cgroup, then greet runs as PID 1.": (
        "docker run greeter:v1",
        "docker run greeter:v1",
        "一个容器：初始层、可读写层、命名空间、一个 cgroup，然后 greet 作为 PID 1 运行。",
    ),
    "The change lands in that container's read-write layer; diff compares it with the image.": (
        "change a file in a container, docker diff",
        "在容器里改一个文件，docker diff",
        "改动落在那个容器的可读写层里；diff 把它和镜像比较。",
    ),
    "The read-write layer becomes one more image layer on top of v1's.": (
        "docker commit edit greeter:v2",
        "docker commit edit greeter:v2",
        "可读写层变成镜像的又一层，叠在 v1 的那些层之上。",
    ),
    "The first push: every layer travels.": (
        "docker push greeter:v1",
        "docker push greeter:v1",
        "第一次推送：每一层都要传送。",
    ),
    "v2 shares v1's three layers: only the committed layer and the new config go up.": (
        "docker push greeter:v2",
        "docker push greeter:v2",
        "v2 和 v1 共用那三层：只有提交出来的那一层和新的配置需要上传。",
    ),
    "An empty machine pulls all four layers and runs the same image.": (
        "docker pull + docker run on another machine",
        "在另一台机器上 docker pull + docker run",
        "一台空机器拉取全部四层，运行同一个镜像。",
    ),
}


def chinese(step: Step[Any]) -> tuple[str, str] | None:
    """The script step's (title, explanation) in Chinese; None if it has none (or
    its title is not the one translated)."""
    found = IN_CHINESE.get(step.explain)
    if found is None or found[0] != step.title:
        return None
    return found[1], found[2]


def in_language(step: Step[Any], lang: str) -> Step[Any]:
    """``step`` with its title and explanation in ``lang`` ("en" or "zh"); as it is
    if it has no text in that language."""
    found = chinese(step) if lang == "zh" else None
    if found is None:
        return step
    return dataclasses.replace(step, title=found[0], explain=found[1])
