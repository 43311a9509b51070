"""How a container is found by what a user types, as dockerd finds it:
full ID, then name, then a unique ID prefix (moby's GetContainer)."""

from __future__ import annotations

import pytest
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.errors import Conflict, NoSuchContainer
from stepbox.core.container.record import ContainerRecord
from stepbox.core.container.store import ContainerStore


def _record(cid: str, name: str) -> ContainerRecord:
    return ContainerRecord(id=cid, name=name, created="", config=ContainerConfig("busybox"), backend="sim")


def test_a_name_wins_over_an_id_prefix_and_an_absent_name_is_a_prefix():
    store = ContainerStore(None)
    store.save(_record("c2" + "0" * 62, "k1"))
    store.save(_record("ab" + "1" * 62, "c2"))
    assert store.find("c2").name == "c2"  # the name, not k1's ID prefix
    assert store.find("ab" + "1" * 62).name == "c2"
    store.delete(store.find("c2"))
    # No container is called c2 now: "c2" is k1's ID prefix -- the trap a
    # test that names its containers c1, c2 ... falls into.
    assert store.find("c2").name == "k1"
    store.save(_record("c2" + "f" * 62, "k2"))
    with pytest.raises(Conflict, match="multiple IDs found with provided prefix: c2"):
        store.find("c2")
    with pytest.raises(NoSuchContainer):
        store.find("k3")
