from stepbox.core.image.flatten import flatten
from stepbox.core.kernel import EntryKind, LayerEntry

F, D, W, H, S = EntryKind.FILE, EntryKind.DIR, EntryKind.WHITEOUT, EntryKind.HARDLINK, EntryKind.SYMLINK


def paths(entries):
    return {e.path: (e.kind, e.data) for e in entries}


def test_whiteout_deletes_a_subtree():
    base = [LayerEntry("a", D), LayerEntry("a/x", F, data=b"1"), LayerEntry("b", F, data=b"2")]
    assert paths(flatten([base, [LayerEntry("a", W)]])) == {"b": (F, b"2")}


def test_opaque_dir_hides_lower_contents_only():
    base = [LayerEntry("a", D), LayerEntry("a/x", F, data=b"1")]
    top = [LayerEntry("a", D, opaque=True), LayerEntry("a/y", F, data=b"2")]
    assert paths(flatten([base, top])) == {"a": (D, b""), "a/y": (F, b"2")}


def test_file_replacing_dir_drops_its_children():
    base = [LayerEntry("a", D), LayerEntry("a/x", F)]
    assert paths(flatten([base, [LayerEntry("a", F, data=b"now a file")]])) == {"a": (F, b"now a file")}


def test_hardlink_survives_or_becomes_a_file():
    base = [
        LayerEntry("bin", D),
        LayerEntry("bin/busybox", F, data=b"BB"),
        LayerEntry("bin/sh", H, link="bin/busybox"),
    ]
    kept = {e.path: e for e in flatten([base])}
    assert kept["bin/sh"].kind is H and kept["bin/sh"].link == "bin/busybox"
    gone = {e.path: e for e in flatten([base, [LayerEntry("bin/busybox", W)]])}
    assert gone["bin/sh"].kind is F and gone["bin/sh"].data == b"BB"


def test_symlinks_are_kept_as_links():
    [entry] = flatten([[LayerEntry("l", S, link="/etc")]])
    assert (entry.kind, entry.link) == (S, "/etc")
