"""Parents, intermediate images, ``history`` rows and layer sizes as docker
shows them (core/image/lineage.py, history.py, layer_tar.content_size).
tests/images/test_listings_vs_docker.py checks the same against dockerd."""

import io

import pytest
from stepbox.core.image.history import history_rows
from stepbox.core.image.layer_tar import content_size, write_layer
from stepbox.core.image.lineage import intermediate_ids, parents
from stepbox.core.image.store import ImageStore
from stepbox.core.kernel import EntryKind, LayerEntry


def layer(*entries: LayerEntry) -> bytes:
    buf = io.BytesIO()
    write_layer(entries, buf)
    return buf.getvalue()


def step(created_by: str, empty: bool = False) -> dict:
    return {
        "created": "2024-01-01T00:00:00Z",
        "created_by": created_by,
        **({"empty_layer": True} if empty else {}),
    }


@pytest.fixture
def chain(tmp_path):
    """busybox-like base; a build's steps on it (ENV, RUN) tagged app; a
    commit on app; an image of the same base made elsewhere (history not
    ours); a dangling image."""
    store = ImageStore(str(tmp_path / "images"))
    base_layer = layer(
        LayerEntry("bin", EntryKind.DIR),
        LayerEntry("bin/busybox", EntryKind.FILE, data=b"B" * 1000),
        LayerEntry("bin/sh", EntryKind.HARDLINK, link="bin/busybox"),
    )
    base = store.add_image([base_layer], {"history": [step("base")]}, tag="base")
    env = store.add_image([base_layer], {"history": [step("base"), step("ENV A=1", empty=True)]})
    run = store.add_image(
        [base_layer, layer(LayerEntry("f", EntryKind.FILE, data=b"12345"))],
        {"history": [step("base"), step("ENV A=1", empty=True), step("RUN x")]},
        tag="app",
    )
    commit = store.add_image(
        [
            *run.layers,
            layer(LayerEntry("gone", EntryKind.WHITEOUT), LayerEntry("g", EntryKind.FILE, data=b"xy")),
        ],
        {"history": [*run.config["history"], step("sh -c y")]},
        tag="app:2",
    )
    foreign = store.add_image(
        [base_layer, layer(LayerEntry("h", EntryKind.FILE, data=b"h"))],
        {"history": [step("base"), step("ADD h", empty=True), step("COPY h")]},
        tag="foreign",
    )
    dangling = store.add_image([layer(LayerEntry("d", EntryKind.FILE))], {"history": [step("alone")]})
    return store, dict(base=base, env=env, run=run, commit=commit, foreign=foreign, dangling=dangling)


def test_parents_follow_history_and_layers(chain):
    store, i = chain
    found = parents(store.list())
    assert found == {
        i["env"].id: i["base"].id,
        i["run"].id: i["env"].id,
        i["commit"].id: i["run"].id,
        i["foreign"].id: i["base"].id,
    }


def test_intermediate_images_are_untagged_parents(chain):
    store, i = chain
    assert intermediate_ids(store.list()) == {i["env"].id}  # not the dangling one: it has no child


def test_history_names_the_local_images_and_says_missing_for_the_rest(chain):
    store, i = chain
    rows = history_rows(store, i["commit"])
    assert [(r["Id"], r["CreatedBy"], r["Size"]) for r in rows] == [
        (i["commit"].id, "sh -c y", 2),
        (i["run"].id, "RUN x", 5),
        (i["env"].id, "ENV A=1", 0),
        (i["base"].id, "base", 1000),
    ]
    assert rows[0]["Tags"] == ["app:2"] and rows[2]["Tags"] is None
    foreign = history_rows(store, i["foreign"])
    assert [r["Id"] for r in foreign] == [i["foreign"].id, "<missing>", i["base"].id]


def test_a_layers_size_counts_its_files_once():
    # Not the tar's size: headers, padding, a hardlink's content twice, whiteouts.
    tar = layer(
        LayerEntry("a", EntryKind.FILE, data=b"x" * 700),
        LayerEntry("b", EntryKind.HARDLINK, link="a"),
        LayerEntry("c", EntryKind.SYMLINK, link="a"),
        LayerEntry("gone", EntryKind.WHITEOUT),
        LayerEntry("d", EntryKind.DIR, opaque=True),
    )
    assert content_size(io.BytesIO(tar)) == 700 and len(tar) > 4000
