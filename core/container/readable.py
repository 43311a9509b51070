"""Kernel operations made readable: what ``stepbox step`` and the notebooks show.

The operations a step records name absolute paths under the state directory
and 64-digit container and layer IDs: exact, and unreadable in a terminal --
the part that teaches (``upperdir=``, ``workdir=``, the mount target inside
the container) is pushed off the line.  A learner reads them better as

* ``$ROOTFS/dev/null`` -- a path inside the container's root filesystem
  (the merged union mount, which becomes ``/`` at pivot_root);
* ``$ROOT/overlay/layers/58d1267683e7/diff`` -- a path under the engine's
  storage (the state directory; on the simulator, its simulated host's);
* IDs cut to 12 digits, as ``docker ps`` shows them.

Nothing is dropped: every operation and every option stays, only shorter.
"""

from __future__ import annotations

import re

# <anything>/overlay/mounts/<id>/merged: the container's root filesystem
_ROOTFS = re.compile(r"(?:/[^\s\"',:=()]*)?/overlay/mounts/[0-9a-f]{64}/merged")
# <anything>/overlay/{layers,mounts}/: the union filesystem's storage
_STORAGE = re.compile(r"(?:/[^\s\"',:=()]*)?/overlay/(layers|mounts)/")
_HEX_ID = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")

LEGEND = (
    "$ROOT = where the engine keeps layers and containers (on the simulator, its simulated "
    "host's /var/lib/stepbox); "
    "$ROOTFS = the container's root filesystem (the merged union mount, / after pivot_root)"
)


def readable(text: str, state_root: str | None = None) -> str:
    """``text`` with the container's rootfs as ``$ROOTFS``, storage paths
    under ``$ROOT`` and IDs cut to 12 digits."""
    text = _ROOTFS.sub("$ROOTFS", text)
    text = _STORAGE.sub(r"$ROOT/overlay/\1/", text)
    if state_root:
        text = text.replace(state_root.rstrip("/") + "/", "$ROOT/")
    return _HEX_ID.sub(r"\1", text)


__all__ = ["LEGEND", "readable"]
