"""Kernel facts live in one place, core/kernel.

What differs between the backends is declared on the Kernel interface (core
never asks for a backend's name), and what they share -- the capability
list, the check of a layer entry's path, writing a file atomically -- is
defined once, in ``core/kernel``, for both to use.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import pytest
from stepbox.core.kernel import CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES, KernelError, capability_mask
from stepbox.core.kernel.unionfs import entry_parts
from stepbox.core.session import open_session

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_declares_what_differs(backend):
    root = tempfile.mkdtemp(prefix="stepbox-facts-")
    session = open_session(backend, root)
    try:
        kernel = session.kernel
        assert isinstance(kernel.thread_safe, bool)
        assert isinstance(kernel.containers_outlive_program, bool)
        assert kernel.storage_driver and kernel.description
        if backend == "sim":
            assert kernel.cgroup_version() == "2"  # the unified hierarchy only
        else:  # as docker info says it: "2" only where the v2 hierarchy is the whole story
            expected = "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"
            assert kernel.cgroup_version() == expected
    finally:
        session.close()
        shutil.rmtree(root, ignore_errors=True)


def test_core_does_not_ask_which_backend_runs():
    """No `backend == "linux"` and no getattr guess on the kernel in core."""
    switches = re.compile(r"""(backend|\.name)\s*[!=]=\s*["'](linux|sim)["']|getattr\(\s*[\w.]*kernel""")
    found = []
    for dirpath, _dirs, files in os.walk(os.path.join(CHECKOUT, "core")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    found += [f"{path}:{i}" for i, line in enumerate(f, 1) if switches.search(line)]
    assert found == []


def test_the_capability_list_is_defined_once():
    assert len(CAPABILITIES) == 41 and CAPABILITIES[21] == "CAP_SYS_ADMIN"
    assert capability_mask(DOCKER_DEFAULT_CAPABILITIES) == 0xA80425FB  # moby's default CapEff
    with pytest.raises(ValueError, match="CAP_NOPE"):
        capability_mask(["CAP_NOPE"])
    defined = []
    for dirpath, _dirs, files in os.walk(os.path.join(CHECKOUT, "backends")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    if '"CAP_DAC_READ_SEARCH"' in f.read():
                        defined.append(name)
    assert defined == []


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", "", ".", "a//.."])
def test_a_layer_entry_must_stay_inside_its_layer(path):
    with pytest.raises(KernelError, match="stay inside the layer"):
        entry_parts(path)


def test_a_layer_entry_path_is_its_names():
    assert entry_parts("etc/./hosts") == ["etc", "hosts"]
    assert entry_parts("./usr//bin/") == ["usr", "bin"]
