"""``docker diff``'s rules (core/container/changes.py) on hand-made layers.

The rules come from Docker's "naive diff" (checked against dockerd by
tests/images/test_diff_vs_docker.py); here each is pinned on its own,
without a kernel, so they are tested on any OS.
"""

from stepbox.core.container.changes import changes_against
from stepbox.core.image.flatten import apply_layer
from stepbox.core.kernel import EntryKind, LayerEntry

D, F, L, H, W = EntryKind.DIR, EntryKind.FILE, EntryKind.SYMLINK, EntryKind.HARDLINK, EntryKind.WHITEOUT


def image(*entries: LayerEntry) -> dict:
    below: dict = {}
    apply_layer(below, entries)
    return below


BASE = image(
    LayerEntry("bin", D),
    LayerEntry("bin/busybox", F, mode=0o755, data=b"BB", mtime=100),
    LayerEntry("bin/cat", H, mode=0o755, link="bin/busybox", mtime=100),
    LayerEntry("etc", D),
    LayerEntry("etc/group", F, data=b"root:x:0:\n", mtime=100),
    LayerEntry("var", D),
    LayerEntry("var/spool", D),
    LayerEntry("var/spool/mail", D),
    LayerEntry("var/spool/mail/old", F, data=b"o"),
    LayerEntry("home", D),
    LayerEntry("tmp", D, mode=0o1777),
)


def test_a_copied_up_hardlink_target_is_no_change():
    upper = [
        LayerEntry("bin", D, mtime=500),
        LayerEntry("bin/cat", F, mode=0o755, data=b"BB", mtime=100),
        LayerEntry("tmp", D, mode=0o1777, mtime=500),
        LayerEntry("tmp/cat", H, mode=0o755, link="bin/cat", mtime=100),
    ]
    assert changes_against(BASE, upper) == [("C", "/tmp"), ("A", "/tmp/cat")]


def test_new_directories_are_added_with_everything_in_them():
    upper = [LayerEntry("a", D), LayerEntry("a/b", D), LayerEntry("a/b/f", F, data=b"x")]
    assert changes_against(BASE, upper) == [("A", "/a"), ("A", "/a/b"), ("A", "/a/b/f")]


def test_a_directory_changes_by_mode_or_owner_not_by_mtime():
    assert changes_against(BASE, [LayerEntry("home", D, mtime=999)]) == []
    assert changes_against(BASE, [LayerEntry("home", D, mode=0o700)]) == [("C", "/home")]
    assert changes_against(BASE, [LayerEntry("home", D, uid=1)]) == [("C", "/home")]


def test_a_file_changes_by_size_mtime_mode_owner_or_type():
    same = LayerEntry("etc/group", F, data=b"root:x:0:\n", mtime=100)
    assert changes_against(BASE, [LayerEntry("etc", D), same]) == []
    for changed in (
        LayerEntry("etc/group", F, data=b"root:x:0:\nx\n", mtime=100),
        LayerEntry("etc/group", F, data=b"root:x:0:\n", mtime=101),
        LayerEntry("etc/group", F, data=b"root:x:0:\n", mtime=100, mode=0o600),
        LayerEntry("etc/group", F, data=b"root:x:0:\n", mtime=100, gid=2),
        LayerEntry("etc/group", L, link="x", mtime=100),
    ):
        assert changes_against(BASE, [LayerEntry("etc", D), changed]) == [("C", "/etc"), ("C", "/etc/group")]


def test_a_time_from_a_tar_has_no_fraction_to_compare():
    # The image's times come from tar headers (whole seconds); a copy-up keeps them.
    assert (
        changes_against(
            BASE, [LayerEntry("etc", D), LayerEntry("etc/group", F, data=b"root:x:0:\n", mtime=100.0)]
        )
        == []
    )
    assert changes_against(image(LayerEntry("f", F, mtime=100.25)), [LayerEntry("f", F, mtime=100.5)]) == [
        ("C", "/f")
    ]


def test_a_whiteout_deletes_only_the_top_name():
    assert changes_against(BASE, [LayerEntry("var", D), LayerEntry("var/spool", W)]) == [
        ("C", "/var"),
        ("D", "/var/spool"),
    ]
    assert changes_against(BASE, [LayerEntry("nothing", W)]) == []  # nothing was there


def test_an_opaque_directory_lists_what_it_lost():
    upper = [LayerEntry("var", D), LayerEntry("var/spool", D, opaque=True), LayerEntry("var/spool/new", D)]
    assert changes_against(BASE, upper) == [
        ("C", "/var"),
        ("C", "/var/spool"),
        ("D", "/var/spool/mail"),
        ("A", "/var/spool/new"),
    ]
    # Made again as it was: docker sees nothing.
    assert changes_against(BASE, [LayerEntry("home", D, opaque=True)]) == []


def test_a_file_over_a_directory_hides_its_contents_without_deleting_them():
    upper = [LayerEntry("var", D), LayerEntry("var/spool", D), LayerEntry("var/spool/mail", F, data=b"")]
    assert changes_against(BASE, upper) == [("C", "/var"), ("C", "/var/spool"), ("C", "/var/spool/mail")]
