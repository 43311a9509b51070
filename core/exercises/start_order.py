"""Order the steps of `docker start`."""

from __future__ import annotations

from stepbox.core.container.in_chinese import text_of

from .walk import Wrong, answer, discard, walk

NAME = "start-order"
TITLE = {"en": "Order the start steps", "zh": "排列启动容器的步骤"}
STATEMENT = {
    "en": "Starting a container is a plan of steps: mount the union filesystem, make the "
    "cgroup, spawn the process in new namespaces, set its hostname, mount /proc and a "
    "fresh /dev, pivot_root, exec the command. Put the step keys in STEPS in the order "
    "the plan runs them (each step needs what an earlier one made).",
    "zh": "启动容器是一个由步骤组成的计划：挂载联合文件系统、创建 cgroup、在新的 namespace 中创建"
    "进程、设置主机名、挂载 /proc 和新的 /dev、pivot_root、exec 命令。把这些步骤的键按计划执行的"
    "顺序放进 STEPS（每一步都需要前面某一步做好的东西）。",
}
KEYS = ("mount_rootfs", "cgroup", "spawn", "hostname", "mounts", "pivot_root", "exec")


def check(module, lab) -> None:
    steps = list(answer(module, "STEPS"))
    if sorted(steps) != sorted(KEYS):
        keys = ", ".join(KEYS)
        raise Wrong(
            f"STEPS must hold each of {keys} once; it holds {steps}",
            zh=f"STEPS 必须恰好包含 {keys} 各一次；它是 {steps}",
        )
    done = walk(lab, lab.config("true"))
    discard(lab, done)
    real = [key for key in done.results if key in KEYS]
    for number, (yours, ran) in enumerate(zip(steps, real, strict=True), 1):
        if yours != ran:
            why = done.results[ran].step.explain
            why_zh = text_of(done.results[ran].step, "zh")[1]
            raise Wrong(
                f"step {number} is {ran!r}, not {yours!r}: {why}",
                zh=f"第 {number} 步是 {ran!r}，不是 {yours!r}：{why_zh}",
            )
