"""Unpacking a build context sent as a tar (``POST /build``): what a client
sends arrives as it was, and nothing it sends lands outside the context.

The checks are the project's own (those layers get), not tarfile's extraction
filters, which Debian 12's Python (3.11.2) does not have.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile

import pytest
from stepbox.core.dockerfile.context import load_context
from stepbox.core.engine.build import unpack_context
from stepbox.core.engine.errors import BadParameter

MTIME = 1_700_000_000


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644, link: str = ""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, MTIME, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.uid = info.gid = 4321
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_of(*entries, compress: bool = False) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in entries:
            archive.addfile(info, data)
    raw = out.getvalue()
    return io.BytesIO(gzip.compress(raw) if compress else raw)


def a_context():
    return [
        entry("Dockerfile", data=b"FROM busybox\nCOPY . /app\n"),
        entry("run.sh", data=b"#!/bin/sh\necho hi\n", mode=0o755),
        entry("secret", data=b"s3cret", mode=0o600),
        entry("suid", data=b"x", mode=0o4755),
        entry("private", tarfile.DIRTYPE, mode=0o700),
        entry("private/key", data=b"k"),
        entry("deep/er/file", data=b"no directory entries for its parents"),
        entry("passwd-link", tarfile.SYMTYPE, link="/etc/passwd"),
        entry("relative-link", tarfile.SYMTYPE, link="run.sh"),
        entry("hard", tarfile.LNKTYPE, link="run.sh"),
        entry("./", tarfile.DIRTYPE, mode=0o755),
    ]


@pytest.mark.parametrize("compress", [False, True], ids=["tar", "tar.gz"])
def test_a_context_arrives_as_it_was_sent(tmp_path, compress):
    into = tmp_path / "ctx"
    into.mkdir()
    unpack_context(tar_of(*a_context(), compress=compress), str(into))

    def mode(name):
        return stat.S_IMODE(os.lstat(into / name).st_mode)

    assert (into / "Dockerfile").read_bytes() == b"FROM busybox\nCOPY . /app\n"
    assert (mode("run.sh"), mode("secret"), mode("private")) == (0o755, 0o600, 0o700)
    assert mode("suid") == 0o755  # no setuid file on the daemon's disk
    assert (into / "private" / "key").read_bytes() == b"k"
    assert (into / "deep" / "er" / "file").exists() and mode("deep") == 0o755
    # symlinks as they are, wherever they point (the builder never follows them)
    assert os.readlink(into / "passwd-link") == "/etc/passwd"
    assert os.readlink(into / "relative-link") == "run.sh"
    assert os.stat(into / "hard").st_ino == os.stat(into / "run.sh").st_ino
    assert os.lstat(into / "secret").st_mtime == MTIME and os.lstat(into / "private").st_mtime == MTIME

    context = load_context(str(into))
    assert context.files["passwd-link"].kind == "symlink"
    assert context.files["private"].mode == 0o700
    assert context.files["hard"].data == b"#!/bin/sh\necho hi\n"


@pytest.mark.parametrize(
    "entries, complaint",
    [
        ([entry("../escape", data=b"x")], "'../escape' climbs out of the build context"),
        ([entry("a/../../escape", data=b"x")], "climbs out of the build context"),
        (
            [entry("evil", tarfile.SYMTYPE, link="OUTSIDE"), entry("evil/planted", data=b"x")],
            "would be written through the symlink 'evil'",
        ),
        (
            [entry("hl", tarfile.LNKTYPE, link="../../etc/shadow")],
            "climbs out of the build context",
        ),
        (
            [entry("s", tarfile.SYMTYPE, link="OUTSIDE/f"), entry("hl", tarfile.LNKTYPE, link="s")],
            "hardlink to 's', which is not a regular file earlier",
        ),
        ([entry("hl", tarfile.LNKTYPE, link="later")], "hardlink to 'later'"),
        ([entry("null", tarfile.CHRTYPE)], "'null' is a character device"),
        ([entry("fifo", tarfile.FIFOTYPE)], "'fifo' is a FIFO"),
    ],
    ids=[
        "dotdot",
        "dotdot-inside",
        "through-symlink",
        "hardlink-out",
        "hardlink-to-symlink",
        "hardlink-to-nothing",
        "device",
        "fifo",
    ],
)
def test_a_hostile_context_is_refused_by_name(tmp_path, entries, complaint):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f").write_bytes(b"keep")
    into = tmp_path / "ctx"
    into.mkdir()
    fixed = []
    for info, data in entries:  # point the links at a real directory outside the context
        info.linkname = info.linkname.replace("OUTSIDE", str(outside))
        fixed.append((info, data))
    with pytest.raises(BadParameter) as raised:
        unpack_context(tar_of(*fixed), str(into))
    assert "the build context cannot be unpacked" in str(raised.value)
    assert complaint in str(raised.value)
    assert sorted(os.listdir(outside)) == ["f"] and (outside / "f").read_bytes() == b"keep"
    assert not (tmp_path / "escape").exists()


def test_a_directory_in_place_of_a_symlink_is_a_new_directory_not_the_symlinks_target(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    into = tmp_path / "ctx"
    into.mkdir()
    unpack_context(
        tar_of(
            entry("d", tarfile.SYMTYPE, link=str(outside)),
            entry("d", tarfile.DIRTYPE, mode=0o755),
            entry("d/planted", data=b"x"),
        ),
        str(into),
    )
    assert os.listdir(outside) == []
    assert not os.path.islink(into / "d") and (into / "d" / "planted").read_bytes() == b"x"


def test_the_last_entry_of_a_name_wins_as_with_tar(tmp_path):
    into = tmp_path / "ctx"
    into.mkdir()
    unpack_context(
        tar_of(entry("f", data=b"first"), entry("f", tarfile.SYMTYPE, link="x"), entry("f", data=b"last")),
        str(into),
    )
    assert not os.path.islink(into / "f") and (into / "f").read_bytes() == b"last"


def test_garbage_is_not_a_tar(tmp_path):
    with pytest.raises(BadParameter, match="not a valid tar archive"):
        unpack_context(io.BytesIO(b"this is not a tar" * 100), str(tmp_path))
