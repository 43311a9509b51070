"""KeyedLocks: shared and exclusive holds by key (core/container/locks.py)."""

import threading

import pytest
from stepbox.core.container.locks import KeyedLocks


def test_shared_holds_share_and_an_exclusive_one_waits_for_them():
    locks = KeyedLocks("image")
    order: list[str] = []
    with locks.shared("a"), locks.shared("b"):
        with locks.shared("a"):  # another holder of the same key, at once
            assert locks.held() == ["a", "b"]
        taker = threading.Thread(target=lambda: _hold(locks, "a", order))
        taker.start()
        taker.join(0.2)
        assert taker.is_alive() and order == []  # waits while "a" is shared
        order.append("released")
    taker.join(5)
    assert order == ["released", "exclusive a"]
    assert locks.held() == []  # idle keys are dropped


def test_a_waiting_exclusive_hold_goes_before_new_shared_ones():
    """... and the shared hold that waited for it holds the key afterwards
    (it was once dropped from under it: KeyError at its release)."""
    locks = KeyedLocks()
    order: list[str] = []
    first = locks.shared("k")
    first.__enter__()
    writer = threading.Thread(target=lambda: _hold(locks, "k", order))
    writer.start()
    while not locks._keys["k"].waiting_exclusive:
        threading.Event().wait(0.01)
    reader = threading.Thread(target=lambda: _hold(locks, "k", order, shared=True))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()  # a stream of shared holds cannot starve the exclusive one
    first.__exit__(None, None, None)
    writer.join(5)
    reader.join(5)
    assert order == ["exclusive k", "shared k"]
    assert locks.held() == []
    with locks.shared("k"):  # then waits for a new exclusive hold as for any
        writer = threading.Thread(target=lambda: _hold(locks, "k", order))
        writer.start()
        writer.join(0.2)
        assert writer.is_alive()
    writer.join(5)
    assert order[-1] == "exclusive k" and locks.held() == []


def test_a_hold_is_released_when_its_block_fails():
    locks = KeyedLocks()
    with pytest.raises(RuntimeError), locks.exclusive("x"):
        raise RuntimeError("the body failed")
    with locks.exclusive("x"):  # free again
        assert locks.held() == ["x"]
    assert locks.held() == []


def _hold(locks: KeyedLocks, key: str, order: list[str], shared: bool = False) -> None:
    try:
        with locks.shared(key) if shared else locks.exclusive(key):
            order.append(f"{'shared' if shared else 'exclusive'} {key}")
    except Exception as e:  # the test sees it in the order
        order.append(f"failed: {e!r}")
