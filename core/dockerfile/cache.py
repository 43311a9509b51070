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
image has since been deleted (``rmi``) counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os

from stepbox.core.kernel.atomic import atomic_write_json, read_json, sweep_temporaries


def cache_key(parent_id: str | None, created_by: str, config: dict, extra: str = "") -> str:
    material = json.dumps(
        {"parent": parent_id or "scratch", "created_by": created_by, "config": config, "extra": extra},
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()


class BuildCache:
    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)
        sweep_temporaries(root)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".json")

    def get(self, key: str) -> str | None:
        """The image ID stored for ``key``, if any."""
        try:
            return read_json(self._path(key))["image"]
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def put(self, key: str, image_id: str) -> None:
        # Not fsynced: losing a cache entry in a crash only costs a rebuild.
        atomic_write_json(self._path(key), {"image": image_id}, durable=False)
