"""``stepbox-runc``: the OCI runtime command line, as runc has it.

containerd's shim (through go-runc), dockerd (``--add-runtime``) and
conmon call it like this::

    stepbox-runc --root R --log B/log.json --log-format json create --bundle B --pid-file B/init.pid ID
    stepbox-runc ... start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID
    stepbox-runc ... exec --process P.json --detach --pid-file F ID | ps --format json ID
    stepbox-runc ... pause ID | resume ID | update --resources - ID | features | --version

Each verb runs a plan of Steps (``plan.py``) with the one Stepper.  Errors
end the command with status 1 and a log line callers can match.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal as signals
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, NoReturn

from stepbox.core.container.steps import Plan, Stepper
from stepbox.core.kernel import CgroupStats, Kernel, ProcessSettings, Tracer
from stepbox.core.kernel.atomic import atomic_write
from stepbox.core.kernel.backend_lookup import load_backend, unavailable_reason
from stepbox.core.kernel.errors import KernelError
from stepbox.core.kernel.seccomp import SeccompFilter

from . import plan
from .context import OciContext
from .features import features
from .hooks import HookFailed
from .log import RuntimeLog
from .spec import OCI_VERSION, BadConfig, BundleSpec, Unsupported, load_bundle, parse_process
from .state import (
    CREATED,
    DEFAULT_ROOT,
    PAUSED,
    RUNNING,
    STOPPED,
    ContainerNotFound,
    RuntimeRecord,
    RuntimeRoot,
    check_id,
    rfc3339_now,
    state_json,
)


class RuntimeFailure(Exception):
    """A command failed for a reason its caller should read (one log line)."""


class ArgumentError(RuntimeFailure):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentError(f"{self.prog}: {message}")


def version_text() -> str:
    """Three lines as runc prints them: go-runc reads "runc version ",
    "commit: " and "spec: " (docker info shows them)."""
    from importlib import metadata  # here: its import costs every other command ~20 ms

    try:
        ours = metadata.version("stepbox")
    except metadata.PackageNotFoundError:
        ours = "0+unknown"
    return f"runc version stepbox-runc-{ours}\ncommit: stepbox {ours}\nspec: {OCI_VERSION}\n"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="stepbox-runc", description="An OCI runtime: the steps of `stepbox run`, as runc's CLI.")
    p.add_argument("--root", default=DEFAULT_ROOT, help="where container state is kept (default %(default)s)")
    p.add_argument("--log", default="", help="log file (default: stderr)")
    p.add_argument("--log-format", default="text", choices=("text", "json"))
    p.add_argument("--debug", action="store_true", help="log each step and its kernel operations")
    p.add_argument("--systemd-cgroup", action="store_true", help="refused: stepbox drives cgroupfs")
    p.add_argument(
        "--rootless", default="auto", help="true|false|auto (only false/auto: stepbox-runc needs root)"
    )
    p.add_argument("--criu", default="", help="accepted for compatibility; checkpoint/restore are refused")
    p.add_argument("-v", "--version", action="store_true")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    c = sub.add_parser("create")
    c.add_argument("-b", "--bundle", default=".")
    c.add_argument("--pid-file", default="")
    c.add_argument("--console-socket", default="")
    c.add_argument("--no-pivot", action="store_true")
    c.add_argument("--no-new-keyring", action="store_true")
    c.add_argument("--preserve-fds", type=int, default=0)
    c.add_argument("id")
    for name in ("start", "state", "pause", "resume"):
        sub.add_parser(name).add_argument("id")
    k = sub.add_parser("kill")
    k.add_argument("-a", "--all", action="store_true")
    k.add_argument("id")
    k.add_argument("signal", nargs="?", default="SIGTERM")
    d = sub.add_parser("delete")
    d.add_argument("-f", "--force", action="store_true")
    d.add_argument("id")
    e = sub.add_parser("exec")
    e.add_argument("-p", "--process", default="")
    e.add_argument("-d", "--detach", action="store_true")
    e.add_argument("--pid-file", default="")
    e.add_argument("--console-socket", default="")
    e.add_argument("-t", "--tty", action="store_true")
    e.add_argument("--cwd", default="")
    e.add_argument("-e", "--env", action="append", default=[])
    e.add_argument("-u", "--user", default="")
    e.add_argument("--preserve-fds", type=int, default=0)
    e.add_argument("id")
    e.add_argument("exec_args", nargs=argparse.REMAINDER)
    ps = sub.add_parser("ps")
    ps.add_argument("-f", "--format", default="table", choices=("table", "json"))
    ps.add_argument("id")
    ps.add_argument("ps_args", nargs=argparse.REMAINDER)
    u = sub.add_parser("update")
    u.add_argument("-r", "--resources", default="")
    u.add_argument("--memory", default="")
    u.add_argument("--pids-limit", type=int, default=None)
    u.add_argument("--cpu-quota", type=int, default=None)
    u.add_argument("--cpu-period", type=int, default=None)
    u.add_argument("id")
    sub.add_parser("list")
    sub.add_parser("features")
    ev = sub.add_parser("events")
    ev.add_argument("--stats", action="store_true", help="print the container's statistics once, and exit")
    ev.add_argument("--interval", default="5s", help="how often to print them (a Go duration: 5s, 500ms)")
    ev.add_argument("id")
    for name in ("run", "checkpoint", "restore", "spec", "exec-fifo"):
        sub.add_parser(name).add_argument("rest", nargs=argparse.REMAINDER)
    return p


# -- the engine of one command ---------------------------------------------------------


def check_terminal(terminal: bool, console_socket: str, detach: bool) -> None:
    """runc's checkTerminal: a pty needs somewhere to send its master, and a
    console socket is only for a detached process with a pty."""
    if detach and terminal and not console_socket:
        raise RuntimeFailure("cannot allocate tty if runc will detach without setting console socket")
    if (not detach or not terminal) and console_socket:
        raise RuntimeFailure("cannot use console socket if runc will not detach or allocate tty")


class Runc:
    def __init__(self, args: argparse.Namespace, log: RuntimeLog, fork_shims: bool = True):
        self.args = args
        self.log = log
        self.root = RuntimeRoot(args.root)
        self._kernel: Kernel | None = None
        # False (`stepbox step --bundle`, not run from the sealed interpreter):
        # the shims start from a launcher of the sealed copy, as an engine's do
        self.fork_shims = fork_shims

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            module = load_backend("linux")
            reason = unavailable_reason(module)
            if reason:
                raise RuntimeFailure(reason)
            tracer = Tracer(enabled=self.args.debug)
            # One kernel state directory per container (its process's run
            # directory lives there); delete removes it with the rest.
            kernel_dir = self.root.kernel_dir(getattr(self.args, "id", "") or "_")
            # fork_shims: this command is single-threaded; when it runs from
            # the sealed interpreter (the console script re-executes create
            # and exec from it), it forks the container's shim itself.
            self._kernel = module.create_kernel(
                kernel_dir, tracer, cgroup_base="", fork_shims=self.fork_shims
            )
        return self._kernel

    def _container_seccomp(self, bundle: str) -> SeccompFilter | None:
        """An exec'd process gets its container's filter (as runc exec does)."""
        from .plan import seccomp_of

        return seccomp_of(load_bundle(bundle), self.kernel)

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.close()

    def context(self, record: RuntimeRecord, **kw: Any) -> OciContext:
        ctx = OciContext(self.kernel, self.root, record, **kw)
        if record.process:
            ctx.handle = self.kernel.processes.reattach(record.process)
        return ctx

    def run_plan(self, ctx: OciContext, the_plan: Plan[OciContext]) -> None:
        stepper = Stepper(ctx, the_plan)
        while not stepper.done:
            step = stepper.next_step
            mark = ctx.tracer.mark()
            try:
                stepper.step()
            finally:
                if self.log.debug_on and step is not None:
                    self.log.debug(f"step {step.key}: {step.title}")
                    for op in ctx.tracer.since(mark):
                        self.log.debug(f"  {op.call}({op.detail})")

    def find(self, container_id: str) -> tuple[RuntimeRecord, OciContext, str]:
        record = self.root.load(check_id(container_id))
        ctx = self.context(record)
        return record, ctx, plan.status_of(ctx)

    # -- verbs --------------------------------------------------------------------------
    def create(self) -> int:
        a = self.args
        if a.preserve_fds < 0:
            raise RuntimeFailure(f"--preserve-fds {a.preserve_fds}: not a number of fds")
        spec = load_bundle(a.bundle)
        check_terminal(spec.process.terminal, a.console_socket, detach=True)  # create always detaches
        ctx = self.create_context(
            a.id, spec, no_pivot=a.no_pivot, console_socket=a.console_socket, preserve_fds=a.preserve_fds
        )
        self.run_plan(ctx, plan.create_plan(spec))
        if a.pid_file:
            write_pid_file(a.pid_file, ctx.record.pid)
        return 0

    def create_context(self, container_id: str, spec: BundleSpec, **options: Any) -> OciContext:
        """What create's plan runs with (``stepbox step --bundle`` too): a
        new record for ``spec``'s container, not yet on disk."""
        cid = check_id(container_id)
        if os.path.exists(self.root.dir(cid)):
            raise RuntimeFailure(f"container with id exists: {cid}")
        record = RuntimeRecord(
            id=cid,
            bundle=spec.bundle,
            rootfs=spec.root,
            created=rfc3339_now(),
            annotations=spec.annotations,
            hooks={
                k: [asdict(h) for h in v] for k, v in spec.hooks.items() if k in ("poststart", "poststop")
            },
        )
        return OciContext(self.kernel, self.root, record, spec=spec, **options)

    def start(self) -> int:
        record, ctx, status = self.find(self.args.id)
        if status == STOPPED:
            raise RuntimeFailure("cannot start a container that has stopped")
        if status != CREATED:
            raise RuntimeFailure("cannot start an already running container")
        self.run_plan(ctx, plan.start_plan(record))
        return 0

    def state(self) -> int:
        record, _ctx, status = self.find(self.args.id)
        sys.stdout.write(json.dumps(state_json(record, status), indent=2))
        return 0

    def list(self) -> int:
        rows = []
        for cid in self.root.ids():
            try:
                record, _ctx, status = self.find(cid)
            except ContainerNotFound:
                continue
            rows.append((cid, record.pid if status != STOPPED else 0, status, record.bundle, record.created))
        print(f"{'ID':<12}{'PID':<10}{'STATUS':<10}{'BUNDLE':<40}{'CREATED':<32}OWNER")
        for cid, pid, status, bundle, created in rows:
            print(f"{cid:<12}{pid:<10}{status:<10}{bundle:<40}{created:<32}root")
        return 0

    def kill(self) -> int:
        record, ctx, status = self.find(self.args.id)
        sig = parse_signal(self.args.signal)
        if status == STOPPED and not self.args.all:
            raise RuntimeFailure("container not running")
        if ctx.handle is None and not self.args.all:
            raise RuntimeFailure("container not running")
        ctx.signal, ctx.kill_all = sig, self.args.all
        try:
            self.run_plan(ctx, Plan((plan.KILL,)))
        except ProcessLookupError:
            raise RuntimeFailure("container not running") from None
        return 0

    def delete(self) -> int:
        try:
            record, ctx, status = self.find(self.args.id)
        except ContainerNotFound:
            if self.args.force:
                return 0  # runc: nothing to delete is no error with --force
            raise
        live = status in (RUNNING, PAUSED, CREATED)
        if live and not self.args.force and status != CREATED:
            raise RuntimeFailure(f"cannot delete container {record.id} that is not stopped: {status}")
        # A created container is killed by delete as runc does (its init never ran anything).
        self.run_plan(ctx, Plan((plan.delete_phase(live),)).for_config(record))
        return 0

    def pause(self) -> int:
        record, ctx, status = self.find(self.args.id)
        if status != RUNNING:
            raise RuntimeFailure("container not running" if status != PAUSED else "container already paused")
        self.run_plan(ctx, Plan((plan.PAUSE,)))
        return 0

    def resume(self) -> int:
        record, ctx, status = self.find(self.args.id)
        if status != PAUSED:
            raise RuntimeFailure("container not paused")
        self.run_plan(ctx, Plan((plan.RESUME,)))
        return 0

    def ps(self) -> int:
        record, ctx, status = self.find(self.args.id)
        pids = self.kernel.cgroups.procs(record.cgroup) if record.cgroup else []
        if self.args.format == "json":
            sys.stdout.write(json.dumps(pids) + "\n")
            return 0
        ps_args = [x for x in self.args.ps_args if x != "--"] or ["-ef"]
        out = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=True).stdout.splitlines()
        if not out:
            return 0
        header = out[0].split()
        if "PID" not in header:
            raise RuntimeFailure("couldn't find PID field in ps output")
        col = header.index("PID")
        print(out[0])
        for line in out[1:]:
            fields = line.split()
            if len(fields) > col and fields[col].isdecimal() and int(fields[col]) in pids:
                print(line)
        return 0

    def exec(self) -> int:
        a = self.args
        record, ctx, status = self.find(a.id)
        if status not in (RUNNING, CREATED):
            raise RuntimeFailure(
                "cannot exec in a stopped container"
                if status == STOPPED
                else f"cannot exec in a {status} container"
            )
        if a.preserve_fds:
            raise RuntimeFailure("exec --preserve-fds is not supported by stepbox-runc yet (create's is)")
        if a.process:
            try:
                with open(a.process) as f:
                    process = parse_process(json.load(f))
            except (OSError, ValueError) as e:
                if isinstance(e, (BadConfig, Unsupported)):
                    raise
                raise RuntimeFailure(f"cannot read the process spec {a.process}: {e}") from None
        else:
            raise RuntimeFailure(
                "exec without --process is not supported by stepbox-runc (give a process.json)"
            )
        terminal = process.terminal or a.tty
        check_terminal(terminal, a.console_socket, detach=a.detach)
        if terminal and not a.detach:
            raise RuntimeFailure(
                "exec with a terminal in the foreground (runc's own pty, relayed to this command's "
                "stdio) is not supported by stepbox-runc: use --detach --console-socket"
            )
        settings = ProcessSettings(
            console_socket=a.console_socket,
            user=(process.uid, process.gid),
            additional_gids=process.additional_gids,
            rlimits=process.rlimits,
            oom_score_adj=process.oom_score_adj,
            umask=process.umask,
            capabilities=process.capabilities,
            no_new_privileges=process.no_new_privileges,
            seccomp=self._container_seccomp(record.bundle),
        )
        handles = []

        def enter(ctx: OciContext) -> None:
            handles.append(
                self.kernel.processes.exec_in(
                    record.pid,
                    list(process.args),
                    process.env,
                    process.cwd,
                    None,
                    settings=settings,
                    detach=a.detach,
                )
            )

        self.run_plan(ctx, Plan((plan.exec_phase(enter),)))
        handle = handles[0]
        if a.pid_file:
            write_pid_file(a.pid_file, handle.pid)
        if a.detach:
            return 0
        exit_status = handle.wait()
        return exit_status.code if exit_status is not None else 255

    def update(self) -> int:
        from .spec import _resources

        a = self.args
        record, ctx, status = self.find(a.id)
        if status == STOPPED:
            raise RuntimeFailure("container not running")
        res: dict[str, Any] = {}
        if a.resources:
            text = sys.stdin.read() if a.resources == "-" else open(a.resources).read()
            res = json.loads(text or "{}")
        if a.memory:
            res.setdefault("memory", {})["limit"] = parse_bytes(a.memory)
        if a.pids_limit is not None:
            res.setdefault("pids", {})["limit"] = a.pids_limit
        if a.cpu_quota is not None:
            res.setdefault("cpu", {})["quota"] = a.cpu_quota
        if a.cpu_period is not None:
            res.setdefault("cpu", {})["period"] = a.cpu_period
        limits = _resources(res)

        def set_limits(ctx: OciContext) -> None:
            self.kernel.cgroups.set_limits(record.cgroup, limits)

        self.run_plan(ctx, Plan((plan.update_phase(set_limits),)))
        return 0

    def events(self) -> int:
        """runc's ``events``: the cgroup's statistics as ``{"type": "stats",
        "id": ..., "data": {...}}`` JSON lines, once (``--stats``) or every
        ``--interval`` until the container stops; an ``{"type": "oom"}``
        line when the kernel's OOM killer struck in between."""
        interval = parse_duration(self.args.interval)
        record, ctx, status = self.find(self.args.id)
        if status == STOPPED:
            raise RuntimeFailure("container not running")
        ooms = None
        while True:
            stats = self.kernel.cgroups.stats(record.cgroup)
            if ooms is not None and stats.memory_events.get("oom_kill", 0) > ooms:
                print(json.dumps({"type": "oom", "id": record.id}), flush=True)
            ooms = stats.memory_events.get("oom_kill", 0)
            print(json.dumps({"type": "stats", "id": record.id, "data": stats_json(stats)}), flush=True)
            if self.args.stats:
                return 0
            time.sleep(interval)
            if plan.status_of(ctx) == STOPPED:
                return 0

    def features(self) -> int:
        sys.stdout.write(json.dumps(features(), indent=4) + "\n")
        return 0


