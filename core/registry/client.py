"""The client side in one place: what ``stepbox pull/push/login`` call.

It turns a user's image name into a registry, a scheme and a repository
(docker's normalisation: ``busybox`` is ``docker.io/library/busybox:latest``,
served by ``registry-1.docker.io``; ``localhost:5000/app`` is the registry at
``localhost:5000`` over plain http), finds stored credentials, and hands a
ready :class:`~.transport.Transport` to :mod:`.pull` or :mod:`.push`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from stepbox.core.image.reference import DEFAULT_REGISTRY, InvalidReference, Reference, parse_reference
from stepbox.core.image.store import ImageStore

from .credentials import Credentials, load_credentials, store_credentials
from .layer_metadata import LayerMetadata, default_metadata_path
from .progress import Bars, transfer_progress
from .pull import PullResult, pull
from .push import PushResult, push
from .transport import Transport, scheme_for


def insecure_from_env() -> list[str]:
    """``STEPBOX_INSECURE_REGISTRIES=host:port,other:5000`` (docker: daemon.json
    ``insecure-registries``): registries to talk to over plain http."""
    return [r.strip() for r in os.environ.get("STEPBOX_INSECURE_REGISTRIES", "").split(",") if r.strip()]


@dataclass
class RegistryClient:
    store: ImageStore
    insecure: list[str] = field(default_factory=insecure_from_env)
    say: Callable[[str], None] = lambda line: None
    progress: bool | Bars | None = None  # True/False/None (bars only on a terminal), or bars of its own
    metadata_path: str | None = None
    # Credentials a caller brought (the daemon gets them in X-Registry-Auth);
    # without them, the ones `stepbox login` stored.
    credentials: Credentials | None = None

    def __post_init__(self) -> None:
        self.metadata = LayerMetadata(self.metadata_path or default_metadata_path(self.store.root))

    def transport(self, registry: str, scopes: Iterable[str] = ()) -> Transport:
        return Transport(
            registry,
            scheme_for(registry, self.insecure),
            self.credentials or load_credentials(registry),
            list(scopes),
        )

    def pull(self, name: str) -> PullResult:
        ref = parse_reference(name)
        transport = self.transport(ref.registry, [f"repository:{ref.repository}:pull"])
        self.say(f"{ref.tag or ref.digest}: Pulling from {ref.familiar}")
        before = self._local_id(name)
        try:
            with transfer_progress(self.progress) as bars:
                result = pull(self.store, ref, transport, self.metadata, bars, self.say)
        finally:
            transport.close()
        self.say(f"Digest: {result.manifest_digest}")
        self.say(
            f"Status: Image is up to date for {ref.familiar_str()}"
            if before == result.image.id
            else f"Status: Downloaded newer image for {ref.familiar_str()}"
        )
        return result

    def push(self, name: str) -> PushResult:
        ref = parse_reference(name)
        if ref.digest:
            raise InvalidReference(f"cannot push to a digest reference {name!r}: use a tag")
        # Scopes: push to this repository, pull from those we might mount from.
        sources = {
            repo
            for diff in self._local_diff_ids(name)
            for _layer, repos in self.metadata.candidates(diff, ref.registry)
            for repo in repos
        }
        scopes = [f"repository:{ref.repository}:pull,push"] + [
            f"repository:{r}:pull" for r in sorted(sources) if r != ref.repository
        ]
        transport = self.transport(ref.registry, scopes)
        self.say(f"The push refers to repository [{ref.name}]")
        try:
            with transfer_progress(self.progress) as bars:
                return push(self.store, ref, transport, self.metadata, bars, self.say)
        finally:
            transport.close()

    def _local_id(self, name: str) -> str | None:
        try:
            return self.store.resolve(name).id
        except LookupError:
            return None

    def _local_diff_ids(self, name: str) -> tuple[str, ...]:
        return self.store.resolve(name).diff_ids


def login(server: str | None, username: str, password: str, insecure: Iterable[str] = ()) -> str:
    """Check the credentials against ``/v2/`` (Basic or token flow) and save
    them; the normalised registry name."""
    registry = normalise_server(server)
    transport = Transport(registry, scheme_for(registry, insecure), Credentials(username, password))
    try:
        transport.request("GET", "/v2/", ok=(200,))
    finally:
        transport.close()
    store_credentials(registry, Credentials(username, password))
    return registry


def normalise_server(server: str | None) -> str:
    """``stepbox login`` takes a server name, optionally as a URL."""
    if not server:
        return DEFAULT_REGISTRY
    server = server.removeprefix("https://").removeprefix("http://").rstrip("/")
    if server.endswith("/v1") or server.endswith("/v2"):
        server = server[:-3]
    if server in ("index.docker.io", "registry-1.docker.io"):
        return DEFAULT_REGISTRY
    if "/" in server:
        raise InvalidReference(f"{server!r} is not a registry host[:port]")
    return server


__all__ = ["RegistryClient", "Reference", "login", "normalise_server"]
