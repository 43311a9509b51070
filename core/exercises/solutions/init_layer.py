"""Write the init layer: the reference solution."""


def init_layer(hostname: str) -> dict[str, object]:
    layer: dict[str, object] = {
        # the mount points of what the start phase mounts: /proc, a fresh /dev ...
        path: None
        for path in ("/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc", "/proc", "/sys")
    }
    layer["/etc/hostname"] = f"{hostname}\n"
    layer["/etc/hosts"] = ...
    layer["/etc/resolv.conf"] = ...
    layer["/.dockerenv"] = ""
    return layer
