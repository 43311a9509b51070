"""Order the start steps: the reference solution."""

STEPS = ["mount_rootfs", "cgroup", "spawn", "hostname", "mounts", "pivot_root", "exec"]
