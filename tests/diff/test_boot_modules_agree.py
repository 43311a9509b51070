"""The module and root-switching applets in whole containers: the simulator
against the real kernel.

In a container they fail, and how they fail is busybox's and the kernel's:
no /lib/modules in the image, EPERM from init_module, delete_module and
pivot_root (Docker's seccomp profile and capability set), switch_root's
mount-point and PID 1 checks, then its /init check as PID 1.  The kernel
release (the simulator's own) and lsmod's taint (the host's) are normalised:
SIMPLIFICATIONS.md."""

from __future__ import annotations

import os

import pytest
from stepbox.core.confinement.policy import ConfinementFlags

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.diff.test_containers_agree import agree

pytestmark = [pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)]

COMMANDS = """lsmod
modinfo foo
modinfo
modinfo -Z x
modprobe foo
modprobe -r foo
modprobe -l -r x
insmod /tmp/x.ko a=1 b
insmod /nonexist.ko
insmod -v
insmod /tmp/empty
insmod /tmp
insmod
rmmod foo-bar.ko /x/y
rmmod -a
rmmod
depmod
depmod 1.2.3
depmod -b /nonexist
pivot_root /tmp /tmp/d
pivot_root /tmp
switch_root /tmp /bin/sh
switch_root /proc /bin/sh
switch_root /nonexist /bin/sh
run-init -n /proc /bin/sh
run-init -n /tmp /bin/sh
run-init -d bogus /proc /bin/sh
nuke -x /tmp/d /nonexist
"""

# Each command runs, its output and status shown; last, PID 1 itself execs
# switch_root, which gets past the PID check to a container's missing /init.
SCRIPT = (
    "echo hi > /tmp/x.ko; : > /tmp/empty; mkdir -p /tmp/d/e; touch /tmp/d/f\n"
    "printf '%s' \"$COMMANDS\" | while read -r c; do echo \"== $c\"; $c; echo \"-> $?\"; done 2>&1"
    ' | sed "s/$(uname -r)/REL/; s/Used by .*/Used by TAINT/"\n'
    "ls /tmp\n"
    "exec switch_root /proc /bin/sh\n"
)


def test_boot_and_module_applets_in_containers(runtimes):  # noqa: F811
    real = agree(runtimes, SCRIPT, env={"COMMANDS": COMMANDS})
    assert "can't unload module 'foo_bar': Operation not permitted" in real["stdout"]
    assert "pivot_root: (null): Operation not permitted" in real["stdout"]
    assert real["exit"] == 1 and real["stderr"] == "switch_root: '/init' is not a regular file\n"


def test_with_cap_sys_module_the_kernel_answers(runtimes):  # noqa: F811
    # The seccomp profile lets the module calls through: a kernel without
    # loadable modules answers ENOSYS, each applet in its own words.
    script = (
        'echo hi > /tmp/x.ko; insmod /tmp/x.ko; echo "-> $?"; rmmod foo; echo "-> $?"'
        '; rmmod -a; echo "-> $?"; lsmod | sed "s/Used by .*/Used by TAINT/"'
    )
    if os.path.exists("/proc/modules"):
        pytest.skip("this host's kernel has loadable modules: the simulator models one without")
    real = agree(runtimes, script, security=ConfinementFlags(cap_add=("SYS_MODULE",)))
    assert "kernel does not support requested operation" in real["stderr"]
