"""Write the init layer: the reference solution."""


def init_layer(hostname: str) -> dict[str, object]:
    layer: dict[str, object] = {
        # the mount points of what the start phase mounts: /proc, a fresh /dev ...
        path: None
        for path in ("/dev", "/dev/pts", "/dev/shm", "/etc", "/proc", "/sys")
    }
    # Empty placeholders: at start the container's own hostname, hosts and
    # resolv.conf (in its directory, not in any layer) are bind-mounted over
    # them -- the hostname is not in the layer at all.
    for path in ("/.dockerenv", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/console"):
        layer[path] = ""
    layer["/etc/mtab"] = "-> /proc/mounts"
    return layer
