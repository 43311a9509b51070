"""OCI bundles for the runtime tests, and a way to run stepbox-runc (or runc) on them.

A bundle is a directory with ``rootfs/`` (here: the host's static busybox
and its applets) and ``config.json``.  :func:`runc_spec` writes what
``runc spec`` writes (runc 1.1), minus the terminal, so stepbox-runc and runc
get the very same config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

BUSYBOX_PATHS = ("/usr/bin/busybox", "/bin/busybox")
APPLETS = ("sh", "sleep", "echo", "cat", "id", "grep", "ls", "true", "hostname", "mount", "ps")


def static_busybox() -> str | None:
    from stepbox.backends.linux.kernel import is_static_elf

    for path in BUSYBOX_PATHS:
        try:
            with open(path, "rb") as f:
                if is_static_elf(f.read()):
                    return path
        except OSError:
            continue
    return None


def runc_spec(args: list[str]) -> dict:
    """``runc spec`` of runc 1.1, with ``terminal: false`` and every device
    allowed (stepbox-runc has no device cgroup yet: tracker issue 14)."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": True, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


def make_bundle(directory: str, args: list[str], **changes) -> str:
    """A bundle at ``directory`` running ``args``; ``changes`` are applied to
    the config (``cgroups_path="..."`` sets linux.cgroupsPath)."""
    busybox = static_busybox()
    assert busybox is not None
    rootfs = os.path.join(directory, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"), exist_ok=True)
    shutil.copy2(busybox, os.path.join(rootfs, "bin", "busybox"))
    for applet in APPLETS:
        link = os.path.join(rootfs, "bin", applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    config = runc_spec(args)
    if "cgroups_path" in changes:
        config["linux"]["cgroupsPath"] = changes.pop("cgroups_path")
    for key, value in changes.items():
        config[key] = value
    write_config(directory, config)
    return directory


def write_config(bundle: str, config: dict) -> None:
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)


def read_config(bundle: str) -> dict:
    with open(os.path.join(bundle, "config.json")) as f:
        return json.load(f)


def stepbox_runc() -> list[str]:
    """The console script of the interpreter running the tests (its venv)."""
    script = os.path.join(os.path.dirname(sys.executable), "stepbox-runc")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "stepbox.core.runtime.cli"]


@dataclass
class Runtime:
    """One OCI runtime (stepbox-runc or runc) with a root and a log of its own."""

    argv: list[str]
    root: str
    log: str

    def __call__(self, *args: str, stdin=subprocess.DEVNULL, stdout=None, stderr=None, timeout: float = 60):
        out = subprocess.PIPE if stdout is None else stdout
        err = subprocess.PIPE if stderr is None else stderr
        return subprocess.run(
            [*self.argv, "--root", self.root, "--log", self.log, "--log-format", "json", *args],
            stdin=stdin,
            stdout=out,
            stderr=err,
            timeout=timeout,
            check=False,
        )

    def state(self, cid: str) -> dict:
        done = self("state", cid)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def last_error(self) -> str:
        """The message of the last ``"level":"error"`` log line (what containerd's shim reads)."""
        with open(self.log) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        return [line["msg"] for line in lines if line["level"] == "error"][-1]


IS_LINUX_ROOT = sys.platform == "linux" and os.geteuid() == 0


def real_kernel_reason() -> str | None:
    if not IS_LINUX_ROOT:
        return f"stepbox-runc needs the real Linux kernel as root (this host: {sys.platform}, uid {os.geteuid()})"
    if static_busybox() is None:
        return "no static busybox on this host for the bundles' rootfs (apt-get install busybox-static)"
    return None


linux_root = pytest.mark.skipif(real_kernel_reason() is not None, reason=real_kernel_reason() or "")
