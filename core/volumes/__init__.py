"""Volumes: data that outlives a container.

The seed's Dockerfile ends with ``VOLUME /data``.  A container's own
read-write layer is deleted with the container (``docker rm``); a *volume* is
a directory of the host kept apart from every layer -- Docker keeps it in
``/var/lib/docker/volumes/NAME/_data`` -- and bind-mounted into the
containers that use it.  So what a container writes there survives the
container, never shows in ``docker diff``, and never lands in ``docker
commit``: the union filesystem does not see it at all.

``names``    what a volume may be called (Docker's rule and wording)
``local``    the ``local`` driver's options (``-o type=tmpfs -o device=...``)
``filters``  ``volume ls --filter`` and ``volume prune --filter``
``store``    the volumes of one state directory: create, list, remove,
             mount; kept on disk as ``volumes/NAME/{_data,volume.json}``
``errors``   what goes wrong, each with the HTTP status Docker gives it
"""
