"""``GET /events``: what happened in the daemon, as a stream of JSON lines.

Every state change publishes an event (``container start``, ``die`` ...);
each ``/events`` client gets its own queue.  A client too slow to read loses
events rather than making the daemon wait.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    type: str  # "container", "image"
    action: str  # "create", "start", "die", "destroy", "tag", "delete" ...
    id: str
    attributes: dict
    time_nano: int

    def to_json(self) -> dict:
        return {
            "Type": self.type,
            "Action": self.action,
            "status": self.action,
            "id": self.id,
            "Actor": {"ID": self.id, "Attributes": self.attributes},
            "scope": "local",
            "time": self.time_nano // 10**9,
            "timeNano": self.time_nano,
        }


class EventBus:
    def __init__(self, keep: int = 256):
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue] = []
        self._recent: list[Event] = []
        self._keep = keep

    def publish(self, type_: str, action: str, id_: str, attributes: dict) -> None:
        event = Event(type_, action, id_, dict(attributes), time.time_ns())
        with self._lock:
            self._recent = (self._recent + [event])[-self._keep :]
            subscribers = list(self._subscribers)
        for q in subscribers:
            try:
                q.put_nowait(event)
            except queue.Full:
                pass

    def subscribe(self, since_nano: int | None = None) -> tuple[queue.Queue, list[Event]]:
        q: queue.Queue = queue.Queue(maxsize=1024)
        with self._lock:
            self._subscribers.append(q)
            past = [e for e in self._recent if since_nano is not None and e.time_nano >= since_nano]
        return q, past

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)
