"""Threads that serve connections, kept for the next connection once done.

A thread of its own for every connection is the simple way to serve, but
starting one is not free: ``Thread.start`` waits until the new thread has
run, and on a busy daemon it gets the interpreter's lock only after the
threads already running let go of it (up to the switch interval, 5 ms,
each).  The one accepting thread paid that wait for every connection, so
ten ``docker run`` at once -- five connections each -- queued behind it
(issue 18).  Here a connection goes to a thread that is idle if there is
one (a hand-over through a queue, no wait), else to a new thread; a thread
that has been idle for ``IDLE_SECONDS`` ends.  There are never more threads
than connections served at once at the busiest moment.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

IDLE_SECONDS = 60.0

Job = Callable[[], None]


class Workers:
    def __init__(self, name: str, idle_seconds: float = IDLE_SECONDS):
        self.name = name
        self.idle_seconds = idle_seconds
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        # Threads waiting for a job, less the jobs handed to them and not yet
        # taken.  Changed, and jobs put, under the lock: a thread that stops
        # waiting at its timeout takes a job put meanwhile instead of ending.
        self._idle = 0
        self._lock = threading.Lock()

    def run(self, job: Job) -> None:
        """Run ``job`` on an idle thread, or on a new one."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(target=self._work, args=(job,), name=f"{self.name} worker", daemon=True).start()

    def _work(self, job: Job | None) -> None:
        while job is not None:
            job()
            del job  # nothing of the last connection stays alive while idle
            job = self._next()

    def _next(self) -> Job | None:
        with self._lock:
            self._idle += 1
        try:
            return self._jobs.get(timeout=self.idle_seconds)
        except queue.Empty:
            with self._lock:
                try:
                    return self._jobs.get_nowait()  # handed over as the wait ended
                except queue.Empty:
                    self._idle -= 1
                    return None