def parse_signal(text: str) -> int:
    if text.isdecimal():
        return int(text)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(signals.Signals[name])
    except KeyError:
        raise RuntimeFailure(f"unknown signal {text!r}") from None


def parse_duration(text: str) -> float:
    """Seconds of a Go duration as runc's flags take it: 5s, 500ms, 1m30s."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)", text)
    if (
        not parts
        or "".join(n + u for n, u in parts) != text
        or sum(float(n) * units[u] for n, u in parts) <= 0
    ):
        raise RuntimeFailure(f"invalid --interval {text!r}: a positive duration such as 5s or 500ms")
    return sum(float(n) * units[u] for n, u in parts)


def stats_json(stats: CgroupStats) -> dict[str, Any]:
    """The ``data`` of runc's stats event (libcontainer's types.Stats), from
    what the cgroup files say; runc's names, nanoseconds for CPU times."""
    return {
        "cpu": {
            "usage": {"total": stats.cpu_usage_usec * 1000},
            "throttling": {
                "periods": stats.cpu_nr_periods,
                "throttledPeriods": stats.cpu_nr_throttled,
                "throttledTime": stats.cpu_throttled_usec * 1000,
            },
        },
        "memory": {
            "usage": {"usage": stats.memory_current, "limit": stats.memory_max or 0},
            "oomKillCount": stats.memory_events.get("oom_kill", 0),
        },
        "pids": {"current": stats.pids_current, "limit": stats.pids_max or 0},
    }


