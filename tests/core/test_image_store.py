import io
import json
import os

import pytest
from stepbox.core.image.bootstrap import busybox_entries
from stepbox.core.image.layer_tar import write_layer
from stepbox.core.image.reference import InvalidReference
from stepbox.core.image.store import BlobDigestMismatch, ImageNotFound, ImageStore, sha256_digest
from stepbox.core.kernel import EntryKind


def layer(entries):
    buf = io.BytesIO()
    write_layer(entries, buf)
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    return ImageStore(str(tmp_path / "images"))


def test_layout_is_oci(store):
    assert os.path.exists(os.path.join(store.root, "oci-layout"))
    assert os.path.exists(os.path.join(store.root, "index.json"))


def test_blob_with_wrong_digest_is_refused_and_not_stored(store):
    with pytest.raises(BlobDigestMismatch, match="expected sha256:0000"):
        store.put_blob(b"hello", expected="sha256:" + "0" * 64)
    assert not store.has_blob(sha256_digest(b"hello"))
    assert [n for n in os.listdir(os.path.join(store.root, "blobs", "sha256"))] == []


def test_add_resolve_and_tag(store):
    tar = layer(busybox_entries(b"#!fake busybox", ["sh", "ls"]))
    image = store.add_image([tar], {"config": {"Cmd": ["sh"]}}, tag="busybox")
    assert image.diff_ids == (sha256_digest(tar),)
    assert store.resolve("busybox").id == image.id
    assert store.resolve("docker.io/library/busybox:latest").id == image.id
    assert store.resolve(image.id).id == image.id
    assert store.resolve(image.short_id).id == image.id
    assert image.tags == ("busybox:latest",)
    with pytest.raises(ImageNotFound, match="No such image: nope:latest"):
        store.resolve("nope")


def test_retagging_moves_the_tag(store):
    a = store.add_image([layer([])], {"config": {"Cmd": ["a"]}}, tag="app")
    b = store.add_image([layer([])], {"config": {"Cmd": ["b"]}}, tag="app")
    assert store.resolve("app").id == b.id
    assert a.id not in {img.id for img in store.list()}


def test_a_tag_that_changes_nothing_writes_nothing(store):
    """A cached rebuild tags its image again: index.json stays the same file
    (no rewrite, no fsync); a tag that does change it is written as ever."""
    image = store.add_image([layer([])], {"config": {"Cmd": ["a"]}}, tag="app")
    index = os.path.join(store.root, "index.json")
    before = os.stat(index)
    store.tag(image, "app")
    store.tag(image, "docker.io/library/app:latest")
    after = os.stat(index)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    store.tag(image, "app:2")
    assert os.stat(index).st_ino != before.st_ino
    assert sorted(store.resolve("app:2").tags) == ["app:2", "app:latest"]


def test_what_resolve_keeps_follows_every_change_of_the_index(store):
    """resolve() keeps what it derives from one version of index.json (the
    digest of each name, each image's tags, the IDs): a tag, an untag or an
    rmi -- here or by another program sharing the store -- is seen at once."""
    a = store.add_image([layer([])], {"config": {"Cmd": ["a"]}}, tag="app")
    b = store.add_image([layer([])], {"config": {"Cmd": ["b"]}}, tag="other")
    assert store.resolve("app").id == a.id and store.has_id(a.id)
    assert store.resolve("app").tags == ("app:latest",)
    store.tag(a, "app:2")
    assert store.resolve("app").tags == ("app:2", "app:latest")
    elsewhere = ImageStore(store.root)  # another program: its own caches
    elsewhere.tag(elsewhere.resolve(b.id), "app")
    assert store.resolve("app").id == b.id
    assert store.resolve("other").tags == ("app:latest", "other:latest")
    assert store.resolve("app:2").tags == ("app:2",)
    elsewhere.untag("app:2")
    with pytest.raises(ImageNotFound):
        store.resolve("app:2")
    assert not store.has_id(a.id)  # its last name gone: out of the index
    elsewhere.delete(elsewhere.resolve(b.id))
    assert not store.has_id(b.id)
    with pytest.raises(ImageNotFound):
        store.resolve("app")
    # image_id() is resolve().id, errors and all
    d = store.add_image([layer([])], {"config": {"Cmd": ["d"]}}, tag="d:1")
    for name in ("d:1", "docker.io/library/d:1", d.id, d.short_id):
        assert store.image_id(name) == d.id == store.resolve(name).id
    for bad, error in (("d", ImageNotFound), ("Not A Name", InvalidReference)):
        with pytest.raises(error):
            store.image_id(bad)
    # Each Image's config is the caller's own: changing one changes no other.
    c = store.add_image([layer([])], {"config": {"Cmd": ["c"]}}, tag="c")
    store.resolve("c").config["config"]["Cmd"].append("changed")
    assert store.resolve("c").config["config"]["Cmd"] == ["c"] == c.config["config"]["Cmd"]


