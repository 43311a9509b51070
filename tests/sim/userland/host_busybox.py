"""The oracle for applet tests: REAL busybox on the real kernel, in a room
that looks like the busybox image.

``HostBusybox(tmp).run(["sh", "-c", script])`` runs the host's static
busybox (the very binary the simulator's image is built from) with
``unshare --pid --ipc --fork --mount-proc --root``: a new PID namespace (the
script is PID 1, ``ps`` sees only it) and IPC namespace, its own /proc, and as root directory
a tree with ``/bin/busybox`` and a hard link per applet, the image's
``/etc/passwd`` and ``/etc/group``, ``/dev/null``, ``/tmp`` and an empty
``/work`` as working directory -- the same paths, users and environment as
:class:`~userland_box.BusyboxBox` gives the simulator.  It costs a few
milliseconds, so Hypothesis can compare hundreds of generated inputs.

What it is not: a whole container.  The hostname, the mount table and the
cgroup are the host's; tests of those run real containers (tests/diff).

:func:`compare` runs one script on both and fails with a readable diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from stepbox.core.image.bootstrap import GROUP, PASSWD
from userland_box import ENV, Result

BUSYBOX = "/bin/busybox"


def unavailable_reason() -> str | None:
    """Why the oracle cannot run here, or None."""
    if not os.path.exists(BUSYBOX):
        return f"no {BUSYBOX} on this host (scripts/install.sh installs busybox-static)"
    if os.geteuid() != 0:
        return "the oracle needs root (unshare --pid --root)"
    if shutil.which("unshare") is None:
        return "no unshare(1) (util-linux)"
    return None


class HostBusybox:
    def __init__(self, tmp: Path) -> None:
        self.root = Path(tmp) / "root"
        bindir = self.root / "bin"
        bindir.mkdir(parents=True)
        binary = bindir / "busybox"
        # A copy of its own (2 MB), not a hard link to the host's busybox: each
        # oracle links ~270 applet names to it, and links to the host's inode
        # piled up in the temp directories pytest keeps until ext4's limit of
        # 65,000 links per inode refused the next one (EMLINK, seen on a machine
        # that had run the suite many times).
        shutil.copy2(BUSYBOX, binary)
        applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
        for name in applets.stdout.split():
            if name != "busybox":
                os.link(binary, bindir / name)
        for d in ("etc", "dev", "proc", "sys", "root", "home", "usr/sbin", "var/spool/mail", "var/www"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        os.mknod(self.root / "dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(self.root / "dev/null", 0o666)
        os.mknod(self.root / "dev/zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
        os.chmod(self.root / "dev/zero", 0o666)
        self.top_level = {p.name for p in self.root.iterdir()} | {"work", "tmp"}

    def _fresh(self, name: str, mode: int) -> Path:
        path = self.root / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        os.chmod(path, mode)
        return path

    def run(
        self,
        argv: list[str],
        *,
        stdin: bytes = b"",
        files: dict[str, bytes] | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> Result:
        self._fresh("work", 0o755)
        self._fresh("tmp", 0o1777)
        # a script may write the user database: every run starts from the image's
        self._fresh("etc", 0o755)
        for extra in [p for p in self.root.iterdir() if p.name not in self.top_level]:
            # what a script made at / (ln -s .. a; ln -s x a/x makes /x)
            if extra.is_dir() and not extra.is_symlink():
                shutil.rmtree(extra)
            else:
                extra.unlink()
        (self.root / "etc/passwd").write_text(PASSWD)
        (self.root / "etc/group").write_text(GROUP)
        for path, data in (files or {}).items():
            dest = self.root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            os.chmod(dest, 0o755 if path.startswith("/bin/") else 0o644)
        # --ipc: SysV objects (syslogd -C's ring) stay in the room, as in a container
        cmd = ["unshare", "--pid", "--ipc", "--fork", "--kill-child", "--mount-proc=/proc"]
        cmd += [f"--root={self.root}", "--wd=/work", *argv]
        proc = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            env=dict(ENV if env is None else env),
            timeout=timeout,
            preexec_fn=_as_a_fresh_shell_starts,
        )
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        return Result(proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"), code)

    def sh(self, script: str, **kw) -> Result:
        return self.run(["sh", "-c", script], **kw)


def compare(host: HostBusybox, box, script: str, *, normalise=None, **kw) -> Result:
    """Run ``script`` under real busybox and on the simulator; their stdout,
    stderr and exit status must be equal (after ``normalise(text)`` if
    given, for what legitimately differs between two runs, such as times).
    Returns the real result."""
    real, sim = host.sh(script, **kw), box.sh(script, **kw)
    got = [(r.stdout, r.stderr, r.status) for r in (real, sim)]
    if normalise is not None:
        got = [(normalise(o), normalise(e), s) for o, e, s in got]
    if got[0] != got[1]:
        report = [f"script: {script!r}"]
        for label, a, b in zip(("stdout", "stderr", "status"), got[0], got[1], strict=True):
            if a != b:
                if isinstance(a, str):
                    diff = difflib.unified_diff(
                        a.splitlines(keepends=True), b.splitlines(keepends=True), "busybox", "sim"
                    )
                    report.append(f"{label}:\n" + "".join(diff))
                else:
                    report.append(f"{label}: busybox {a!r}, sim {b!r}")
        raise AssertionError("\n".join(report))
    return real


def _as_a_fresh_shell_starts() -> None:
    """In the child: umask 022, and SIGINT/SIGQUIT at their defaults -- a program
    started in the background by a shell (a pytest-xdist worker is one) inherits
    them ignored, and an ignored signal stays ignored across exec: the real
    `timeout -s 2 1 sleep 2` then printed 0 where a container's sleep dies of it
    (130), as the simulator's does."""
    os.umask(0o022)
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
