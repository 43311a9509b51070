"""HostDirFS: a real directory shown to the simulator -- and nothing outside it.

Every path is resolved inside the directory as openat2(RESOLVE_IN_ROOT)
would: absolute symlinks restart at the directory, ``..`` stops there, and
a symlink swapped in for a directory on the way makes the call fail rather
than lead out."""

from __future__ import annotations

import errno
import os

import pytest
from stepbox.backends.sim.host_dir import HostDirFS
from stepbox.core.kernel import EntryKind


@pytest.fixture
def tree(tmp_path):
    inside = tmp_path / "inside"
    (inside / "sub").mkdir(parents=True)
    (inside / "sub" / "f").write_text("f\n")
    (inside / "etc").mkdir()
    (inside / "etc" / "passwd").write_text("the directory's own passwd\n")
    os.symlink("/", inside / "root")
    os.symlink("/etc/passwd", inside / "pw")
    os.symlink("../../../../../..", inside / "up")
    (tmp_path / "outside").write_text("secret\n")
    return inside


def test_symlinks_resolve_inside(tree):
    fs = HostDirFS(str(tree))
    assert fs.read("/root/etc/passwd") == b"the directory's own passwd\n"
    assert fs.read("/pw") == b"the directory's own passwd\n"
    assert sorted(fs.listdir("/up")) == sorted(os.listdir(tree))  # ".." stops at the top
    with pytest.raises(FileNotFoundError):
        fs.read("/up/outside")
    assert fs.lstat("/root").kind is EntryKind.SYMLINK and fs.stat("/root").kind is EntryKind.DIR
    fs.write("/root/made-through-a-link", b"x")
    assert (tree / "made-through-a-link").read_bytes() == b"x" and not os.path.exists("/made-through-a-link")
    assert fs.readlink("/pw") == "/etc/passwd"


def test_a_symlink_swapped_in_on_the_way_fails_instead_of_leading_out(tree):
    fs = HostDirFS(str(tree))
    walked = fs._resolve("/sub/f", follow_last=True)  # what the checks saw
    os.rename(tree / "sub", tree / "sub.old")
    os.symlink("/etc", tree / "sub")  # then someone swaps the directory for a link
    with pytest.raises(OSError) as e:
        fd = fs._open(walked[:-1] + ["passwd"], os.O_RDONLY, "/sub/passwd")
        os.close(fd)
    assert e.value.errno in (errno.ELOOP, errno.ENOTDIR)


def test_names_on_the_directory_itself(tree):
    fs = HostDirFS(str(tree))
    fs.mkdir("/new", 0o700)
    fs.symlink("../sub/f", "/new/l")
    fs.link("/sub/f", "/new/hard")
    fs.rename("/new/hard", "/new/moved")
    assert fs.read("/new/l") == b"f\n" and fs.lstat("/new/moved").nlink == 2
    fs.chmod("/new/moved", 0o600)
    fs.set_mtime("/new/l", 1_000_000.0)
    assert os.lstat(tree / "new" / "l").st_mtime == 1_000_000.0
    assert oct(os.stat(tree / "sub" / "f").st_mode & 0o777) == "0o600"
    fs.unlink("/new/moved")
    fs.unlink("/new/l")
    fs.rmdir("/new")
    with pytest.raises(OSError) as e:
        fs.unlink("/")
    assert e.value.errno == errno.EBUSY
