"""Locks by name: one for each image, layer or container that is in use.

The daemon runs many lifecycles at once, and most of them touch different
things: two ``docker run``\\ s of busybox share the image's layers and
nothing else.  A lock for each thing, made when someone first needs it and
dropped when nobody holds or waits for it, lets them run side by side and
still keeps apart the few that collide (an ``rmi`` of the image they are
created from, two creates unpacking the same layer).

A key is held *shared* (many holders at once: containers being created
from an image) or *exclusive* (one holder, nobody sharing: the image being
deleted).  A waiting exclusive holder goes first, so a stream of creates
cannot starve an ``rmi``.  Not reentrant: a thread holds a key once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class _Holders:
    shared: int = 0
    exclusive: bool = False
    waiting_exclusive: int = 0

    @property
    def idle(self) -> bool:
        return not (self.shared or self.exclusive or self.waiting_exclusive)


class KeyedLocks:
    def __init__(self, what: str = "key"):
        self.what = what  # for repr: "image", "layer"
        self._changed = threading.Condition()
        self._keys: dict[str, _Holders] = {}

    def __repr__(self) -> str:
        with self._changed:
            return f"<KeyedLocks of {self.what}: {len(self._keys)} in use>"

    @contextmanager
    def shared(self, key: str) -> Iterator[None]:
        with self._changed:
            holders = self._keys.setdefault(key, _Holders())
            self._changed.wait_for(lambda: not (holders.exclusive or holders.waiting_exclusive))
            holders.shared += 1
        try:
            yield
        finally:
            with self._changed:
                holders.shared -= 1
                self._let_go(key, holders)

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        with self._changed:
            holders = self._keys.setdefault(key, _Holders())
            holders.waiting_exclusive += 1
            try:
                self._changed.wait_for(lambda: not (holders.exclusive or holders.shared))
            except BaseException:  # interrupted while waiting: never held
                holders.waiting_exclusive -= 1
                self._let_go(key, holders)
                raise
            holders.waiting_exclusive -= 1
            holders.exclusive = True
        try:
            yield
        finally:
            with self._changed:
                holders.exclusive = False
                self._let_go(key, holders)

    def held(self) -> list[str]:
        """The keys someone holds or waits for now (for tests and debugging)."""
        with self._changed:
            return sorted(self._keys)

    def _let_go(self, key: str, holders: _Holders) -> None:
        if holders.idle:
            del self._keys[key]
        self._changed.notify_all()


@dataclass
class StoreLocks:
    """What keeps concurrent lifecycles from pulling images and layers from
    under each other (one set per Runtime, shared by all its plans):

    * ``images``, by image ID: *shared* while a container is being created
      from the image, until its record names the image; *exclusive* while
      ``rmi`` checks who uses it and deletes it.  So an rmi either sees the
      new container as a user or comes first (and the create then fails
      with "No such image").
    * ``layers``, by layer ID: *exclusive* while a layer is unpacked (two
      creates of one image unpack it once) or removed by a prune.
    * ``collecting``: one garbage collection at a time.

    Order: an image, then its layers; ``collecting`` before a layer.
    """

    images: KeyedLocks = field(default_factory=lambda: KeyedLocks("image"))
    layers: KeyedLocks = field(default_factory=lambda: KeyedLocks("layer"))
    collecting: threading.Lock = field(default_factory=threading.Lock)


__all__ = ["KeyedLocks", "StoreLocks"]
