"""The volume store: names and options as Docker checks them, what is kept
on disk, filters -- on the simulator's host side (real directories)."""

from __future__ import annotations

import os

import pytest
from stepbox.backends.sim.kernel import SimKernel
from stepbox.core.kernel import Tracer
from stepbox.core.volumes import filters
from stepbox.core.volumes.errors import InvalidFilter, InvalidVolume, NoSuchVolume
from stepbox.core.volumes.store import ANONYMOUS_LABEL, VolumeStore


@pytest.fixture
def store(tmp_path):
    kernel = SimKernel(tracer=Tracer(enabled=False))
    return VolumeStore(str(tmp_path / "volumes"), kernel.host_mounts)


def test_create_is_idempotent_and_kept_on_disk(store, tmp_path):
    volume, created = store.create("data", labels={"a": "b"})
    assert created and volume.labels == {"a": "b"}
    assert os.path.isdir(volume.mountpoint) and volume.mountpoint.endswith("/volumes/data/_data")
    oct_mode = oct(os.stat(volume.mountpoint).st_mode & 0o777)
    assert oct_mode == "0o755"
    again, created = store.create("data", labels={"other": "x"})  # Docker: the existing one, as it is
    assert not created and again.labels == {"a": "b"}
    reopened = VolumeStore(str(tmp_path / "volumes"), store.host)
    assert [v.name for v in reopened.list()] == ["data"]
    assert reopened.get("data").created_at == volume.created_at


def test_names_as_docker_checks_them(store):
    with pytest.raises(InvalidVolume) as e:
        store.create("a/b")
    assert str(e.value) == (
        'create a/b: "a/b" includes invalid characters for a local volume name, only '
        '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'
    )
    for bad in ("x y", "../up", ".hidden", "-dash"):
        with pytest.raises(InvalidVolume):
            store.create(bad)
    assert store.list() == []
    assert store.create("v")[1]  # one character: refused by Docker, accepted here (names.py says why)


def test_local_driver_options(store):
    with pytest.raises(InvalidVolume, match='create vb: invalid option: "bogus"'):
        store.create("vb", options={"bogus": "1"})
    with pytest.raises(InvalidVolume, match='create vt2: missing required option: "device"'):
        store.create("vt2", options={"type": "tmpfs"})
    with pytest.raises(InvalidVolume, match='missing required option: "type"'):
        store.create("vd", options={"device": "/tmp"})
    with pytest.raises(InvalidVolume, match="error looking up volume plugin nosuch"):
        store.create("vn", driver="nosuch")
    volume, _ = store.create("vt", options={"type": "tmpfs", "device": "tmpfs", "o": "size=1m,uid=1000"})
    assert volume.needs_mount and store.size(volume) == -1
    assert [v.name for v in store.list()] == ["vt"]


def test_anonymous_volumes_are_labelled(store):
    volume, _ = store.create(anonymous=True)
    assert len(volume.name) == 64 and volume.labels == {ANONYMOUS_LABEL: ""} and volume.anonymous


def test_remove_and_sizes(store):
    volume, _ = store.create("sized")
    with open(os.path.join(volume.mountpoint, "f"), "wb") as f:
        f.write(b"x" * 1000)
    os.link(os.path.join(volume.mountpoint, "f"), os.path.join(volume.mountpoint, "g"))  # counted once
    assert store.size(volume) == 1000
    store.remove(volume)
    assert not os.path.exists(os.path.dirname(volume.mountpoint))
    with pytest.raises(NoSuchVolume, match="get sized: no such volume"):
        store.get("sized")


def test_an_unfinished_create_is_not_a_volume(store, tmp_path):
    os.makedirs(tmp_path / "volumes" / "half" / "_data")  # a create cut short: no volume.json
    assert store.list() == []
    VolumeStore(str(tmp_path / "volumes"), store.host)
    assert not os.path.exists(tmp_path / "volumes" / "half")


def test_list_filters():
    facts = [
        filters.VolumeFacts("web-data", "local", {"app": "web"}, True),
        filters.VolumeFacts("db", "local", {"app": "db", "tier": ""}, False),
    ]

    def names(raw):
        keep = filters.list_predicate(filters.parse_filters(raw))
        return [f.name for f in facts if keep(f)]

    assert names('{"dangling": {"true": true}}') == ["db"]
    assert names('{"dangling": ["0"]}') == ["web-data"]
    assert names('{"label": ["app=db"]}') == ["db"]
    assert names('{"label": ["tier"]}') == ["db"]
    assert names('{"name": ["web"]}') == ["web-data"]
    assert names('{"name": ["^d"]}') == ["db"]  # a regular expression, as Docker's filters.Match
    with pytest.raises(InvalidFilter, match="Invalid filter 'bogus'"):
        names('{"bogus": ["1"]}')
    with pytest.raises(InvalidFilter, match=r"Invalid filter 'dangling=\[maybe\]'"):
        names('{"dangling": ["maybe"]}')
