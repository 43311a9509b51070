"""``stepbox-runc``: stepbox as an OCI runtime (the runtime-spec CLI, as runc has it).

dockerd (``--add-runtime``), containerd (``ctr run --runc-binary``, a
Kubernetes RuntimeClass) and podman (``--runtime``) hand it a *bundle* --
a rootfs directory and a ``config.json`` -- and it runs the start steps of
``stepbox run`` on it: ``spec.py`` reads the config (refusing what it does
not honour), ``plan.py`` holds the verbs as plans of Steps, ``state.py``
what one command leaves for the next, ``cli.py`` the command line.
"""
