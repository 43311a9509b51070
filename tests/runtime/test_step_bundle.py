"""``stepbox step --bundle DIR``: the OCI runtime's own create, start and
delete plans for a bundle, walked with ``stepbox step``'s walk on the real
kernel -- and nothing left behind, at the end or after ``q``."""

from __future__ import annotations

import glob
import json
import os
import random
import re
import select
import subprocess
import sys
import time

from bundles import linux_root, make_bundle, read_config, write_config
from stepbox.core.runtime import plan
from stepbox.core.runtime.spec import load_bundle
from stepbox.core.runtime.state import RuntimeRecord


def stepbox_argv(tmp_path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The venv's stepbox, its temporary files (the walk's runtime root) in tmp_path/tmp."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    command = os.path.join(os.path.dirname(sys.executable), "stepbox")
    return [command, "--root", str(tmp_path / "state"), *args], dict(
        os.environ, TMPDIR=str(tmp), COLUMNS="200"
    )


def stepbox(tmp_path, *args: str, input: str = "") -> subprocess.CompletedProcess:
    argv, env = stepbox_argv(tmp_path, *args)
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120, env=env)


def read_until(fd: int, wanted: bytes, timeout: float = 60) -> bytes:
    """What ``fd`` gives until ``wanted`` is in it."""
    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], f"{wanted!r} never came: {seen[-2000:]!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"end of output before {wanted!r}: {seen[-2000:]!r}"
        seen += chunk
    return seen


def left_behind(tmp_path, bundle: str, marker: str, output: str) -> list[str]:
    """The walk's cgroups, processes, mounts and runtime root, if any are left."""
    ids = set(re.findall(r"step-[0-9a-f]{12}", output))
    assert len(ids) == 1, ids  # the walk's container, named in its kernel operations
    cid = ids.pop()
    found = glob.glob(f"/sys/fs/cgroup/*/stepbox-runc/{cid}") + glob.glob(
        f"/sys/fs/cgroup/stepbox-runc/{cid}"
    )
    found += os.listdir(tmp_path / "tmp")
    with open("/proc/self/mountinfo") as f:
        found += [line for line in f if bundle in line]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(f"process {pid}")
        except OSError:
            pass  # gone meanwhile
    return found


@linux_root
def test_step_walks_the_runtimes_create_start_and_delete(tmp_path):
    """Run to the end (Enter for each step): the runtime's steps in order,
    create's ending with the process at the gate, start letting it run (its
    output shows), delete --force killing it; then nothing is left."""
    marker = str(random.randint(100000, 999999))
    bundle = make_bundle(
        str(tmp_path / "b"), ["sh", "-c", f"echo hello from the bundle; exec sleep {marker}"]
    )
    spec = load_bundle(bundle)
    steps = plan.step_through_plan(spec, RuntimeRecord("x", bundle, spec.root, "")).steps
    keys = [s.key for s in steps]
    assert keys[:3] == ["state_dir", "cgroup", "spawn"] and keys[-4:] == [
        "start",
        "kill",
        "remove_cgroup",
        "forget",
    ]

    # Enter up to and with start; the rest once the container has printed (a
    # learner reads it before going on: the kill must not come first)
    argv, env = stepbox_argv(tmp_path, "step", "--bundle", bundle)
    walk = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        walk.stdin.write(b"\n" * (keys.index("start") + 1))
        walk.stdin.flush()
        before = read_until(walk.stdout.fileno(), b"hello from the bundle\n")
        out, err = walk.communicate(b"\n" * (len(steps) + 2), timeout=120)
    finally:
        if walk.poll() is None:
            walk.kill()  # a hung walk: the test fails below, the finalizers still run
            walk.wait()
    r = subprocess.CompletedProcess(argv, walk.returncode, (before + out).decode(), err.decode())
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    at = [r.stdout.index(f"Step {i}/{len(steps)}: {s.title}") for i, s in enumerate(steps, 1)]
    assert at == sorted(at), "the steps are shown in the plan's order"
    assert r.stdout.count("Enter: go on") == len(steps)
    # the command runs only after start (its output follows start's "next" prompt)
    assert r.stdout.index("next: Start: let the waiting process") < r.stdout.index("hello from the bundle\n")
    assert "exec.fifo" in r.stdout and "kill(" in r.stdout.split("Kill the container's processes")[-1]
    assert left_behind(tmp_path, bundle, marker, r.stdout) == []


@linux_root
def test_quitting_undoes_what_create_did(tmp_path):
    marker = str(random.randint(100000, 999999))
    bundle = make_bundle(str(tmp_path / "b"), ["sleep", marker])
    # up to and with the mounts: state_dir, cgroup, spawn, hostname, mounts; then q
    r = stepbox(tmp_path, "step", "--bundle", bundle, input="\n" * 5 + "q\n")
    assert r.returncode == 0, r.stderr
    assert "everything done so far was undone" in r.stdout
    undone = r.stdout[r.stdout.index("undone: the kernel operations of the undo") :]
    assert "kill(" in undone and "rmdir(" in undone
    assert left_behind(tmp_path, bundle, marker, r.stdout) == []


def test_bad_bundles_and_flags_are_refused_with_125(tmp_path):
    """No config.json, invalid JSON, a field the runtime does not support, run
    flags beside --bundle, the simulator: one clear line, status 125."""
    bundle = tmp_path / "b"
    (bundle / "rootfs").mkdir(parents=True)
    cases = []
    r = stepbox(tmp_path, "step", "--bundle", str(bundle), "-y")
    cases.append((r, "config.json not found"))
    (bundle / "config.json").write_text("{not json")
    cases.append((stepbox(tmp_path, "step", "--bundle", str(bundle), "-y"), "cannot read"))
    config = {"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/"}, "root": {"path": "rootfs"}}
    config["linux"] = {"intelRdt": {"closID": "x"}}
    write_config(str(bundle), config)
    assert read_config(str(bundle)) == json.loads(json.dumps(config))
    cases.append((stepbox(tmp_path, "step", "--bundle", str(bundle), "-y"), "intelRdt"))
    cases.append((stepbox(tmp_path, "step", "--bundle", str(bundle), "--name", "x"), "--name cannot be used"))
    cases.append(
        (stepbox(tmp_path, "--backend", "sim", "step", "--bundle", str(bundle)), "needs the real kernel")
    )
    for r, said in cases:
        assert r.returncode == 125, (said, r.returncode, r.stderr)
        assert said in r.stderr and "Traceback" not in r.stderr, r.stderr
