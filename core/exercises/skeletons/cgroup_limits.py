"""Write the cgroup limit files (stepbox exercises check cgroup-limits --dir .)."""


def limit_files(memory_bytes: int, cpus: float, pids: int, version: str) -> dict[str, str]:
    """What `docker run --memory MEMORY_BYTES --cpus CPUS --pids-limit PIDS` writes
    into the container's cgroup: {file name: contents}.

    version "2" (the unified hierarchy; the simulator's): memory.max, cpu.max, pids.max.
    version "1" (also a hybrid host): memory.limit_in_bytes, cpu.cfs_quota_us,
    cpu.cfs_period_us, pids.max.

    Hint: cpu.max is "QUOTA PERIOD" in microseconds, and Docker's period is 100000."""
    return {}  # your turn
