"""save/load and import: round trips, tampered archives, malicious layers, kill -9."""

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time

import pytest
from stepbox.core.image.archive import BadArchive, import_rootfs, load, save
from stepbox.core.image.bootstrap import busybox_entries
from stepbox.core.image.layer_tar import UnsafeLayer, write_layer
from stepbox.core.image.store import BlobDigestMismatch, ImageStore
from stepbox.core.kernel import EntryKind, LayerEntry


def layer(entries):
    buf = io.BytesIO()
    write_layer(entries, buf)
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    s = ImageStore(str(tmp_path / "a"))
    base = s.add_image([layer(busybox_entries(b"BB", ["sh"]))], {"config": {"Cmd": ["sh"]}}, tag="busybox")
    s.add_image(
        [base.layers[0], layer([LayerEntry("bin/sh", EntryKind.WHITEOUT)])],
        {"config": {"Cmd": ["true"]}},
        tag="app:v1",
    )
    return s


def saved(store, *names):
    buf = io.BytesIO()
    save(store, [(store.resolve(n), [n]) for n in names], buf)
    return buf.getvalue()


def rewrite(archive: bytes, change) -> bytes:
    """Copy a tar, letting ``change(name, data)`` return new data (or None to drop)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive)) as src, tarfile.open(fileobj=out, mode="w") as dst:
        for m in src:
            member = src.extractfile(m) if m.isreg() else None
            data = member.read() if member is not None else None
            if data is not None:
                data = change(m.name, data)
                if data is None:
                    continue
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def test_round_trip_keeps_ids_names_and_whiteouts(store, tmp_path):
    other = ImageStore(str(tmp_path / "b"))
    loaded = load(other, io.BytesIO(saved(store, "app:v1", "busybox")))
    assert sorted(loaded) == ["Loaded image: app:v1", "Loaded image: busybox:latest"]
    assert other.resolve("app:v1").id == store.resolve("app:v1").id
    top = other.layer_entries(other.resolve("app:v1").layers[-1])
    assert [(e.path, e.kind) for e in top] == [("bin/sh", EntryKind.WHITEOUT)]


def test_saved_archive_has_docker_and_oci_indexes(store):
    with tarfile.open(fileobj=io.BytesIO(saved(store, "app:v1"))) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= names
    assert manifest[0]["RepoTags"] == ["app:v1"]


def test_a_blob_that_does_not_match_its_digest_loads_nothing(store, tmp_path):
    target = store.resolve("app:v1").layers[-1].removeprefix("sha256:")
    bad = rewrite(
        saved(store, "app:v1"), lambda name, data: data + b"\0" * 512 if name.endswith(target) else data
    )
    other = ImageStore(str(tmp_path / "b"))
    with pytest.raises(BlobDigestMismatch, match="does not match its digest"):
        load(other, io.BytesIO(bad))
    assert other.list() == []
    other.gc()
    assert os.listdir(os.path.join(other.root, "blobs", "sha256")) == []


def test_missing_blob_and_garbage_are_clear_errors(store, tmp_path):
    target = store.resolve("app:v1").layers[-1].removeprefix("sha256:")
    missing = rewrite(saved(store, "app:v1"), lambda name, data: None if name.endswith(target) else data)
    other = ImageStore(str(tmp_path / "b"))
    with pytest.raises(BadArchive, match="lacks blobs/sha256/"):
        load(other, io.BytesIO(missing))
    with pytest.raises(BadArchive, match="not a valid image archive"):
        load(other, io.BytesIO(b"garbage" * 100))
    broken = rewrite(saved(store, "app:v1"), lambda name, data: b"{nope" if name == "manifest.json" else data)
    with pytest.raises(BadArchive, match="not valid JSON"):
        load(other, io.BytesIO(broken))
    assert other.list() == []


def test_a_malicious_layer_is_refused(tmp_path):
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    s = ImageStore(str(tmp_path / "s"))
    with pytest.raises(UnsafeLayer, match="climbs out"):
        import_rootfs(s, io.BytesIO(evil.getvalue()), "evil")
    assert s.list() == []


def test_import_makes_a_one_layer_image(tmp_path):
    s = ImageStore(str(tmp_path / "s"))
    image = import_rootfs(
        s, io.BytesIO(layer(busybox_entries(b"BB", ["ls"]))), "mine:1", "hello", ["CMD [\"ls\"]"]
    )
    assert len(image.layers) == 1 and image.config["config"]["Cmd"] == ["ls"]
    assert image.config["history"][0]["comment"] == "hello"


def test_kill_9_during_load_leaves_the_old_state_or_the_new(store, tmp_path):
    """A real SIGKILL at varying moments of a load; afterwards the store is
    consistent: the index parses and every image it names is complete."""
    archive = tmp_path / "big.tar"
    big = store.add_image(
        [
            store.resolve("busybox").layers[0],
            layer([LayerEntry(f"f{i}", EntryKind.FILE, data=os.urandom(20000)) for i in range(300)]),
        ],
        {"config": {}},
        tag="big",
    )
    buf = io.BytesIO()
    save(store, [(big, ["big"])], buf)
    archive.write_bytes(buf.getvalue())
    target = tmp_path / "victim"
    script = textwrap.dedent(f"""
        from stepbox.core.image.store import ImageStore
        from stepbox.core.image.archive import load
        load(ImageStore({str(target)!r}), open({str(archive)!r}, "rb"))
    """)
    for delay in (0.05, 0.1, 0.2, 0.3, 0.5):
        proc = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        victim = ImageStore(str(target))  # start-up sweeps temporaries
        for image in victim.list():
            for digest in (image.id, image.manifest_digest, *image.layers):
                assert victim.has_blob(digest)
        leftovers = [n for _, _, files in os.walk(target) for n in files if n.startswith(".tmp-")]
        assert leftovers == []
    subprocess.run([sys.executable, "-c", script], check=True)  # uninterrupted, it completes
    assert ImageStore(str(target)).resolve("big").id == big.id
