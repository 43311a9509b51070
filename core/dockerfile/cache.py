"""The build cache: "have I done exactly this step on exactly this image?"

Docker's classic builder keys a step by its *parent image* and the
*container config* the step would commit -- which contains the instruction
(as the ``#(nop)`` comment or the RUN command, with the build args it sees)
and, for ``COPY``/``ADD``, a checksum of the files copied.  So a step is
reused when the image below it is the same image, the instruction text is the
same, and (for COPY/ADD) no copied file changed -- and not otherwise: editing
line 3 invalidates line 3 and every step after it, because their parents
change.  stepbox keys the same things.

Each entry is one small JSON file named by the key, written atomically, so
two builds at once or a ``kill -9`` cannot leave a torn cache.  A hit whose
image has since been deleted (``rmi``) counts as a miss.  The file's mtime
is when the entry was last used (written, or hit): ``docker builder prune
--filter until=24h`` keeps what was used in the last day.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from stepbox.core.kernel.atomic import atomic_write_json, read_json, sweep_temporaries


def cache_key(parent_id: str | None, created_by: str, config: dict, extra: str = "") -> str:
    material = json.dumps(
        {"parent": parent_id or "scratch", "created_by": created_by, "config": config, "extra": extra},
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class CacheRecord:
    """One entry, as ``docker builder prune`` deals with them."""

    key: str  # its ID
    image_id: str | None  # the image the step made (None: an unreadable entry)
    last_used: float  # Unix time
    size: int  # of the entry itself (the image's own size is the store's)


class BuildCache:
    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)
        sweep_temporaries(root)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".json")

    def get(self, key: str) -> str | None:
        """The image ID stored for ``key``, if any (then marked used now)."""
        path = self._path(key)
        try:
            image = read_json(path)["image"]
        except (FileNotFoundError, KeyError, ValueError, TypeError):
            return None
        try:
            os.utime(path)
        except FileNotFoundError:
            pass  # pruned meanwhile: the hit stands, the entry is gone
        return image

    def records(self) -> list[CacheRecord]:
        """Every entry, oldest use first."""
        found = []
        for sub in sorted(os.listdir(self.root)):
            directory = os.path.join(self.root, sub)
            if len(sub) != 2 or not os.path.isdir(directory):
                continue
            for name in sorted(os.listdir(directory)):
                if not name.endswith(".json") or name.startswith("."):
                    continue
                path = os.path.join(directory, name)
                try:
                    st = os.stat(path)
                    image = read_json(path).get("image")
                except FileNotFoundError:
                    continue  # pruned meanwhile
                except (ValueError, AttributeError):
                    image = None  # unreadable: a prune removes it
                image_id = image if isinstance(image, str) else None
                found.append(CacheRecord(name[: -len(".json")], image_id, st.st_mtime, st.st_size))
        return sorted(found, key=lambda r: r.last_used)

    def remove(self, key: str) -> bool:
        """Forget ``key``; whether it was there (two prunes at once: one wins)."""
        try:
            os.unlink(self._path(key))
            return True
        except FileNotFoundError:
            return False

    def put(self, key: str, image_id: str) -> None:
        # Not fsynced: losing a cache entry in a crash only costs a rebuild.
        atomic_write_json(self._path(key), {"image": image_id}, durable=False)
