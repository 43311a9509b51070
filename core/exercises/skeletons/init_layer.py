"""Write the init layer (stepbox exercises check init-layer --dir .)."""


def init_layer(hostname: str) -> dict[str, object]:
    """Every path of the init layer of `docker create --hostname HOSTNAME busybox`:
    {"/path": contents}, None for a directory, ... for a file whose contents you do
    not want to write out (except /etc/hostname: write it)."""
    return {"/etc": None}  # your turn
