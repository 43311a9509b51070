"""Write a container's cgroup limit files."""

from __future__ import annotations

import posixpath

from .walk import Wrong, answer, call, discard, walk

NAME = "cgroup-limits"
TITLE = {"en": "Write the cgroup limit files", "zh": "写 cgroup 的限制文件"}
STATEMENT = {
    "en": "`docker run --memory M --cpus C --pids-limit P` limits the container through "
    "files in its cgroup directory. Write limit_files(memory_bytes, cpus, pids, version): the "
    "{file name: contents} the engine writes -- cgroup version \"2\": memory.max, cpu.max, "
    "pids.max; version \"1\" (a hybrid host too): memory.limit_in_bytes, cpu.cfs_quota_us, "
    "cpu.cfs_period_us, pids.max. "
    "The checker runs the plan's cgroup step and compares with the files it wrote.",
    "zh": "`docker run --memory M --cpus C --pids-limit P` 通过容器 cgroup 目录里的文件来限制它。"
    "写出 limit_files(memory_bytes, cpus, pids, version)：引擎写入的 {文件名: 内容}——cgroup 版本 \"2\"："
    "memory.max、cpu.max、pids.max；版本 \"1\"（混合模式的主机也是）：memory.limit_in_bytes、"
    "cpu.cfs_quota_us、cpu.cfs_period_us、pids.max。检查程序运行计划中的 cgroup 步骤，与它写的文件相比较。",
}
CASES = ((64 << 20, 1.5, 20), (8 << 20, 0.25, 100))


def written(done) -> dict[str, str]:
    """The limit files the cgroup step wrote: {basename: value}."""
    files = {}
    for call_, detail in done.ops("cgroup"):
        if call_.startswith("write "):
            name = posixpath.basename(call_.removeprefix("write "))
            if not name.startswith(("devices.", "cgroup.")):
                files[name] = detail.strip('"')
    return files


def check(module, lab) -> None:
    limit_files = answer(module, "limit_files")
    version = lab.kernel.cgroup_version()  # the files differ: the host's hierarchy decides
    for memory, cpus, pids in CASES:
        config = lab.config("true", memory=memory, cpus=cpus, pids_limit=pids)
        done = walk(lab, config)
        discard(lab, done)
        expected = written(done)
        got = call(limit_files, memory, cpus, pids, version)
        if not isinstance(got, dict):
            raise Wrong(
                f"limit_files must return a dict, not {type(got).__name__}",
                zh=f"limit_files 必须返回一个 dict，而不是 {type(got).__name__}",
            )
        for name, value in expected.items():
            if name not in got:
                raise Wrong(
                    f"cgroup v{version}, --memory {memory} --cpus {cpus} --pids-limit {pids}: {name} is missing",
                    zh=f"cgroup v{version}，--memory {memory} --cpus {cpus} --pids-limit {pids}：缺少 {name}",
                )
            if str(got[name]).strip() != value:
                raise Wrong(
                    f"--memory {memory} --cpus {cpus} --pids-limit {pids}: "
                    f"{name} holds {got[name]!r}, the engine wrote {value!r}",
                    zh=f"--memory {memory} --cpus {cpus} --pids-limit {pids}："
                    f"{name} 的内容是 {got[name]!r}，引擎写的是 {value!r}",
                )
        for name in sorted(set(got) - set(expected)):
            raise Wrong(
                f"on cgroup v{version} the engine writes no {name} for these flags",
                zh=f"在 cgroup v{version} 上，对这些参数引擎不写 {name}",
            )
