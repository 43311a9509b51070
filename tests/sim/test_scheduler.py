"""The scheduler: virtual time, deterministic order, blocking, wait()."""

from __future__ import annotations

import signal
import time

import pytest
from sim_kernel_helpers import Box, boot, say
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.processes import ExitStatus


@pytest.fixture
def k():
    return boot()


def test_sleep_takes_virtual_time_only(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        t0 = sys.time()
        yield from sys.sleep(3600)
        return int(sys.time() - t0)

    start = k.sched.now
    assert box.run(prog) == ExitStatus(3600 & 0xFF)
    assert k.sched.now - start >= 3600 * 1_000_000


def test_sleepers_wake_in_deadline_order(k, tmp_path):
    box = Box(k, tmp_path)

    def sleeper(seconds, tag):
        def prog(sys):
            yield from sys.sleep(seconds)
            say(sys, tag)
            return 0

        return prog

    def init(sys):
        for seconds, tag in ((3, "c"), (1, "a"), (2, "b")):
            sys.fork(sleeper(seconds, tag))
        for _ in range(3):
            yield from sys.waitpid(-1)
        return 0

    assert box.run(init).code == 0
    assert box.stdout() == "abc"


def _interleaving(tmp_path):
    tmp_path.mkdir()
    k = boot()
    box = Box(k, tmp_path)

    def worker(tag):
        def prog(sys):
            for i in range(3):
                say(sys, f"{tag}{i} ")
                yield from sys.sched_yield()
            return 0

        return prog

    def init(sys):
        for tag in "xyz":
            sys.fork(worker(tag))
        for _ in range(3):
            yield from sys.waitpid(-1)
        return 0

    box.run(init)
    return box.stdout()


def test_run_order_is_deterministic_round_robin(tmp_path):
    first = _interleaving(tmp_path / "a")
    assert first == "x0 y0 z0 x1 y1 z1 x2 y2 z2 "
    assert _interleaving(tmp_path / "b") == first


def test_wait_with_timeout_stops_at_the_virtual_deadline(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        yield from sys.sleep(100)
        return 0

    h = box.exec(prog)
    start = k.sched.now
    assert h.wait(timeout=5) is None
    assert k.sched.now == start + 5_000_000
    assert h.wait() == ExitStatus(0)


def test_sleep_infinity_waited_forever_is_a_deadlock(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        yield from sys.sleep(float("inf"))

    h = box.exec(prog)
    t = time.monotonic()
    with pytest.raises(KernelError, match="deadlock"):
        h.wait()
    assert time.monotonic() - t < 60  # it did not actually wait (sanity, not timing)
    assert h.wait(timeout=1) is None


def test_burn_uses_cpu_and_moves_the_clock(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        yield from sys.burn(50_000)
        return 0

    start = k.sched.now
    box.run(prog)
    assert box.proc.cpu_usec >= 50_000
    assert k.sched.now - start >= 50_000


def test_a_handled_signal_interrupts_a_blocking_call(k, tmp_path):
    box = Box(k, tmp_path)
    seen = []

    def child(sys):
        yield from sys.sleep(1000)
        return 0

    def init(sys):
        sys.signal(signal.SIGUSR1, seen.append)
        sys.fork(child)
        try:
            yield from sys.waitpid(-1)
        except InterruptedError:
            seen.append("EINTR")
        return 0

    h = box.exec(init)
    h.wait(timeout=1)
    h.signal(signal.SIGUSR1)  # init has a handler: delivered
    assert h.wait() == ExitStatus(0)
    assert seen == [signal.SIGUSR1, "EINTR"]


def test_sleep_returns_early_on_a_handled_signal(k, tmp_path):
    box = Box(k, tmp_path)

    def init(sys):
        sys.signal(signal.SIGTERM, lambda s: None)
        t0 = sys.time()
        yield from sys.sleep(1000)
        return int(sys.time() - t0)

    h = box.exec(init)
    h.wait(timeout=2)
    h.signal(signal.SIGTERM)
    assert h.wait().code == 2


def test_a_crashing_program_dies_of_sigsegv_with_a_traceback(tmp_path):
    k = boot()
    k.raise_program_errors = False
    box = Box(k, tmp_path)

    def buggy(sys):
        yield from sys.sleep(1)
        return 1 // 0

    assert box.run(buggy) == ExitStatus(139, signal.SIGSEGV)
    assert "ZeroDivisionError" in box.stderr()


def test_a_crashing_program_raises_in_strict_mode(k, tmp_path):
    box = Box(k, tmp_path)

    def buggy(sys):
        raise RuntimeError("bug")
        yield

    with pytest.raises(KernelError, match="crashed"):
        box.run(buggy)


def test_exit_from_anywhere_and_exit_status_masking(k, tmp_path):
    box = Box(k, tmp_path)

    def prog(sys):
        def deep():
            sys.exit(300)
            yield

        yield from deep()
        return 1

    assert box.run(prog) == ExitStatus(300 & 0xFF)


def test_burning_processes_share_the_cpu_by_time_slices(k, tmp_path):
    box = Box(k, tmp_path)

    def burner(tag):
        def prog(sys):
            for _ in range(3):
                yield from sys.burn(4000)  # one time slice each
                say(sys, tag)
            return 0

        return prog

    def init(sys):
        sys.fork(burner("a"))
        sys.fork(burner("b"))
        for _ in range(2):
            yield from sys.waitpid(-1)
        return 0

    assert box.run(init).code == 0
    assert box.stdout() == "ababab"
