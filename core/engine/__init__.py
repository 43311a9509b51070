"""The engine: stepbox as a client/server program, the way Docker is built.

The seed describes Docker Engine as three parts: a long-running **daemon**
that owns images and containers, a **REST API** it serves, and a **CLI** that
turns every command into HTTP requests sent to the daemon over a UNIX socket
(``/var/run/docker.sock``).  This package is the daemon and a client:

``wire``        HTTP/1.1 framing shared by both ends (heads, chunked bodies)
``http``        a threaded HTTP/1.1 server on a UNIX socket (keep-alive,
                body limits, connection upgrade for attach/exec)
``routes``      ``/v1.44/containers/{id}/start`` -> a handler; API versions
``errors``      the core's typed errors -> HTTP statuses, ``{"message": …}``
``engine``      the daemon's state: one Runtime, a lock, exit monitors
``containers``  ``/containers/...`` endpoints (``create_body`` reads Docker's
                create request, ``execs`` runs ``docker exec``)
``images``      ``/images/...``, ``/commit`` (``build``: ``POST /build``)
``views``       records and images in Docker's JSON shapes
``system``      ``/_ping``, ``/version``, ``/info``, ``/events`` (``events``)
``streams``     the multiplexed stdout/stderr stream (8-byte frame headers)
``server``      putting it together: socket path, permissions, start/stop
``locations``   where a daemon keeps its state and its socket (shared with the CLI)
``pidfile``     one daemon per socket: a pid file locked while the daemon lives
``registry_auth`` credentials that come with pull/push (``X-Registry-Auth``)
``client``      a small client for the same API, with a request log -- what
                the ``stepbox`` CLI (core/cli) uses

Because the daemon speaks (a subset of) the Docker Engine API, the real
``docker`` CLI and the ``docker`` Python SDK can drive it::

    stepbox daemon -H unix:///tmp/stepbox.sock &
    DOCKER_HOST=unix:///tmp/stepbox.sock docker run --rm busybox echo hi
"""

API_VERSION = "1.44"  # what we serve; newer CLIs refuse anything lower
MIN_API_VERSION = "1.24"  # the oldest version a client may ask for
