"""Errors the Docker way: a status code and ``{"message": "..."}``.

The core raises its own typed errors (``NoSuchContainer``, ``Conflict``,
``ImageNotFound``, ``InvalidConfig`` ...); :func:`status_of` says which HTTP
status each one becomes, so the docker CLI prints ``Error response from
daemon: No such container: x`` and exits the way it does with dockerd.
Anything not listed is a real fault of the daemon: 500.
"""

from __future__ import annotations

from stepbox.core.container.errors import ContainerError
from stepbox.core.container.flags import InvalidConfig
from stepbox.core.http_server.messages import HTTPError
from stepbox.core.image.archive import BadArchive
from stepbox.core.image.bootstrap import NoBaseImage
from stepbox.core.image.commit import InvalidChange
from stepbox.core.image.incoming import CorruptInput, TooLarge
from stepbox.core.image.layer_tar import UnsafeLayer
from stepbox.core.image.reference import InvalidReference
from stepbox.core.image.store import BlobDigestMismatch, ImageNotFound, InvalidImageConfig
from stepbox.core.kernel import ExecFailed, KernelError
from stepbox.core.network.etc_files import BadHostEntry
from stepbox.core.network.ipam import AddressError
from stepbox.core.network.ports import BadPortSpec
from stepbox.core.network.store import InvalidNetwork, NetworkConflict, NoSuchNetwork


class ApiError(Exception):
    status = 500

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class BadParameter(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class Unsupported(ApiError):
    """A feature stepbox refuses by name (searching Docker Hub, importing
    from a URL ...).  dockerd says 501 for what it does not implement; here
    the house rule holds: a refused option is the client's to change, 400."""

    status = 400


# Order matters: the first matching class wins.
_STATUS_OF = (
    (ApiError, None),  # carries its own
    (HTTPError, None),  # the request itself: malformed body, too large, too slow
    (ContainerError, None),  # NoSuchContainer 404, Conflict 409, BadRequest 400
    (ImageNotFound, 404),
    (NoBaseImage, 404),
    (InvalidReference, 400),
    (InvalidConfig, 400),
    (InvalidChange, 400),
    (BadArchive, 400),
    (UnsafeLayer, 400),
    (BlobDigestMismatch, 400),
    (InvalidImageConfig, 400),
    (CorruptInput, 400),
    (TooLarge, 413),
    (ExecFailed, 400),
    (NoSuchNetwork, 404),
    (NetworkConflict, 409),  # a name taken, a network in use, a host port already allocated
    (InvalidNetwork, 400),
    (AddressError, 400),
    (BadPortSpec, 400),
    (BadHostEntry, 400),
    (KernelError, 500),
)


def status_of(error: BaseException) -> int | None:
    """The HTTP status for an error a user can cause; ``None`` for a fault."""
    for cls, status in _STATUS_OF:
        if isinstance(error, cls):
            return status if status is not None else getattr(error, "status", 500)
    return None
