"""The userland's contract with the simulated kernel: which files are a
busybox, and which program an ``execve`` of one runs."""

from __future__ import annotations

import inspect

import pytest
from stepbox.backends.sim.userland import APPLETS, SIM_BUSYBOX, find_program, is_busybox
from stepbox.backends.sim.userland.applet_table import REAL_APPLETS

REQUIRED = (
    "sh ash echo cat ls ps hostname id sleep true false mkdir rm mv cp touch head tail "
    "wc grep env mount kill pwd printf test [ expr seq uname whoami yes stat ln chmod "
    "readlink basename dirname umount ip free nproc dd tee sort uniq cut tr"
).split()
FAKE_ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 64 + b"BusyBox v1.35.0 (Debian) multi-call binary."


def test_sim_busybox_is_recognisable_text():
    assert SIM_BUSYBOX.startswith(b"#!stepbox-sim-busybox\n")
    assert is_busybox(SIM_BUSYBOX) and is_busybox(FAKE_ELF)


@pytest.mark.parametrize("data", [b"", b"#!/bin/sh\necho hi\n", b"\x7fELF not busybox", b"BusyBox v1"])
def test_other_files_are_not_busybox(data):
    assert not is_busybox(data)
    assert find_program(data, "ls") is None


def test_every_required_applet_is_implemented():
    assert set(REQUIRED) <= set(APPLETS)
    assert set(APPLETS) <= set(REAL_APPLETS) | {"usleep"}


@pytest.mark.parametrize("data", [SIM_BUSYBOX, FAKE_ELF])
@pytest.mark.parametrize("argv0", ["ls", "/bin/ls", "./sh", "/usr/bin/["])
def test_applet_by_basename_of_argv0(data, argv0):
    program = find_program(data, argv0)
    assert program is not None and inspect.isgeneratorfunction(program)


def test_busybox_itself_unknown_and_unimplemented_applets():
    assert find_program(SIM_BUSYBOX, "/bin/busybox").__name__ == "busybox_main"
    assert find_program(SIM_BUSYBOX, "fdisk").__name__ == "not_available"
    assert find_program(SIM_BUSYBOX, "nosuchapplet").__name__ == "not_found"


def test_the_stand_in_binary_runs_in_a_container(tmp_path):
    from userland_box import BusyboxBox

    box = BusyboxBox(tmp_path, stand_in=True)
    r = box.sh("head -c 21 /bin/busybox; echo; ls /bin | grep -c .; busybox fdisk; echo $?")
    assert r.stdout == f"#!stepbox-sim-busybox\n{len(APPLETS) + 1}\n127\n"  # + busybox itself
    assert r.stderr == "fdisk: applet not available in the stepbox simulator\n"


def test_each_module_registers_exactly_the_applets_the_table_says():
    import importlib

    from stepbox.backends.sim.userland import applet_table

    for module, names in applet_table.MODULES.items():
        importlib.import_module(f"stepbox.backends.sim.userland.{module}")
        for name in names:
            program = applet_table._TABLE.get(name)
            assert program is not None, f"{module} does not register {name}"
            assert program.__module__.endswith("." + module), (name, program.__module__)
    assert set(applet_table._TABLE) == set(APPLETS)


def test_noexec_and_nofork_are_marks_on_real_applets():
    from stepbox.backends.sim.userland.applet_table import NOEXEC, NOFORK

    assert NOEXEC <= set(REAL_APPLETS) and NOFORK <= set(REAL_APPLETS)
    assert not NOEXEC & NOFORK
