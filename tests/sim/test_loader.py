"""execvp's PATH search in the simulated loader (backends/sim/loader.py).

``search_and_load`` walks each candidate ``DIR/NAME`` whole, from the
root, and takes its ENOENT / ENOTDIR for "not here"; anything else it
decides again the careful way -- the directory one name at a time, then
the name in it.  These tests generate trees (directories, programs, files
without an x bit, symlinks that dangle or loop, files where a directory
is expected) and PATH values (missing, relative, "//", ".", "..", a
trailing "/"), and check that the one-walk search finds what the careful
resolution of every entry finds -- the same file, or the same error --
in a plain filesystem and in a union mount.
"""

from __future__ import annotations

import errno
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_kernel_helpers import Box, boot, program
from stepbox.backends.sim import loader
from stepbox.backends.sim.namei import path_walk
from stepbox.backends.sim.processes import _Current
from stepbox.core.kernel.errors import ExecFailed

NAMES = ("a", "b", "bin", "p")
_count = itertools.count()


def careful_search(k, proc, name: str, path_env: str):
    """The PATH search entry by entry: each directory resolved a name at a
    time (a missing or unusable one is skipped), then the name in it."""
    table, root = proc.ns.mnt.table, proc.root
    dirs: dict = {}
    for d in path_env.split(":"):
        d = d.rstrip("/") or ("/" if d.startswith("/") else ".")
        try:
            found = None
            if d.startswith("/"):
                at = loader._directory(k, proc, d, dirs)
                if at is None:
                    continue
                found, _missing = path_walk(table, root, at, name, True, False, missing_ok=True)
                if found is None:
                    continue
            return loader.load(k, proc, f"{d.rstrip('/')}/{name}", [name], found=found)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                continue
            raise
    raise OSError(errno.ENOENT, "executable file not found in $PATH")


def outcome(search, k, proc, name, path_env):
    with _Current(k.sched, proc):
        try:
            prog, exe, argv = search(k, proc, name, path_env)
        except OSError as e:
            return ("error", e.errno, e.filename)
    return ("found", prog, exe, argv, id(proc.exe_data))


paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(lambda names: "/" + "/".join(names))
entries = st.lists(
    st.tuples(
        paths,
        st.sampled_from(["dir", "prog", "noexec", "junk", "link"]),
        st.sampled_from(
            ["/a", "/bin", "/a/p", "..", "../bin", "p", "/nowhere/p", "/a/b/p", "/bin/p", "self"]
        ),
    ),
    max_size=10,
)
path_entries = st.one_of(
    paths,
    paths.map(lambda p: p + "/"),
    paths.map(lambda p: p.replace("/", "//", 1)),
    paths.map(lambda p: p + "/."),
    paths.map(lambda p: p + "/.."),
    st.sampled_from(["/", "", ".", "bin", "a/b", "/nowhere"]),
)


def build(k, fs, tree) -> None:
    exe = program(k, lambda sys: 0, "loader-test")
    for path, kind, target in tree:
        parent = path.rsplit("/", 1)[0] or "/"
        if not fs.exists(parent) or fs.exists(path) or fs.lstat(parent).kind.value != "dir":
            continue
        if kind == "dir":
            fs.mkdir(path)
        elif kind == "prog":
            fs.write(path, exe, mode=0o755)
        elif kind == "noexec":
            fs.write(path, exe, mode=0o644)
        elif kind == "junk":
            fs.write(path, b"\x00 not a program", mode=0o755)
        else:
            fs.symlink(path if target == "self" else target, path)


@pytest.mark.parametrize("union", [False, True], ids=["memfs", "overlay"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tree=entries,
    path_env=st.lists(path_entries, min_size=1, max_size=4).map(":".join),
    name=st.sampled_from(["p", "b", "..", "."]),
)
def test_the_one_walk_search_finds_what_the_careful_one_finds(tmp_path, union, tree, path_env, name):
    k = boot()
    box = Box(k, tmp_path, setup=False, busybox=union, name=f"ld{next(_count)}")
    box.enter_rootfs()
    proc = box.proc
    fs = proc.ns.mnt.table.mounts[proc.root[0]].fs
    build(k, fs, tree)
    fast = outcome(lambda k, p, n, e: loader.search_and_load(k, p, [n], e), k, proc, name, path_env)
    careful = outcome(careful_search, k, proc, name, path_env)
    assert fast == careful


def test_a_loop_in_a_path_directory_is_skipped_and_one_in_the_name_is_an_error(tmp_path):
    k = boot()
    box = Box(k, tmp_path, setup=False)
    box.enter_rootfs()
    fs = box.fs
    fs.symlink("/loop", "/loop")  # ELOOP as a directory: skipped, as a missing one
    fs.mkdir("/d")
    fs.symlink("/d/p", "/d/p")  # ELOOP as the name itself: the search stops there
    box.install("/bin/p", lambda sys: 0)
    proc = box.proc
    assert (
        outcome(lambda k, p, n, e: loader.search_and_load(k, p, [n], e), k, proc, "p", "/loop:/bin")[2]
        == "/bin/p"
    )
    assert outcome(lambda k, p, n, e: loader.search_and_load(k, p, [n], e), k, proc, "p", "/d:/bin")[:2] == (
        "error",
        errno.ELOOP,
    )


@pytest.mark.parametrize("union", [False, True], ids=["memfs", "overlay"])
@pytest.mark.parametrize(
    "cwd, error",
    [
        ("/etc/f", 'chdir to cwd ("/etc/f") set in config.json failed: not a directory'),
        ("/nowhere", 'chdir to cwd ("/nowhere") set in config.json failed: no such file or directory'),
        ("/etc/l", None),  # a symlink to a directory is followed
        ("/", None),
    ],
)
def test_the_working_directory_must_be_a_directory(tmp_path, union, cwd, error):
    k = boot()
    box = Box(k, tmp_path, setup=False, busybox=union)
    box.enter_rootfs()
    fs = box.proc.ns.mnt.table.mounts[box.proc.root[0]].fs
    fs.write("/etc/f", program(k, lambda sys: 0, "cwd-test"), mode=0o755)
    fs.symlink("/etc", "/etc/l")
    if error is None:
        box.handle.exec(["/etc/f"], {}, cwd=cwd)
        assert box.proc.cwd[1] == ("/etc" if cwd == "/etc/l" else "/")
    else:
        with pytest.raises(ExecFailed) as failed:
            box.handle.exec(["/etc/f"], {}, cwd=cwd)
        assert (str(failed.value), failed.value.exit_code) == (error, 126)
