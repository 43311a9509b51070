"""Write the cgroup limit files: the reference solution."""

PERIOD = 100_000  # microseconds, Docker's default CFS period


def limit_files(memory_bytes: int, cpus: float, pids: int, version: str) -> dict[str, str]:
    quota = int(cpus * PERIOD)  # --cpus 1.5: 1.5 periods of CPU time per period
    if version == "1":
        return {
            "memory.limit_in_bytes": str(memory_bytes),
            "cpu.cfs_quota_us": str(quota),
            "cpu.cfs_period_us": str(PERIOD),
            "pids.max": str(pids),
        }
    return {"memory.max": str(memory_bytes), "cpu.max": f"{quota} {PERIOD}", "pids.max": str(pids)}
