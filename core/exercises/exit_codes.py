"""Predict the exit status `docker run` reports."""

from __future__ import annotations

import shlex

from .walk import Wrong, answer, discard, walk

NAME = "exit-codes"
TITLE = {"en": "Predict exit codes", "zh": "预测退出码"}
STATEMENT = {
    "en": "`docker run` ends with the container's exit status -- also when the command "
    "does not exist or a signal killed it. Fill in PREDICTIONS: the status of each "
    "command. The checker runs each container through the plan.",
    "zh": "`docker run` 以容器的退出状态结束——命令不存在或进程被信号杀死时也是这样。填写 "
    "PREDICTIONS：每个命令的退出状态。检查程序通过计划运行每一个容器。",
}
COMMANDS = (
    "true",
    "false",
    'sh -c "exit 3"',
    "nosuchcommand",
    "sh -c \"sh -c 'kill -9 $$'; exit $?\"",
    'sh -c "kill -9 $$"',
)


def check(module, lab) -> None:
    predictions = answer(module, "PREDICTIONS")
    for command in COMMANDS:
        if command not in predictions:
            raise Wrong(
                f"PREDICTIONS has no entry for {command!r}", zh=f"PREDICTIONS 里没有 {command!r} 这一项"
            )
        done = walk(lab, lab.config(*shlex.split(command)))
        try:
            status = lab.runtime.refresh(done.record).exit_code
        finally:
            discard(lab, done)
        if predictions[command] != status:
            yours = predictions[command]
            raise Wrong(
                f"docker run busybox {command} ends with {status}, not {yours!r}",
                zh=f"docker run busybox {command} 以 {status} 结束，不是 {yours!r}",
            )
