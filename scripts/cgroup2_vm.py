#!/usr/bin/env python3
"""Run tests on a cgroup-v2-only kernel: a user-mode-linux VM that shares this host's /.

Most Linux hosts today have cgroup v2 only; the CI machine is hybrid (v1
controllers, an empty cgroup2 tree), so without this the v2 driver would
only ever meet fake trees.  This script boots Debian's user-mode-linux
kernel (the ``user-mode-linux`` package; ``scripts/install.sh`` installs it)
with ``cgroup_no_v1=all``: every controller is on the unified hierarchy, as
on Ubuntu 22.04+, Debian 11+ or Fedora.

* The guest's root is this host's ``/``, shared read-only through UML's
  hostfs -- no root filesystem is built.  The checkout, its venv and the
  Python it was made from are at the same paths in the guest, so the guest
  runs the very interpreter and code the host would.  The guest writes to a
  tmpfs overlaid on that ``/`` (``scripts/vm/guest-init.sh``), never to a
  host file; and the VM itself runs in a mount namespace of its own in which
  every host mount is read-only, except the job directory.  The guest mounts
  tmpfs of its own on /tmp, /var/tmp and /run, as a booted system does; a
  checkout or venv under one of them (a clone in /tmp) is shared into the
  guest at its own path explicitly (``hidden_paths``), the same way.
* The job directory (a temporary directory on the host, mounted into the
  guest at ``/run/job``) carries the job in (``job.sh``: cd, environment,
  pytest) and pytest's output and exit code out.  The guest's console -- the
  job's output as it runs -- is copied to this script's stdout.

Why user-mode-linux and not qemu: on this kind of machine (itself a VM),
``/dev/kvm`` exists but a stock kernel under KVM hangs right after the
BIOS (qemu 7.2 first fails to set MSR 0x10a, IA32_ARCH_CAPABILITIES; without
that CPU flag it stops printing after "Probing EDD"), and qemu's TCG
emulation takes ~18 s just to reach the point where the kernel looks for its
root.  UML reaches its init in ~1.5 s and runs Python at near native speed
(measured figures: README, "Testing on a cgroup-v2-only kernel").

Usage::

    python scripts/cgroup2_vm.py                 # the cgroup tests (ALL_TESTS)
    python scripts/cgroup2_vm.py --ci            # the subset .ci/run runs (CI_TESTS)
    python scripts/cgroup2_vm.py -- tests/linux -k oom -x   # any pytest arguments
    python scripts/cgroup2_vm.py --check         # can it run here? (exit 1 and why if not)

Exit status: pytest's, or 125 when the VM could not run the job.  Needs root
(the VM's mount namespace; the guest's hostfs reads the host as its user).
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_INIT = os.path.join(CHECKOUT, "scripts", "vm", "guest-init.sh")
UML_KERNEL = "linux.uml"  # Debian's user-mode-linux package

# The real-kernel cgroup tests and the cgroup differential tests: the
# controllers (memory and OOM, pids, cpu throttling, the freezer), nested
# groups, and the simulator compared with a v2-only kernel.  (The rest of the
# differential tests compare things UML's kernel has differently from a PC's
# -- no /proc/acpi, no time namespace -- and are not about cgroups.)
CGROUP_DIFFERENTIAL = [
    f"tests/diff/test_containers_agree.py::{name}"
    for name in (
        "test_oom_kill_under_a_memory_limit",
        "test_a_child_oom_killed_leaves_the_shell",
        "test_fork_fails_under_a_pids_limit",
        "test_cpu_quota_throttles",
    )
]
# The device cgroup of a v2 host is a BPF program (issue 14's emitter,
# backends/linux/cgroups/devicefilter.py): the program against the model, and a
# whole container confined by one.
DEVICE_PROGRAM = [
    "tests/linux/test_device_cgroup.py::test_v2_device_program_agrees_with_the_model",
    "tests/linux/test_device_cgroup.py::test_dockers_rules_on_v2",
    "tests/linux/test_linux_confinement.py::test_a_container_whose_devices_are_a_bpf_program",
]
ALL_TESTS = [
    "tests/linux/test_linux_cgroups.py",
    "tests/linux/test_cgroup_drivers_fake.py",
    "tests/linux/test_linux_lifecycle.py",
    "tests/linux/test_rootless.py",  # rootless, with a delegated subtree: OOM as a user
    *DEVICE_PROGRAM,
    *CGROUP_DIFFERENTIAL,
]
# What .ci/run runs (see the README for its time): the cgroup files, the
# lifecycle's limit tests, the device program and the differential ones.
CI_TESTS = [
    "tests/linux/test_linux_cgroups.py",
    *(
        f"tests/linux/test_linux_lifecycle.py::{name}"
        for name in (
            "test_oom_killer_kills_inside_the_memory_limit",
            "test_pids_limit_stops_a_fork_loop",
            "test_cpu_quota_throttles",
            "test_freeze_and_thaw",
            "test_user_namespace_root_is_an_unprivileged_host_uid",
        )
    ),
    "tests/linux/test_rootless.py::test_oom_in_a_delegated_subtree",
    *DEVICE_PROGRAM,
    *CGROUP_DIFFERENTIAL,
]


# The guest mounts a tmpfs of its own on each of these (scripts/vm/guest-init.sh),
# as a booted system would; the host's files there are out of its sight.
HIDDEN = ("/tmp", "/var/tmp", "/run")


def hidden_paths() -> list[str]:
    """What the guest must see but would not: the checkout, its venv and the
    Python the venv was made from, where they are under one of HIDDEN (a
    clone in /tmp, say).  The guest mounts each at its own path (shared
    from the host, with a tmpfs overlay for writes, as its /)."""
    needed = {
        os.path.realpath(path)
        for path in (
            CHECKOUT,
            sys.prefix,
            sys.base_prefix,
            os.path.dirname(os.path.realpath(sys.executable)),
        )
    }
    under_hidden = [p for p in needed if any(p == h or p.startswith(h + "/") for h in HIDDEN)]
    # One mount covers what lies inside it (a venv inside its checkout).
    shares: list[str] = []
    for path in sorted(under_hidden):
        if not any(path.startswith(outer + "/") for outer in shares):
            shares.append(path)
    return shares


def unavailable_reason() -> str | None:
    if sys.platform != "linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (the VM runs in a mount namespace of its own)"
    if shutil.which(UML_KERNEL) is None:
        return f"no {UML_KERNEL} (apt-get install user-mode-linux)"
    if shutil.which("unshare") is None:
        return "no unshare(1) (util-linux)"
    for path in hidden_paths():
        if path in HIDDEN:
            return f"the checkout or its Python is {path} itself, which the guest replaces with its own tmpfs"
        # The guest names each in a mount option (hostfs's host path,
        # overlayfs's dirs), where a comma or a blank would split it.
        if re.search(r"[,:\s\\]", path):
            return (
                f"{path} is under one of {', '.join(HIDDEN)}, where the guest must mount it"
                " explicitly, and its name has a character mount options cannot carry"
            )
    return None


def write_job(job_dir: str, pytest_args: list[str]) -> None:
    """The guest's job: run pytest from the checkout with this interpreter."""
    keep = ("HYPOTHESIS_PROFILE", "CI", "PYTHONHASHSEED")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    # The venv's bin first, as the tests expect of the one that runs them.
    env["PATH"] = (
        os.path.dirname(sys.executable) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    )
    env["HOME"] = "/root"
    env["TMPDIR"] = "/tmp"
    lines = [
        "set -u",
        f"cd {shlex.quote(CHECKOUT)}",
        *(f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())),
        'echo "guest: python $(python -c "import sys; print(sys.version.split()[0])") at $(command -v python)"',
        'echo "guest: cgroup layout $(python -c "from stepbox.backends.linux.cgroups.detect import detect_layout; print(detect_layout().mode)")"',
        " ".join(shlex.quote(a) for a in [sys.executable, "-m", "pytest", *pytest_args]),
        "echo $? > /run/job/exit-code",
    ]
    with open(os.path.join(job_dir, "job.sh"), "w") as f:
        f.write("\n".join(lines) + "\n")
    # Read by guest-init.sh before it pivots: host paths to mount at the same
    # place in the guest, one a line.
    with open(os.path.join(job_dir, "shares"), "w") as f:
        f.write("".join(f"{path}\n" for path in hidden_paths()))