def test_layers_come_back_checked(store):
    entries = busybox_entries(b"BIN", ["sh"])
    image = store.add_image([layer(entries)], {"config": {}}, tag="t")
    got = {e.path: e for e in store.layer_entries(image.layers[0])}
    assert got["bin/sh"].kind is EntryKind.HARDLINK and got["bin/sh"].link == "bin/busybox"
    assert got["tmp"].mode == 0o1777


def test_leftover_temporaries_are_swept(tmp_path):
    root = tmp_path / "images"
    ImageStore(str(root))
    leftover = root / "blobs" / "sha256" / ".tmp-abc"
    leftover.write_bytes(b"half a blob")
    ImageStore(str(root))
    assert not leftover.exists()


def test_each_resolve_gives_its_own_copy_of_the_config(store):
    """The store keeps each config parsed (and marshalled, for copies): what
    one caller changes in its Image's config, nested or not, no other sees."""
    tar = layer(busybox_entries(b"#!fake busybox", ["sh"]))
    config = {
        "config": {"Cmd": ["sh"], "Env": ["A=1"], "Labels": {"k": "v"}, "Memory": 2**70, "Cpu": 0.5},
        "history": [{"empty_layer": True, "comment": None}],
    }
    store.add_image([tar], config, tag="app")
    first = store.resolve("app")
    expected = store.resolve("app").config
    stored = json.loads(store.get_blob(first.id))
    assert first.config == stored and list(first.config["config"]) == list(stored["config"])  # its order
    first.config["config"]["Cmd"].append("-c")
    first.config["config"]["Labels"]["k"] = "changed"
    first.config["history"][0]["comment"] = "mine"
    first.config["added"] = True
    again = store.resolve("app")
    assert again.config == expected
    assert again.config["config"]["Cmd"] == ["sh"] and again.config["config"]["Memory"] == 2**70
    assert again.config is not first.config
    assert again.config["config"]["Env"] is not expected["config"]["Env"]


def test_a_config_marshal_cannot_write_is_copied_by_parsing_again(store, monkeypatch):
    """marshal refuses what is nested deeper than its limit, and Python 3.13's
    json parses deeper than that: such a config is then copied by parsing
    it again, not refused (the refusal made here, whatever the version)."""
    import marshal

    def too_deep(value, *args):
        raise ValueError("object too deeply nested to marshal")

    monkeypatch.setattr(marshal, "dumps", too_deep)
    tar = layer(busybox_entries(b"#!fake busybox", ["sh"]))
    store.add_image([tar], {"config": {"Cmd": ["sh"], "Labels": {"k": "v"}}}, tag="deep")
    first = store.resolve("deep")
    first.config["config"]["Labels"]["k"] = "changed"
    again = store.resolve("deep")
    assert again.config["config"] == {"Cmd": ["sh"], "Labels": {"k": "v"}}
