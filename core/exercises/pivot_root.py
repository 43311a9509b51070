"""Order the system calls that make the container's filesystem its root."""

from __future__ import annotations

from .walk import Wrong, answer, discard, walk

NAME = "pivot-root"
TITLE = {"en": "Order the steps of pivot_root", "zh": "排列 pivot_root 的步骤"}
STATEMENT = {
    "en": "The container's first process swaps its root filesystem for the union mount with "
    "five system calls. Put the keys of CALLS in ORDER the way the plan's pivot_root "
    "step makes them. The checker walks `docker run` and reads the step's kernel operations.",
    "zh": "容器的第一个进程用五个系统调用把它的根文件系统换成联合挂载。把 CALLS 的键按计划中 "
    "pivot_root 步骤执行的顺序放进 ORDER。检查程序走一遍 `docker run`，读取这一步的内核操作。",
}
KEYS = ("bind", "enter", "pivot", "detach", "home")


def key_of(call: str, detail: str) -> str | None:
    """Which of the five an operation of the step is (None: another one)."""
    if call == "mount" and "MS_BIND" in detail:
        return "bind"
    if call == "chdir":
        return "home" if detail == '"/"' else "enter"
    return {"pivot_root": "pivot", "umount2": "detach"}.get(call)


def check(module, lab) -> None:
    order = list(answer(module, "ORDER"))
    if sorted(order) != sorted(KEYS):
        keys = ", ".join(KEYS)
        raise Wrong(
            f"ORDER must hold each of {keys} once; it holds {order}",
            zh=f"ORDER 必须恰好包含 {keys} 各一次；它是 {order}",
        )
    done = walk(lab, lab.config("true"))
    discard(lab, done)
    kernel = []
    for call, detail in done.ops("pivot_root"):
        key = key_of(call, detail)
        if key is not None and key not in kernel:
            kernel.append(key)
    for number, (yours, real) in enumerate(zip(order, kernel, strict=True), 1):
        if yours != real:
            raise Wrong(
                f"call {number}: the kernel was asked for {real!r} there, not {yours!r}",
                zh=f"第 {number} 个调用：内核在这里收到的是 {real!r}，不是 {yours!r}",
            )
