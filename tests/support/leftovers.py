"""The net under the whole suite: nothing the run made outlives it.

Every test cleans up after itself; this pytest plugin is the net under all of
them.  At the very end of the run (in the xdist controller, once every worker
is done) the suite fails if it left a mount, a stepbox process or a container
cgroup behind.

The machine is not ours alone: a reader's own ``stepbox run -d`` may be alive,
other checkouts may be running their suites at the same time.  So the check
counts only what *this run* made:

* **mounts** -- under the run's own temp directory: at the start the run
  makes one (``/tmp/stepbox-tests-…``) and points ``TMPDIR`` at it, so the
  workers and everything they start make their temp dirs in it (pytest's
  ``tmp_path`` stays in its usual place; its base directory for this run
  counts as ours too);
* **processes** -- stepbox's (the CLI, daemons, the shim launcher and its
  shims, the slirp4netns of rootless containers) or any naming one of the run's
  directories, when they or one of their ancestors carry the run's token in their environment (``TESTRUN_OF_STEPBOX``,
  inherited by everything the run starts; deliberately not ``STEPBOX_*``, which
  the tutorial runner strips) or name one of the run's directories;
* **network** -- an interface with a name stepbox gives (``stepbox0``,
  ``br-<12 hex>``, ``veth<7 hex>``, ``vpeer<7 hex>``) or stepbox's nft table in
  the host's network namespace that was not there when the run began (the
  network tests build theirs in namespaces of their own), and a namespace
  ``/run/netns/stepbox-test-<token>-…`` of this run's;
* **cgroups** -- container cgroups (``…/stepbox/<64 hex>``) that did not exist
  when the run began and hold a process of the run's; or hold none, are still
  there after a while (someone else's may be on its way in or out) and the
  container's ID names something in the run's directories (its state, its
  layers).  An empty cgroup nothing of the run names cannot be told to be the
  run's: it is reported, not counted.

And whatever existed when the run began is never counted: the check takes a
snapshot then (processes by PID and start time, mounts, cgroups).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

TOKEN_VARIABLE = "TESTRUN_OF_STEPBOX"
CGROUP_ROOT = "/sys/fs/cgroup"
_CONTAINER_ID = re.compile(r"[0-9a-f]{64}")


def checks_here() -> bool:
    """The check needs the real kernel as root (only there do tests mount, and make cgroups)."""
    return sys.platform == "linux" and os.geteuid() == 0


# -- what is on the machine ----------------------------------------------------------------


def mount_targets() -> list[str]:
    with open("/proc/mounts") as f:
        return [line.split()[1].replace("\\040", " ") for line in f]


def _read(path: str, binary: bool = False):
    try:
        with open(path, "rb" if binary else "r") as f:
            return f.read()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    return text[text.rfind(")") + 2 :].split()


def process_identity(pid: int) -> tuple[int, str] | None:
    """(PID, start time): a PID alone may be reused by the time the run ends."""
    fields = _stat_fields(pid)
    return None if fields is None else (pid, fields[19])


def parent_of(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else 0


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def command_line(pid: int) -> list[str]:
    raw = _read(f"/proc/{pid}/cmdline", binary=True) or b""
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def container_cgroups() -> list[str]:
    """Every ``…/stepbox/<id>`` cgroup directory, in every hierarchy."""
    found = []
    for base, dirs, _files in os.walk(CGROUP_ROOT):
        depth = os.path.relpath(base, CGROUP_ROOT).count("/") + (base != CGROUP_ROOT)
        if "/stepbox" in base:
            found += [os.path.join(base, d) for d in dirs if _CONTAINER_ID.fullmatch(d)]
        if depth >= 2:  # <hierarchy>/stepbox: its children are the containers
            dirs[:] = []
    return found


def cgroup_members(path: str) -> list[int]:
    text = _read(os.path.join(path, "cgroup.procs")) or ""
    return [int(pid) for pid in text.split()]


# The names stepbox gives interfaces: the default bridge, a user network's
# bridge, the host end of a veth, its peer before it moves into a container.
_OUR_INTERFACES = re.compile(r"stepbox\d*|br-[0-9a-f]{12}|veth[0-9a-f]{7}|vpeer[0-9a-f]{7}")


def network_things() -> list[str]:
    """stepbox's interfaces and nft table in this (the host's) network
    namespace, and the test network namespaces that exist."""
    import subprocess

    found = []
    try:
        names = os.listdir("/sys/class/net")
    except OSError:
        names = []
    found += [f"interface {n} in the host's namespace" for n in names if _OUR_INTERFACES.fullmatch(n)]
    try:
        tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        tables = ""
    found += [
        f"nft {line.strip()} in the host's namespace" for line in tables.splitlines() if "stepbox" in line
    ]
    try:
        found += [
            f"network namespace /run/netns/{n}"
            for n in os.listdir("/run/netns")
            if n.startswith("stepbox-test-")
        ]
    except OSError:
        pass
    return found


def is_stepbox_command(argv: list[str]) -> bool:
    """The ``stepbox`` CLI (or ``stepbox-runc``), ``python -m stepbox…``, the launcher and its shims.
    By the name of the program or module, not by a "stepbox" anywhere: a checkout in
    ``~/stepbox`` puts that word in the path of every interpreter it runs."""
    return any(os.path.basename(arg).startswith("stepbox") for arg in argv[:3])


# Programs the engine starts that are not stepbox: a rootless container's
# user-mode network (stopped at the container's exit).
HELPERS = ("slirp4netns",)


def is_engine_helper(argv: list[str]) -> bool:
    return os.path.basename(argv[0]) in HELPERS


# -- the snapshot and the check -----------------------------------------------------------


@dataclass
class Run:
    """One test run: what was there when it began, and how to recognise what it made."""

    token: str
    own_dirs: list[str]
    processes_before: set[tuple[int, str]] = field(default_factory=set)
    mounts_before: set[str] = field(default_factory=set)
    cgroups_before: set[str] = field(default_factory=set)
    network_before: set[str] = field(default_factory=set)
    unknown_cgroups: list[str] = field(default_factory=list)  # found by leftovers(): empty, not traceable
    settle_seconds: float = 10.0  # how long an empty cgroup of unknown owner may take to go away

    @classmethod
    def begin(cls, token: str, own_dirs: list[str]) -> Run:
        run = cls(token, [os.path.realpath(d) for d in own_dirs])
        run.processes_before = {ident for pid in all_pids() if (ident := process_identity(pid))}
        run.mounts_before = set(mount_targets())
        run.cgroups_before = set(container_cgroups())
        run.network_before = set(network_things())
        return run

    def add_own_dir(self, directory: str) -> None:
        directory = os.path.realpath(directory)
        if directory not in self.own_dirs:
            self.own_dirs.append(directory)

    # -- whose is it? ---------------------------------------------------------------------
    def _names_own_dir(self, text: str) -> bool:
        return any(text == d or (d + "/") in text for d in self.own_dirs)

    def _marked(self, pid: int) -> bool:
        """The run's token in the environment this process started with, or a
        command line naming one of the run's directories."""
        environ = _read(f"/proc/{pid}/environ", binary=True) or b""
        if f"{TOKEN_VARIABLE}={self.token}".encode() in environ.split(b"\0"):
            return True
        return self._names_own_dir(" ".join(command_line(pid)))

    def made_process(self, pid: int) -> bool:
        """This process, or one of its ancestors, was started by the run (a
        container's PID 1 carries the container's environment; its shim carries ours)."""
        seen = set()
        while pid > 1 and pid not in seen:
            if self._marked(pid):
                return True
            seen.add(pid)
            pid = parent_of(pid)
        return False

    def existed_before(self, pid: int) -> bool:
        return process_identity(pid) in self.processes_before

    # -- what the run left ------------------------------------------------------------------
    def leftovers(self) -> dict[str, list[str]]:
        me = os.getpid()
        mounts = [
            target
            for target in mount_targets()
            if target not in self.mounts_before and any(target.startswith(d + "/") for d in self.own_dirs)
        ]
        processes = []
        for pid in all_pids():
            if pid == me or self.existed_before(pid):
                continue
            argv = command_line(pid)
            if not argv:
                continue  # a kernel thread, or gone
            text = " ".join(argv)
            ours = is_stepbox_command(argv) or is_engine_helper(argv) or self._names_own_dir(text)
            if ours and self.made_process(pid):
                processes.append(f"{pid}: {text[:200]}")
        cgroups, self.unknown_cgroups = self._new_cgroups_of_ours()
        network = [
            thing
            for thing in network_things()
            if thing not in self.network_before
            and (not thing.startswith("network namespace") or f"stepbox-test-{self.token[:8]}-" in thing)
        ]
        return {
            k: v
            for k, v in (
                ("mounts", mounts),
                ("processes", processes),
                ("cgroups", cgroups),
                ("network", network),
            )
            if v
        }

    def _new_cgroups_of_ours(self) -> tuple[list[str], list[str]]:
        """The new container cgroups that are the run's; and the empty ones that
        cannot be told to be (reported, not counted)."""
        ours, empty = [], []
        for path in container_cgroups():
            if path in self.cgroups_before:
                continue
            members = cgroup_members(path)
            if not members:
                empty.append(path)
            elif any(self.made_process(pid) for pid in members):
                ours.append(path)
        # An empty cgroup says nothing of who made it.  Someone else's may be
        # just made or about to go (on a loaded machine that takes seconds):
        # those still there after a while are the run's if the container's ID
        # names something in the run's directories (its state, its layers).
        deadline = time.monotonic() + self.settle_seconds
        while empty and time.monotonic() < deadline:
            time.sleep(0.5)
            empty = [p for p in empty if os.path.isdir(p) and not cgroup_members(p)]
        if empty:
            named = self._ids_named_in_own_dirs({os.path.basename(p) for p in empty})
            ours += [f"{p} (empty)" for p in empty if os.path.basename(p) in named]
            empty = [p for p in empty if os.path.basename(p) not in named]
        return ours, empty

    def _ids_named_in_own_dirs(self, ids: set[str]) -> set[str]:
        found = set()
        for directory in self.own_dirs:
            for _base, dirs, files in os.walk(directory):
                found |= {name[:64] for name in dirs + files if name[:64] in ids}
        return found

    def remove_own_temp_dir(self, directory: str) -> None:
        """The run's temp dir, once nothing is mounted under it (never remove
        through a mount: that would empty whatever is mounted there)."""
        directory = os.path.realpath(directory)
        if not any(t == directory or t.startswith(directory + "/") for t in mount_targets()):
            shutil.rmtree(directory, ignore_errors=True)