def parse_bytes(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("b")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def write_pid_file(path: str, pid: int) -> None:
    """Atomically, as runc does: callers poll for the file and must never
    read it half-written."""
    atomic_write(os.path.abspath(path), str(pid).encode(), durable=False)


REFUSED = {
    "run": "`run` is not supported by stepbox-runc: use create, then start",
    "checkpoint": "checkpoint/restore (CRIU) is not supported by stepbox-runc",
    "restore": "checkpoint/restore (CRIU) is not supported by stepbox-runc",
    "spec": "`spec` is not supported by stepbox-runc: write config.json with `runc spec` or by hand",
    "exec-fifo": "unknown command",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    log = RuntimeLog()
    try:
        args = build_parser().parse_args(argv)
        log = RuntimeLog(args.log, args.log_format, args.debug)
    except ArgumentError as e:
        return log.fatal(str(e))
    if args.version:
        sys.stdout.write(version_text())
        return 0
    if args.command is None:
        build_parser().print_help()
        return 0
    runc = Runc(args, log)
    try:
        if args.systemd_cgroup:
            raise RuntimeFailure(
                "--systemd-cgroup is not supported by stepbox-runc: it drives cgroupfs directly"
            )
        if args.rootless == "true":
            raise RuntimeFailure("--rootless=true is not supported by stepbox-runc: it needs root")
        if args.command in REFUSED:
            raise RuntimeFailure(REFUSED[args.command])
        verb: Callable[[], int] = getattr(runc, args.command.replace("-", "_"))
        return verb()
    except ContainerNotFound as e:
        return log.fatal(str(e))
    except (RuntimeFailure, BadConfig, Unsupported, HookFailed, ValueError, FileExistsError) as e:
        return log.fatal(str(e))
    except (KernelError, OSError) as e:
        return log.fatal(str(e))
    except Exception as e:  # a bug of ours: still one line the caller can read
        return log.fatal(f"stepbox-runc: {type(e).__name__}: {e}")
    finally:
        runc.close()


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
