"""The threads that serve connections (core/http_server/workers.py): a
connection never waits for another to end, a thread is used again once
idle, and an idle thread ends after its time."""

from __future__ import annotations

import threading
import time

from stepbox.core.http_server.workers import Workers


def _threads(name: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name == f"{name} worker")


def test_jobs_run_side_by_side():
    """Twenty jobs that each wait for all the others: they end only if every
    one has a thread of its own at once (none queued behind a busy one)."""
    workers = Workers("side-by-side")
    everyone = threading.Barrier(21, timeout=20)
    done = []
    for n in range(20):
        workers.run(lambda n=n: (everyone.wait(), done.append(n)))
    everyone.wait()
    deadline = time.monotonic() + 20
    while len(done) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(done) == list(range(20))


def test_an_idle_thread_serves_the_next_job_then_ends():
    workers = Workers("reused", idle_seconds=0.5)
    seen: list[int] = []
    ran = threading.Event()
    workers.run(lambda: (seen.append(threading.get_ident()), ran.set()))
    assert ran.wait(10)
    time.sleep(0.05)  # back to waiting
    ran.clear()
    workers.run(lambda: (seen.append(threading.get_ident()), ran.set()))
    assert ran.wait(10)
    assert seen[0] == seen[1]  # the same thread, not a new one
    assert _threads("reused") == 1
    deadline = time.monotonic() + 10
    while _threads("reused") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _threads("reused") == 0  # ended after half a second idle


def test_a_job_handed_over_as_the_wait_ends_is_run():
    """Jobs given at the moment idle threads give up (a tiny idle time, many
    rounds): every one runs, none is lost between the hand-over and the end."""
    workers = Workers("hand-over", idle_seconds=0.001)
    ran = []
    for n in range(300):
        workers.run(lambda n=n: ran.append(n))
        if n % 7 == 0:
            time.sleep(0.001)
    deadline = time.monotonic() + 20
    while len(ran) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(ran) == list(range(300))
