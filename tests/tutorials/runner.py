"""Running one tutorial: every block, in order, in a fresh environment.

The environment is a reader's, made private: ``STEPBOX_ROOT`` points the
CLI at a new state directory (so the first ``stepbox`` command starts that
directory's own daemon), ``STEPBOX_BACKEND`` picks the kernel, HOME and TMPDIR
are new too.  Afterwards the daemon is stopped and the directory checked for
anything left (processes, mounts, cgroups) -- then removed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from .blocks import output_matches, parse_blocks
from .sessions import PythonSession, ShellSession


@dataclass
class Failure:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def tutorial_env(work: str, backend: str) -> dict[str, str]:
    home = os.path.join(work, "home")
    for directory in (home, os.path.join(work, "tmp"), os.path.join(work, "cwd")):
        os.makedirs(directory, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STEPBOX_", "DOCKER_", "PYTEST", "COV_"))
    }
    env.update(
        STEPBOX_ROOT=os.path.join(work, "root"),
        # Networking safety: a tutorial's daemon builds no bridge or rule in
        # the host's namespace (tests/network wires networks in their own).
        STEPBOX_BRIDGE="none",
        STEPBOX_BACKEND=backend,
        HOME=home,
        TMPDIR=os.path.join(work, "tmp"),
        XDG_RUNTIME_DIR=os.path.join(work, "tmp"),
        STEPBOX_CONFIG=os.path.join(home, ".stepbox"),
        DOCKER_CONFIG=os.path.join(home, ".docker"),
        MPLCONFIGDIR=os.path.join(home, ".mpl"),
        COLUMNS="120",
        LC_ALL="C.UTF-8",
        # `stepbox` and `python3` are this interpreter's, as for a reader who installed stepbox
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    )
    return env


def run_tutorial(path: str, backend: str, work: str) -> list[Failure]:
    """Run every block of the tutorial at ``path``; what went wrong (empty: nothing)."""
    name = os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
    with open(path, encoding="utf-8") as f:
        blocks = parse_blocks(f.read(), name)
    env = tutorial_env(work, backend)
    cwd = os.path.join(work, "cwd")
    shell = ShellSession(env, cwd)
    python = None
    failures: list[Failure] = []
    try:
        for block in blocks:
            if block.kind == "python":
                python = python or PythonSession(env, cwd)
                output, status = python.run(block.source, f"{name}:{block.line}")
                if status != 0:
                    failures.append(Failure(f"{name}:{block.line}", f"the python block raised:\n{output}"))
                    break
                continue
            for command in block.commands:
                output, status = shell.run(command.text)
                where = f"{name}:{command.line}"
                if status != 0:
                    failures.append(
                        Failure(where, f"$ {command.text}\nexited with status {status}:\n{output}")
                    )
                    break
                actual = [line.rstrip() for line in output.splitlines()]
                while actual and not actual[-1]:
                    actual.pop()
                if command.expected and not output_matches(command.expected, actual):
                    failures.append(
                        Failure(
                            where,
                            f"$ {command.text}\nexpected:\n"
                            + "\n".join(command.expected)
                            + "\ngot:\n"
                            + "\n".join(actual),
                        )
                    )
            if failures:
                break
    finally:
        shell.close()
        if python is not None:
            python.close()
        failures += stop_daemons(env, work)
    return failures


def stop_daemons(env: dict[str, str], work: str) -> list[Failure]:
    """Every daemon a tutorial started -- the one of ``STEPBOX_ROOT``, and any
    other state directory it used (``stepbox --root DIR``) -- tidied away."""
    roots = {env["STEPBOX_ROOT"]}
    for directory, _dirs, files in os.walk(work):
        if "stepbox.sock" in files:
            roots.add(directory)
    failures = []
    for root in sorted(roots):
        failures += stop_daemon(env, root)
    return failures


def stop_daemon(env: dict[str, str], root: str) -> list[Failure]:
    """``stepbox rm -f`` everything, then ``stepbox daemon stop`` -- as a reader
    would tidy up; never starts a daemon that is not running."""
    socket = os.path.join(root, "stepbox.sock")
    if not os.path.exists(socket):
        return []
    stepbox = [sys.executable, "-m", "stepbox"]
    host = ["-H", f"unix://{socket}"]
    listed = subprocess.run(
        [*stepbox, *host, "ps", "-aq"], env=env, capture_output=True, text=True, timeout=120
    )
    if listed.returncode == 0 and listed.stdout.split():
        subprocess.run(
            [*stepbox, *host, "rm", "-f", *listed.stdout.split()], env=env, capture_output=True, timeout=120
        )
    stopped = subprocess.run(
        [*stepbox, "--root", root, "daemon", "stop"], env=env, capture_output=True, text=True, timeout=120
    )
    if stopped.returncode != 0:
        return [Failure("clean-up", f"stepbox daemon stop failed: {stopped.stderr}")]
    return []


def processes_naming(path: str, settle: float = 10.0) -> list[str]:
    """Processes that name ``path`` in their command line (a daemon started
    with ``--root PATH/root``) or work in it (a registry a tutorial started
    in its directory), as ``"pid: command line"``.  After a tutorial there
    must be none; a daemon told to stop may take a moment to exit, so this
    waits up to ``settle`` seconds for the list to empty."""
    deadline = time.monotonic() + settle
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            inside = cwd == path or cwd.startswith(path.rstrip("/") + "/")
            if int(pid) != os.getpid() and (inside or any(path in arg for arg in argv)):
                found.append(f"{pid}: {' '.join(argv).strip()}")
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def kill_processes_naming(path: str) -> None:
    """The last resort of a failed clean-up: SIGKILL what :func:`processes_naming` finds."""
    for entry in processes_naming(path, settle=0):
        try:
            os.kill(int(entry.split(":")[0]), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


__all__ = ["Failure", "kill_processes_naming", "processes_naming", "run_tutorial", "tutorial_env"]
