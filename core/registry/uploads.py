"""Blob uploads: a session per blob, bytes appended in order, verified at the end.

The protocol (OCI distribution spec, "Pushing blobs")::

    POST   /v2/<name>/blobs/uploads/            -> 202, Location: /v2/<name>/blobs/uploads/<uuid>
    PATCH  <location>   (a chunk, in order)     -> 202, Range: 0-<bytes so far - 1>
    GET    <location>   (how far did we get?)   -> 204, Range: 0-<bytes so far - 1>
    PUT    <location>?digest=sha256:…  (+ last chunk, optional) -> 201, Location: /v2/<name>/blobs/<digest>
    DELETE <location>   (give up)               -> 204

The bytes go to ``uploads/<uuid>/data`` and are hashed *as they arrive*, so the
final PUT costs no second read of a 100 MB layer.  Only when the hash equals
the digest the client claims is the file renamed into ``blobs/`` -- a blob
whose content does not match its name never becomes visible, and the session
is dropped.

A session nobody touched for ``ttl`` seconds (default an hour) has expired:
its bytes are deleted and its uuid answers BLOB_UPLOAD_UNKNOWN.  Expired
sessions are looked for whenever an upload starts (at most once a minute),
so an abandoned push cannot keep disk space forever.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import RegistryError
from .http_range import ByteRange
from .names import is_sha256_digest
from .storage import RegistryStorage

DEFAULT_UPLOAD_TTL = 3600.0  # seconds an upload session may sit idle
SWEEP_INTERVAL = 60.0  # seconds between looks for expired sessions


@dataclass
class UploadSession:
    uuid: str
    name: str
    directory: str
    offset: int = 0
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_active: float = field(default_factory=time.monotonic)

    @property
    def data_path(self) -> str:
        return os.path.join(self.directory, "data")

    @property
    def location(self) -> str:
        return f"/v2/{self.name}/blobs/uploads/{self.uuid}"


class Uploads:
    def __init__(self, storage: RegistryStorage, ttl: float = DEFAULT_UPLOAD_TTL):
        self.storage = storage
        self.ttl = ttl
        self._sessions: dict[str, UploadSession] = {}
        self._lock = threading.Lock()
        self._swept_at = float("-inf")

    def start(self, name: str) -> UploadSession:
        self.expire()
        session_id = str(uuidlib.uuid4())
        directory = os.path.join(self.storage.uploads_dir, session_id)
        os.makedirs(directory)
        with open(os.path.join(directory, "name"), "w") as f:
            f.write(name)
        open(os.path.join(directory, "data"), "wb").close()
        session = UploadSession(session_id, name, directory)
        with self._lock:
            self._sessions[session_id] = session
        return session

    def get(self, name: str, session_id: str) -> UploadSession:
        """The session, which must belong to ``name`` (a uuid is not a capability
        to write into any repository)."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                session = self._reopen(session_id)
        if session is not None and self._expired(session):
            self.cancel(session)
            session = None
        if session is None or session.name != name:
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", detail={"uuid": session_id})
        session.last_active = time.monotonic()
        return session

    def _expired(self, session: UploadSession) -> bool:
        return time.monotonic() - session.last_active > self.ttl

    def expire(self, force: bool = False) -> list[str]:
        """Delete sessions idle for longer than the TTL -- in memory, and on
        disk those left by an earlier run (judged by their files' age); the
        uuids deleted.  At most once per SWEEP_INTERVAL unless ``force``."""
        now = time.monotonic()
        if not force and now - self._swept_at < SWEEP_INTERVAL:
            return []
        self._swept_at = now
        with self._lock:
            stale = [s for s in self._sessions.values() if self._expired(s) and not s.lock.locked()]
            live = set(self._sessions)
        for session in stale:
            self.cancel(session)
        gone = [s.uuid for s in stale]
        wall_now = time.time()
        try:
            entries = os.listdir(self.storage.uploads_dir)
        except FileNotFoundError:
            entries = []
        for entry in entries:
            if entry in live:
                continue
            directory = os.path.join(self.storage.uploads_dir, entry)
            try:
                age = wall_now - max(
                    os.stat(os.path.join(directory, n)).st_mtime for n in os.listdir(directory)
                )
            except (OSError, ValueError):
                age = self.ttl + 1  # empty or half-made: nothing worth keeping
            if age > self.ttl:
                shutil.rmtree(directory, ignore_errors=True)
                gone.append(entry)
        return gone

    def _reopen(self, session_id: str) -> UploadSession | None:
        """A session from before a restart: re-hash what was received."""
        try:
            uuidlib.UUID(session_id)
        except ValueError:
            return None
        directory = os.path.join(self.storage.uploads_dir, session_id)
        try:
            with open(os.path.join(directory, "name")) as f:
                name = f.read()
            session = UploadSession(session_id, name, directory)
            idle = max(0.0, time.time() - os.stat(session.data_path).st_mtime)
            session.last_active = time.monotonic() - idle
            with open(session.data_path, "rb") as f:
                for piece in iter(lambda: f.read(1 << 20), b""):
                    session.hasher.update(piece)
                    session.offset += len(piece)
        except FileNotFoundError:
            return None
        self._sessions[session_id] = session
        return session

    def append(
        self,
        session: UploadSession,
        body: Iterable[bytes],
        content_range: ByteRange | None,
        content_length: int | None,
    ) -> None:
        """Append one chunk.  With a ``Content-Range`` it must start exactly where
        the upload is, else 416 (chunks arrive in order, no gaps, no overlaps)."""
        if content_range is not None and content_range.start != session.offset:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                f"chunk starts at {content_range.start}, the upload has {session.offset} bytes",
                status=416,
                headers={"Range": f"0-{max(session.offset - 1, 0)}", "Location": session.location},
            )
        received = 0
        with open(session.data_path, "ab") as f:
            for piece in body:
                f.write(piece)
                session.hasher.update(piece)
                received += len(piece)
            session.offset += received
        if content_range is not None and content_range.length != received:
            # Our file now holds bytes the client thinks are elsewhere: unusable.
            self.cancel(session)
            raise RegistryError(
                "SIZE_INVALID",
                f"Content-Range says {content_range.length} bytes, the chunk had {received}",
                status=416,
            )

    def finish(self, session: UploadSession, digest: str | None) -> str:
        """Verify and publish the blob; the session ends either way."""
        try:
            if not digest or not is_sha256_digest(digest):
                raise RegistryError(
                    "DIGEST_INVALID",
                    f"the closing PUT needs ?digest=sha256:<64 hex>, got {digest!r}",
                    detail={"digest": digest},
                )
            actual = "sha256:" + session.hasher.hexdigest()
            if actual != digest:
                raise RegistryError(
                    "DIGEST_INVALID",
                    f"the uploaded content is {actual}, not {digest}",
                    detail={"digest": digest},
                )
            return self.storage.commit_blob(session.name, session.data_path, digest)
        finally:
            self.cancel(session)

    def cancel(self, session: UploadSession) -> None:
        with self._lock:
            self._sessions.pop(session.uuid, None)
        shutil.rmtree(session.directory, ignore_errors=True)
