"""remove_container_dir: the files named are unlinked by name, then the
directory; whatever else is there (a file not named, a subdirectory, a
crash's temporary) is found by reading it -- nothing is left either way."""

from __future__ import annotations

import os

import pytest
from stepbox.core.container.context import CONTAINER_DIR_FILES
from stepbox.core.container.store import remove_container_dir


def make(path, files=(), dirs=()):
    os.mkdir(path)
    for name in files:
        with open(os.path.join(path, name), "w") as f:
            f.write("x")
    for name in dirs:
        os.makedirs(os.path.join(path, name, "deeper"))


@pytest.mark.parametrize(
    "files, dirs",
    [
        (CONTAINER_DIR_FILES, ()),
        (("hostname", "hosts"), ()),  # never started: no logs
        ((), ()),
        ((*CONTAINER_DIR_FILES, "stdout.log.times", ".tmp-config.json.x"), ()),
        (CONTAINER_DIR_FILES, ("sub",)),
        (("stdout.log",), ("hosts",)),  # a named one is a directory
    ],
)
@pytest.mark.parametrize("names", [CONTAINER_DIR_FILES, ()])
def test_nothing_is_left(tmp_path, files, dirs, names):
    path = str(tmp_path / "c")
    make(path, files, dirs)
    remove_container_dir(path, names)
    assert not os.path.lexists(path)
    assert os.listdir(tmp_path) == []


def test_gone_already_is_fine(tmp_path):
    remove_container_dir(str(tmp_path / "gone"), CONTAINER_DIR_FILES)
    assert os.listdir(tmp_path) == []
