"""dpkg-deb on the simulator against REAL busybox: .deb files written here
(an ar archive of debian-binary, control.tar.* and data.tar.* made with
Python's tarfile, gzip/xz/bzip2/plain), listed (-c), their control file
printed (-f), unpacked (-e, -x, -X) and the files compared; usage errors
and broken packages.  Hypothesis writes packages of generated data
members."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile

import pytest
from archive_writers import make_ar
from hypothesis import given, settings
from hypothesis import strategies as st

CONTROL = b"Package: hello\nVersion: 1.0\nArchitecture: all\nDescription: a test\n"


def make_tar(entries, compression: str = "gz") -> bytes:
    """entries: (name, data) -- data None for a directory, a str for a
    symlink's target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.uname, info.gname = 1700000000, "root", "root"
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif isinstance(data, str):
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, data, 0o777
                t.addfile(info)
            else:
                info.size, info.mode = len(data), 0o755 if name.endswith(".sh") else 0o644
                t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    if compression == "gz":
        return gzip.compress(raw)
    if compression == "xz":
        return lzma.compress(raw)
    if compression == "bz2":
        return bz2.compress(raw)
    return raw


def make_deb(data_entries, *, data_comp="xz", control_comp="gz", control=CONTROL) -> bytes:
    ext = {"": "", "gz": ".gz", "xz": ".xz", "bz2": ".bz2"}
    control_tar = make_tar(
        [("./", None), ("./control", control), ("./postinst.sh", b"#!/bin/sh\n")], control_comp
    )
    return make_ar(
        [
            (b"debian-binary", b"2.0\n", {}),
            (b"control.tar" + ext[control_comp].encode(), control_tar, {}),
            (b"data.tar" + ext[data_comp].encode(), make_tar(data_entries, data_comp), {}),
        ]
    )


DATA = [
    ("./", None),
    ("./usr/", None),
    ("./usr/bin/", None),
    ("./usr/bin/hello.sh", b"#!/bin/sh\necho hello\n"),
    ("./usr/share/", None),
    ("./usr/share/doc.txt", b"doc\n" * 100),
    ("./usr/bin/hi", "hello.sh"),
]
FILES = {
    "/work/h.deb": make_deb(DATA),
    "/work/gz.deb": make_deb(DATA, data_comp="gz", control_comp=""),
    "/work/bz.deb": make_deb(DATA, data_comp="bz2", control_comp="xz"),
    "/work/plain.deb": make_deb(DATA, data_comp=""),
    "/work/zst.deb": make_ar([(b"debian-binary", b"2.0\n", {}), (b"data.tar.zst", b"whatever", {})]),
    "/work/broken.deb": make_deb(DATA)[:400],
}
LS = "find . | sort | xargs ls -ldn | sed 's/ [A-Z][a-z][a-z] .[0-9] [0-9:]* / /'"

CASES = [
    "dpkg-deb -c h.deb; echo $?; dpkg-deb -c gz.deb; dpkg-deb -c bz.deb; dpkg-deb -c plain.deb; "
    "dpkg-deb -c zst.deb; echo $?; cat h.deb | dpkg-deb -c -",
    "dpkg-deb -f h.deb; echo $?; dpkg-deb -f gz.deb; dpkg-deb -f bz.deb",
    "dpkg-deb -e h.deb; echo $?; cd DEBIAN && " + LS + "; cd ..; dpkg-deb -e gz.deb ctl; echo $?; "
    "cat ctl/control; dpkg-deb -e h.deb; echo $?",
    "dpkg-deb -x h.deb out; echo $?; cd out && " + LS + " && cat usr/bin/hi; cd ..; "
    "dpkg-deb -X bz.deb o2; echo $?; dpkg-deb -x plain.deb out; echo $?; dpkg-deb h.deb o3; echo $?; ls o3",
    "dpkg-deb; echo $?; dpkg-deb -c; echo $?; dpkg-deb -x h.deb; echo $?; dpkg-deb -c h.deb d; echo $?; "
    "dpkg-deb -cx h.deb d; echo $?; dpkg-deb -q h.deb; echo $?; dpkg-deb -c nosuch.deb; echo $?; "
    "dpkg-deb -x h.deb a b; echo $?; dpkg-deb -c broken.deb; echo $?; touch f; dpkg-deb -x h.deb f/x; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_dpkg_deb_cases(same, script):
    same(script, files=FILES)


ENTRY = st.tuples(
    st.sampled_from(["./a", "./d/", "./d/b", "./d/e/", "./d/e/c.sh", "./l"]),
    st.binary(max_size=200) | st.sampled_from([b"", b"line\n" * 30]),
)


@settings(max_examples=15, deadline=None)
@given(
    entries=st.lists(ENTRY, min_size=1, max_size=5, unique_by=lambda e: e[0]),
    comp=st.sampled_from(["gz", "xz", ""]),
)
def test_generated_packages(same, entries, comp):
    entries = [("./", None)] + [(n, None if n.endswith("/") else d) for n, d in entries]
    same(
        f"dpkg-deb -c g.deb; dpkg-deb -X g.deb o; echo $?; cd o && {LS} && find . -type f | sort | xargs md5sum",
        files={"/work/g.deb": make_deb(entries, data_comp=comp)},
    )
