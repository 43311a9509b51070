"""Order the start steps (stepbox exercises check start-order --dir .)."""

# mount_rootfs  mount the image's layers, the init and the read-write layer as one tree
# cgroup        make the container's cgroup and write its limits
# spawn         clone the first process in new namespaces, inside the cgroup
# hostname      sethostname in the new UTS namespace
# mounts        /proc, a fresh /dev, /sys ... inside the new mount namespace
# pivot_root    make the union mount the process's /
# exec          replace the process with the container's command

# Your turn: the order in which the plan runs them.
STEPS = ["exec", "pivot_root", "mounts", "hostname", "spawn", "cgroup", "mount_rootfs"]
