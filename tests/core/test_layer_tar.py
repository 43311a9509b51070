"""Layer tars: round trips, whiteouts, and the escapes that must be refused."""

import io
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.image.layer_tar import UnsafeLayer, read_layer, write_layer
from stepbox.core.kernel import EntryKind, LayerEntry


def make_tar(*members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buf.seek(0)
    return buf


def member(name, type_=tarfile.REGTYPE, data=b"", linkname="", **kw):
    info = tarfile.TarInfo(name)
    info.type = type_
    info.linkname = linkname
    for k, v in kw.items():
        setattr(info, k, v)
    if type_ == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    return info, None


def test_whiteouts_and_opaque_dirs_become_entries():
    entries = read_layer(
        make_tar(
            member("etc/", tarfile.DIRTYPE),
            member("etc/.wh.passwd"),
            member("var/", tarfile.DIRTYPE, mode=0o700),
            member("var/.wh..wh..opq"),
            member(".wh..wh.plnk"),
        )
    )
    by_path = {e.path: e for e in entries}
    assert by_path["etc/passwd"].kind is EntryKind.WHITEOUT
    assert by_path["var"].kind is EntryKind.DIR and by_path["var"].opaque
    assert by_path["var"].mode == 0o700
    assert ".wh..wh.plnk" not in by_path


@pytest.mark.parametrize(
    "members, message",
    [
        ([member("../../etc/passwd", data=b"x")], "climbs out"),
        ([member("a/../../x", data=b"x")], "climbs out"),
        (
            [member("evil", tarfile.SYMTYPE, linkname="/etc"), member("evil/passwd", data=b"x")],
            "through the symlink 'evil'",
        ),
        (
            [member("evil", tarfile.SYMTYPE, linkname="../.."), member("evil/a/b", data=b"x")],
            "symlink escape",
        ),
        ([member("link", tarfile.LNKTYPE, linkname="../../etc/shadow")], "climbs out"),
        ([member("link", tarfile.LNKTYPE, linkname="etc/shadow")], "not a regular file earlier"),
        ([member("sda", tarfile.BLKTYPE, devmajor=8, devminor=0)], "block device"),
        ([member("mem", tarfile.CHRTYPE, devmajor=1, devminor=1)], "character device"),
        ([member("fifo", tarfile.FIFOTYPE)], "FIFO"),
    ],
)
def test_malicious_layers_are_refused_naming_the_entry(members, message):
    with pytest.raises(UnsafeLayer, match=message):
        read_layer(make_tar(*members))


def test_absolute_names_stay_inside():
    [entry] = read_layer(make_tar(member("/etc/hosts", data=b"x")))
    assert entry.path == "etc/hosts"


def test_char_0_0_is_a_whiteout():
    [entry] = read_layer(make_tar(member("gone", tarfile.CHRTYPE, devmajor=0, devminor=0)))
    assert entry.kind is EntryKind.WHITEOUT


def test_truncated_tar_is_refused():
    data = make_tar(member("big", data=b"x" * 5000)).getvalue()
    with pytest.raises(UnsafeLayer):
        read_layer(io.BytesIO(data[:1500]))


def test_not_a_tar_is_refused():
    with pytest.raises(UnsafeLayer, match="not a valid layer tar"):
        read_layer(io.BytesIO(b"hello, not a tar at all" * 30))


names = st.text("abcxyz", min_size=1, max_size=3)


@st.composite
def changesets(draw):
    entries = {}
    for _ in range(draw(st.integers(0, 12))):
        parent = draw(st.sampled_from([""] + [p for p, e in entries.items() if e.kind is EntryKind.DIR]))
        path = f"{parent}/{draw(names)}".lstrip("/")
        if path in entries:
            continue
        kind = draw(st.sampled_from([EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, EntryKind.WHITEOUT]))
        mode = draw(st.sampled_from([0o644, 0o755, 0o600, 0o4755, 0o1777]))
        if kind is EntryKind.FILE:
            entries[path] = LayerEntry(path, kind, mode=mode, data=draw(st.binary(max_size=50)))
        elif kind is EntryKind.DIR:
            entries[path] = LayerEntry(path, kind, mode=mode, opaque=draw(st.booleans()))
        elif kind is EntryKind.SYMLINK:
            entries[path] = LayerEntry(
                path, kind, mode=0o777, link=draw(st.sampled_from(["/etc", "x", "../y"]))
            )
        else:
            entries[path] = LayerEntry(path, kind, mode=0o644)
    files = [p for p, e in entries.items() if e.kind is EntryKind.FILE]
    if files and draw(st.booleans()):
        entries["zz-link"] = LayerEntry(
            "zz-link", EntryKind.HARDLINK, mode=entries[files[0]].mode, link=files[0]
        )
    return list(entries.values())


@given(changesets())
def test_write_then_read_is_the_identity(entries):
    buf = io.BytesIO()
    write_layer(entries, buf)
    buf.seek(0)
    again = read_layer(buf)
    assert sorted(again, key=lambda e: e.path) == sorted(entries, key=lambda e: e.path)


@given(changesets())
def test_writing_is_deterministic(entries):
    a, b = io.BytesIO(), io.BytesIO()
    write_layer(entries, a)
    write_layer(list(reversed(entries)), b)
    assert a.getvalue() == b.getvalue()