def read_only_host(job_dir: str, scratch: str) -> str:
    """Shell for the VM's mount namespace: every host mount read-only
    (a bind remount changes this namespace's view only), except the job
    directory and the scratch tmpfs that holds the VM's memory file."""
    targets = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            targets.append(target)
    lines = [
        f"mount --bind {shlex.quote(job_dir)} {shlex.quote(job_dir)}",
        f"mount -t tmpfs -o mode=700 stepbox-vm {shlex.quote(scratch)}",
    ]
    for target in targets:
        # Some mounts are hidden under others or cannot be reached; those
        # stay as they were (none of them is where the guest's / comes from).
        lines.append(f"mount -o remount,bind,ro {shlex.quote(target)} 2>/dev/null || true")
    lines.append(f"mount -o remount,bind,rw {shlex.quote(job_dir)}")
    lines.append("mount -o remount,bind,ro / || exit 125")
    return "\n".join(lines)


def run_vm(pytest_args: list[str], memory: str, timeout: float) -> int:
    reason = unavailable_reason()
    if reason:
        print(f"cgroup2_vm: cannot run the VM here: {reason}", file=sys.stderr)
        return 125
    job_dir = tempfile.mkdtemp(prefix="stepbox-vm-job-")
    scratch = tempfile.mkdtemp(prefix="stepbox-vm-mem-")
    try:
        write_job(job_dir, pytest_args)
        kernel_args = [
            f"mem={memory}",
            "root=/dev/root",
            "rootfstype=hostfs",
            "rootflags=/",
            "ro",
            f"init={GUEST_INIT}",
            "cgroup_no_v1=all",  # the point of it all: cgroup v2 only
            "loglevel=2",  # OOM kills are warnings: keep them off the console
            f"stepbox.job={job_dir}",
            f"uml_dir={scratch}",  # UML's pid file and socket: not in the read-only ~/.uml
            "con=null",
            "con0=fd:0,fd:1",
        ]
        boot = shlex.join([UML_KERNEL, *kernel_args])
        script = read_only_host(job_dir, scratch) + f"\nexport TMPDIR={shlex.quote(scratch)}\nexec {boot}\n"
        started = time.monotonic()
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-ec", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = _copy_console(proc, started + timeout)
        elapsed = time.monotonic() - started
        code_file = os.path.join(job_dir, "exit-code")
        if timed_out:
            print(f"cgroup2_vm: gave up after {timeout:.0f} s; the VM was killed", file=sys.stderr)
            return 125
        if not os.path.exists(code_file):
            print(
                f"cgroup2_vm: the VM ended (status {proc.returncode}) without the job's exit code",
                file=sys.stderr,
            )
            return 125
        with open(code_file) as f:
            code = int(f.read().strip() or 125)
        print(f"cgroup2_vm: the VM ran for {elapsed:.1f} s; pytest exited {code}")
        return code
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_console(proc: subprocess.Popen, deadline: float) -> bool:
    """Copy the guest's console to our stdout until the VM ends; kill it
    (its whole session: UML runs a host process per guest process) at the
    deadline.  True if it had to be killed.  UML's own start-up chatter
    (what it checks on the host) is shown only if the guest never says a
    word."""
    assert proc.stdout is not None
    out = sys.stdout.buffer
    held: list[bytes] | None = []  # the lines before the guest's first
    pending = b""
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.killpg(proc.pid, 9)
            proc.wait()
            timed_out = True
            break
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 5.0))
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            proc.wait()
            break
        pending += chunk.replace(b"\r\n", b"\n")
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if held is not None and not line.startswith(b"guest: "):
                held.append(line)
                continue
            held = None
            out.write(line + b"\n")
        out.flush()
    if held:
        out.write(b"\n".join(held) + b"\n")
    out.write(pending)
    out.flush()
    return timed_out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memory", default="2G", help="the guest's memory (UML mem=), default 2G")
    parser.add_argument("--timeout", type=float, default=600.0, help="kill the VM after this many seconds")
    parser.add_argument("--ci", action="store_true", help="the focused subset .ci/run runs")
    parser.add_argument(
        "--check", action="store_true", help="only say whether the VM can run here (exit 1 and why if not)"
    )
    parser.add_argument(
        "pytest_args", nargs="*", help="after --: pytest's arguments (default: the cgroup tests)"
    )
    args = parser.parse_args(argv)
    if args.check:
        reason = unavailable_reason()
        print(f"cannot run the cgroup-v2 VM here: {reason}" if reason else "the cgroup-v2 VM can run here")
        return 1 if reason else 0
    tests = CI_TESTS if args.ci else ALL_TESTS
    pytest_args = args.pytest_args or [*tests, "-q", "-p", "no:cacheprovider"]
    return run_vm(pytest_args, args.memory, args.timeout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
