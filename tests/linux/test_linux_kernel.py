"""LinuxKernel as a whole: availability, busybox, mounts, namespaces of the host."""

from __future__ import annotations

import json
import os
import sys

import pytest
from linux_support import linux_root
from stepbox.backends.linux import describe, unavailable_reason
from stepbox.backends.linux.kernel import is_static_elf

pytestmark = [linux_root, pytest.mark.linux]


def test_available_here_as_root():
    assert unavailable_reason() is None


def test_a_non_root_user_gets_the_rootless_kernel_or_a_reason():
    # Without root the real kernel runs containers rootless (issue 22): a user
    # namespace; nobody has no subordinate IDs, so a single-ID map.  Where the
    # host turns user namespaces off for users without root, the reason says so.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # drop root in a child only
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            reason = unavailable_reason()
            os.write(w, json.dumps([reason, "" if reason else describe()]).encode())
        finally:
            os._exit(0)
    os.close(w)
    reason, described = json.loads(os.read(r, 4096))
    os.close(r)
    os.waitpid(pid, 0)
    if reason is not None:
        assert "user namespace" in reason
    else:
        assert described.startswith("rootless: uid 65534 as root of a user namespace, a single-ID map")


def test_busybox_is_static_and_lists_applets(linux_kernel):
    found = linux_kernel.busybox()
    assert found is not None
    data, applets = found
    assert is_static_elf(data) and {"sh", "ls", "cat", "hostname"} <= set(applets)


def test_static_elf_check():
    assert not is_static_elf(open(sys.executable, "rb").read())  # dynamically linked
    assert not is_static_elf(b"#!/bin/sh\n")


def test_host_view(linux_kernel):
    k = linux_kernel
    me = os.getpid()
    assert k.namespaces.pid_in_namespace(me) == me or k.namespaces.pid_in_namespace(me) > 0
    assert set(k.namespaces.of(me)) >= {"pid", "uts", "mnt", "net"}
    assert k.namespaces.hostname(me) == os.uname().nodename
    assert "lo" in k.namespaces.interfaces(me)
    assert any(m.target == "/" for m in k.mounts(me))
    assert me in {p.pid for p in k.processes.list()}
    assert k.processes.exists(me) and not k.processes.exists(2**22 + 1)
    assert k.name == "linux"