# -- the pytest hooks (tests/conftest.py imports them) ------------------------------------------

_run: Run | None = None
_temp_dir: str | None = None


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")  # an xdist worker has it; the controller or a lone run has not


def pytest_configure(config):
    """Before any worker starts: the run's temp dir and token, inherited by everything after."""
    global _run, _temp_dir
    if not checks_here() or not _is_controller(config):
        return
    usual = tempfile.gettempdir()
    # pytest's tmp_path stays where it always was (its numbered dirs are kept for a look after a failure)
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", usual)
    _temp_dir = tempfile.mkdtemp(prefix="stepbox-tests-", dir=usual)
    os.chmod(_temp_dir, 0o1777)  # like /tmp: tests that run as another user make dirs in it too
    token = secrets.token_hex(8)
    os.environ["TMPDIR"] = _temp_dir
    os.environ[TOKEN_VARIABLE] = token
    tempfile.tempdir = _temp_dir
    _run = Run.begin(token, [_temp_dir])


def pytest_sessionfinish(session, exitstatus):
    global _run
    if _run is None or not _is_controller(session.config):
        return
    run, _run = _run, None
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None)  # set only if the run used tmp_path
    if basetemp is not None:
        run.add_own_dir(str(basetemp))
    left = run.leftovers()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if run.unknown_cgroups:
        note = "empty container cgroups made during the run, nothing of it names them (not counted):\n"
        note += "\n".join(f"  {p}" for p in run.unknown_cgroups[:20])
        if reporter is not None:
            reporter.write_line(note, yellow=True)
        else:
            print(note, file=sys.stderr)
    if left:
        session.exitstatus = 1
        lines = [f"  {kind}: {item}" for kind, items in left.items() for item in items[:20]]
        message = "the test run left things behind:\n" + "\n".join(lines)
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
    elif _temp_dir is not None:
        run.remove_own_temp_dir(_temp_dir)  # kept when something was left in it, for a look
