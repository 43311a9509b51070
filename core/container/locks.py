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
from dataclasses import dataclass, field


@dataclass
class _Holders:
    shared: int = 0
    exclusive: bool = False
    waiting_exclusive: int = 0
    # Counted too, so the key is not dropped from under them: a shared hold
    # that waited for an exclusive one found its entry gone when it woke,
    # held a stale one (an exclusive hold taken meanwhile got a new one) and
    # failed with KeyError at its release.
    waiting_shared: int = 0

    @property
    def idle(self) -> bool:
        return not (self.shared or self.exclusive or self.waiting_exclusive or self.waiting_shared)


class KeyedLocks:
    def __init__(self, what: str = "key"):
        self.what = what  # for repr: "image", "layer"
        self._changed = threading.Condition()
        self._keys: dict[str, _Holders] = {}

    def __repr__(self) -> str:
        with self._changed:
            return f"<KeyedLocks of {self.what}: {len(self._keys)} in use>"

    # The holds are small objects rather than @contextmanager generators:
    # every create takes one of each (~1.5 µs a generator, issue 18).
    def shared(self, key: str) -> _Hold:
        """Hold ``key`` shared while the ``with`` block runs."""
        return _Hold(self, key, exclusive=False)

    def exclusive(self, key: str) -> _Hold:
        """Hold ``key`` alone while the ``with`` block runs."""
        return _Hold(self, key, exclusive=True)

    def _take_shared(self, key: str) -> _Holders:
        with self._changed:
            holders = self._keys.get(key) or self._keys.setdefault(key, _Holders())
            if holders.exclusive or holders.waiting_exclusive:
                holders.waiting_shared += 1
                try:
                    self._changed.wait_for(lambda: not (holders.exclusive or holders.waiting_exclusive))
                except BaseException:  # interrupted while waiting: never held
                    holders.waiting_shared -= 1
                    self._let_go(key, holders)
                    raise
                holders.waiting_shared -= 1
            holders.shared += 1
        return holders

    def _take_exclusive(self, key: str) -> _Holders:
        with self._changed:
            holders = self._keys.get(key) or self._keys.setdefault(key, _Holders())
            holders.waiting_exclusive += 1
            try:
                if holders.exclusive or holders.shared:
                    self._changed.wait_for(lambda: not (holders.exclusive or holders.shared))
            except BaseException:  # interrupted while waiting: never held
                holders.waiting_exclusive -= 1
                self._let_go(key, holders)
                raise
            holders.waiting_exclusive -= 1
            holders.exclusive = True
        return holders

    def _release(self, key: str, holders: _Holders, exclusive: bool) -> None:
        with self._changed:
            if exclusive:
                holders.exclusive = False
            else:
                holders.shared -= 1
            self._let_go(key, holders)

    def held(self) -> list[str]:
        """The keys someone holds or waits for now (for tests and debugging)."""
        with self._changed:
            return sorted(self._keys)

    def _let_go(self, key: str, holders: _Holders) -> None:
        if holders.idle:
            del self._keys[key]
        self._changed.notify_all()


class _Hold:
    """One ``with`` of :meth:`KeyedLocks.shared` or :meth:`KeyedLocks.exclusive`."""

    __slots__ = ("locks", "key", "exclusive", "holders")

    def __init__(self, locks: KeyedLocks, key: str, exclusive: bool):
        self.locks, self.key, self.exclusive = locks, key, exclusive
        self.holders: _Holders | None = None

    def __enter__(self) -> None:
        take = self.locks._take_exclusive if self.exclusive else self.locks._take_shared
        self.holders = take(self.key)

    def __exit__(self, *exc: object) -> None:
        assert self.holders is not None, "entered first"
        self.locks._release(self.key, self.holders, self.exclusive)
        self.holders = None


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
    * ``volumes``: who uses which volume.  Held while a create makes or
      picks its volumes until its record names them, while a start mounts
      or an exit unmounts a volume's filesystem, and while ``volume rm``,
      ``volume prune``, ``volume create`` or ``rm -v`` decide and delete.
      So a volume is never deleted between a create choosing it and its
      record saying so (one lock: volumes are few, and these moments short).

    Order: an image, then its layers; ``collecting`` before a layer; a
    container's lock before ``volumes``.
    """

    images: KeyedLocks = field(default_factory=lambda: KeyedLocks("image"))
    layers: KeyedLocks = field(default_factory=lambda: KeyedLocks("layer"))
    collecting: threading.Lock = field(default_factory=threading.Lock)
    volumes: threading.RLock = field(default_factory=threading.RLock)


__all__ = ["KeyedLocks", "StoreLocks"]
