"""``LinuxProcesses`` and ``LinuxProcessHandle``: the engine's side of a container process.

:meth:`LinuxProcesses.spawn` starts the shim (:mod:`.shim`), which starts the
container's PID 1 (:mod:`.init`).  The handle then talks to PID 1 over two
pipes -- one JSON request per line, one reply per line -- until ``exec``.

A *run directory* ``STATE/linux/runs/<token>/`` belongs to each started
process: ``shim.json`` (the PIDs and their start times), ``exit.json``
(written by the shim when PID 1 is gone) and ``shim.log``.  That directory
and :meth:`LinuxProcessHandle.record` are all a later program needs to find
the process again.  A PID alone is not enough -- PIDs are reused -- so a
PID is only trusted together with the start time from ``/proc/PID/stat``.

User namespaces (``SpawnSpec.uid_map``/``gid_map``, like Docker's
userns-remap) are supported: the joiner creates the user namespace first and
the shim writes its id maps from outside.  Root in the container is then an
unprivileged uid on the host, which must be able to reach the rootfs: the
directories above the state dir need to be searchable (o+x) by it.
"""

from __future__ import annotations

import base64
import builtins
import errno
import json
import os
import pwd
import select
import shutil
import signal as signalmod
import socket
import time

from stepbox.core.kernel.devices import DeviceNode
from stepbox.core.kernel.errors import ExecFailed, KernelError, NotSupported
from stepbox.core.kernel.namespaces import NamespaceKind
from stepbox.core.kernel.observe import ProcessInfo
from stepbox.core.kernel.processes import (
    ROOT,
    Credentials,
    ExitStatus,
    MountSpec,
    NoInput,
    Privileges,
    Processes,
    ProcessHandle,
    ProcessSettings,
    Rlimit,
    SpawnSpec,
    Stdio,
)
from stepbox.core.kernel.seccomp import SeccompFilter
from stepbox.core.kernel.trace import Tracer, execvp_detail

from . import libc, procfs, seccomp
from .launcher import ForkingLauncher, ShimLauncher, running_sealed
from .shim_io import CLOSE_MESSAGE, connect_io_socket, input_message, resize_message


def _exec_error(argv0: str, err: int, path: str) -> ExecFailed:
    """Docker's wording for a command that cannot be started."""
    if err in (errno.ENOENT, errno.ENOTDIR):
        if "/" in argv0:
            return ExecFailed(f'exec: "{argv0}": stat {argv0}: no such file or directory', 127)
        return ExecFailed(f'exec: "{argv0}": executable file not found in $PATH', 127)
    if err == errno.EACCES:
        return ExecFailed(f'exec: "{argv0}": permission denied', 126)
    return ExecFailed(f'exec: "{argv0}": {os.strerror(err)}', 126)


def _alive(pid: int | None, start: int | None) -> bool:
    """Is the process that had this PID at that start time still there
    (and not just a zombie)?"""
    if not pid:
        return False
    try:
        st = procfs.read_stat(pid)
    except (OSError, ValueError, IndexError):
        return False
    return st.state not in ("Z", "X") and (start is None or st.starttime == start)


def seccomp_shown(spec: SeccompFilter) -> str:
    """A filter in a trace, the same on both backends."""
    return f"{len(spec.rules)} rules, default {spec.default_action}"


def _stdio_config(stdio: Stdio) -> dict:
    return {
        "stdout": stdio.stdout,
        "stderr": stdio.stderr,
        "stdin": stdio.stdin,
        "open_stdin": stdio.open_stdin,
        "tty": stdio.tty,
        "window": list(stdio.window) if stdio.window else None,
    }


def _execed(info: dict) -> bool:
    """Whether a container's init runs its command: until execve it is a
    fork of the shim, the same program file (same inode) as the shim's."""
    try:
        init = os.stat(f"/proc/{info['init']}/exe")
        shim = os.stat(f"/proc/{info['shim']}/exe")
    except (OSError, KeyError):
        return True  # the shim is gone: nobody could be stepping this init
    return (init.st_dev, init.st_ino) != (shim.st_dev, shim.st_ino)


def _confinement(user: Credentials, privileges: Privileges) -> dict:
    """Who the process runs as and what it keeps, as the init's ``exec``
    request and the exec joiner's config carry it (seccomp compiled here, in
    the engine: after pivot_root the container cannot reach libseccomp)."""
    program = seccomp.compile_filter(privileges.seccomp) if privileges.seccomp is not None else None
    return {
        "user": [user.uid, user.gid, list(user.groups)],
        "keep_caps": sorted(privileges.capabilities),
        "effective": None if privileges.effective is None else sorted(privileges.effective),
        "no_new_privs": privileges.no_new_privs,
        "seccomp": base64.b64encode(program).decode() if program is not None else None,
    }


def _settings(settings: ProcessSettings | None) -> dict:
    """The rest of an OCI ``process``: rlimits and the OOM score."""
    if settings is None:
        return {}
    return {
        "rlimits": [list(r) for r in settings.rlimits],
        "oom_score_adj": settings.oom_score_adj,
        "umask": settings.umask,
    }


STDIO_KEYS = ("stdin_fd", "stdout_fd", "stderr_fd")
PRESERVED_PREFIX = "preserved_fd_"  # config keys of --preserve-fds' fds, by their place from 3


def _read_json(path: str) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class LinuxProcessHandle(ProcessHandle):
    def __init__(
        self,
        tracer: Tracer,
        run_dir: str,
        info: dict,
        cmd_w: int | None = None,
        rep_r: int | None = None,
        execed: bool = False,
    ):
        self.tracer = tracer
        self.run_dir = run_dir
        self.pid = info["init"]
        self.start = info.get("init_start")
        self.shim_pid: int | None = info.get("shim")
        self.shim_start = info.get("shim_start")
        self._cmd_w, self._rep_r = cmd_w, rep_r
        self._buf = b""
        self.execed = execed
        self._status: ExitStatus | None = None
        self._io_sock: socket.socket | None = None
        # exec_in processes are never looked up again by another program, so
        # their run directory goes as soon as their status has been read.
        self.ephemeral = False

    def __repr__(self) -> str:
        return f"<LinuxProcessHandle pid={self.pid} shim={self.shim_pid} run_dir={self.run_dir}>"

    def __del__(self):
        self._close_pipes()
        self._close_io()

    def _close_pipes(self) -> None:
        for name in ("_cmd_w", "_rep_r"):
            fd = getattr(self, name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)

    # -- talking to PID 1 ----------------------------------------------------------------
    def _send(self, request: dict) -> None:
        if self._cmd_w is None:
            raise KernelError(
                "this process can no longer be told what to do: it has already exec'd its "
                "command (or was found again with reattach, which only allows wait/signal)"
            )
        data = json.dumps(request).encode() + b"\n"
        try:
            while data:
                data = data[os.write(self._cmd_w, data) :]
        except BrokenPipeError:
            self._close_pipes()
            raise KernelError(f"the container's init (pid {self.pid}) has exited") from None

    def _receive(self) -> dict | None:
        assert self._rep_r is not None  # open while the command pipe is (_send checked it)
        while b"\n" not in self._buf:
            chunk = os.read(self._rep_r, 65536)
            if not chunk:
                return None  # end of file
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line)

    def _call(self, op: str, **args) -> None:
        self._send({"op": op, **args})
        reply = self._receive()
        if reply is None:
            self._close_pipes()
            raise KernelError(f"the container's init (pid {self.pid}) exited during {op}")
        for call, detail in reply.get("ops", []):
            self.tracer.record(call, detail)
        if not reply["ok"]:
            err = reply.get("errno") or errno.EIO
            raise OSError(err, f"{op} inside the container failed: {reply.get('error')}")

    # -- in-container operations ------------------------------------------------------------
    def sethostname(self, name: str) -> None:
        self._call("sethostname", name=name)

    def make_mounts_private(self) -> None:
        self._call("make_mounts_private")

    def mount(self, spec: MountSpec, rootfs: str) -> None:
        self._call(
            "mount",
            source=spec.source,
            target=spec.target,
            fstype=spec.fstype,
            options=list(spec.options),
            rootfs=rootfs,
        )

    def pivot_root(self, new_root: str) -> None:
        self._call("pivot_root", new_root=new_root)

    def mask_paths(self, masked: list[str], readonly: list[str]) -> None:
        self._call("mask_paths", masked=list(masked), readonly=list(readonly))

    def bring_up_loopback(self) -> None:
        self._call("bring_up_loopback")

    def make_device_nodes(self, nodes: list[DeviceNode], rootfs: str) -> None:
        self._call("make_device_nodes", nodes=[n.to_dict() for n in nodes], rootfs=rootfs)

    def make_symlinks(self, links: list[tuple[str, str]], rootfs: str) -> None:
        self._call("make_symlinks", links=[list(pair) for pair in links], rootfs=rootfs)

    def load_seccomp(self, spec: SeccompFilter) -> None:
        # Compiled here, in the engine: after pivot_root the container's init
        # can no longer reach the host's libseccomp (nor should it).
        program = seccomp.compile_filter(spec)
        self._call("load_seccomp", program=base64.b64encode(program).decode(), shown=seccomp_shown(spec))

    def drop_capabilities(
        self, keep: frozenset[str], user: Credentials = ROOT, effective: frozenset[str] | None = None
    ) -> None:
        self._call(
            "drop_capabilities",
            keep=sorted(keep),
            user=[user.uid, user.gid, list(user.groups)],
            effective=None if effective is None else sorted(effective),
        )

    def set_no_new_privs(self) -> None:
        self._call("set_no_new_privs")

    def set_rlimits(self, limits: tuple[Rlimit, ...]) -> None:
        self._call("set_rlimits", limits=[[limit.name, limit.soft, limit.hard] for limit in limits])

    def open_terminal(self, window: tuple[int, int] | None = None) -> None:
        self._call("open_terminal", window=list(window) if window else None)

    # -- input, through the shim's io socket ----------------------------------------------------
    def _io(self) -> socket.socket:
        if self._io_sock is None:
            try:
                self._io_sock = connect_io_socket(self.run_dir)
            except (FileNotFoundError, ConnectionRefusedError):
                raise NoInput(
                    f"process {self.pid} has no open stdin or terminal (it was not started with -i or -t)"
                ) from None
        return self._io_sock

    def _send_io(self, message: bytes) -> None:
        try:
            self._io().send(message)  # SOCK_SEQPACKET: one message, whole
        except (BrokenPipeError, ConnectionResetError):
            self._close_io()  # the process (and its shim) ended: the input goes nowhere

    def _close_io(self) -> None:
        sock = getattr(self, "_io_sock", None)
        if sock is not None:
            sock.close()
            self._io_sock = None

    def write_stdin(self, data: bytes) -> None:
        for message in input_message(data):
            self._send_io(message)

    def close_stdin(self) -> None:
        self._send_io(CLOSE_MESSAGE)

    def resize_terminal(self, rows: int, columns: int) -> None:
        self._send_io(resize_message(rows, columns))

    def set_sysctl(self, name: str, value: str) -> None:
        self._call("sysctl", name=name, value=value)

    def move_root(self, new_root: str) -> None:
        self._call("move_root", new_root=new_root)

    def exec_on_start(
        self, argv: list[str], env: dict[str, str], cwd: str, settings: ProcessSettings
    ) -> None:
        if not argv:
            raise ExecFailed("exec: no command given", 127)
        self.tracer.record("chdir", json.dumps(cwd))
        self.tracer.record("open", "exec.fifo, O_RDWR; read(fifo, 1) -- until start writes")
        self.tracer.record("execve", execvp_detail(argv, env))
        request = {"op": "exec", "gate": True, "argv": list(argv), "env": dict(env), "cwd": cwd}
        confinement = _confinement(settings.credentials(), settings.privileges())
        self._send({**request, **confinement, **_settings(settings)})
        reply = self._receive()
        self._close_pipes()
        if reply is not None and reply.get("waiting"):
            return  # it waits at the gate; nobody can tell it anything else now
        if reply is None:
            raise KernelError(f"the container's init (pid {self.pid}) exited while preparing the exec")
        if reply.get("stage") == "setup":
            raise ExecFailed(f'exec: "{argv[0]}": preparing to run it failed: {reply.get("error")}', 126)
        raise _exec_error(argv[0], reply.get("errno") or errno.ENOENT, reply.get("path", ""))

    def exec(
        self, argv: list[str], env: dict[str, str], cwd: str = "/", user: tuple[int, int] | None = None
    ) -> None:
        if not argv:
            raise ExecFailed("exec: no command given", 127)
        self.tracer.record("chdir", json.dumps(cwd))
        if user is not None and tuple(user) != (0, 0):
            self.tracer.record("setgid", str(user[1]))
            self.tracer.record("setuid", str(user[0]))
        self.tracer.record("execve", execvp_detail(argv, env))
        self._send(
            {
                "op": "exec",
                "argv": list(argv),
                "env": dict(env),
                "cwd": cwd,
                "user": None if user is None else list(user),
            }
        )
        reply = self._receive()
        self._close_pipes()
        if reply is None:  # close-on-exec closed the pipe: it runs
            self.execed = True
            return
        if reply.get("stage") == "setup":
            raise ExecFailed(f'exec: "{argv[0]}": preparing to run it failed: {reply.get("error")}', 126)
        raise _exec_error(argv[0], reply.get("errno") or errno.ENOENT, reply.get("path", ""))

    # -- from the outside ------------------------------------------------------------------------
    def signal(self, sig: int) -> None:
        """kill(2).  Once PID 1 has exited and its status is recorded, this
        is a no-op -- as kill(2) on a zombie succeeds until its parent has
        waited -- so undo steps ("kill, then wait") stay idempotent."""
        if not _alive(self.pid, self.start):
            # Gone, with its status recorded or about to be: between PID 1's
            # end and the shim's exit.json is a moment in which the process
            # has died but nobody wrote how -- it is a zombie to us, and
            # kill(2) on a zombie succeeds.  Only with the shim gone too and
            # nothing recorded is the process lost.
            if self.exit_status() is not None or _alive(self.shim_pid, self.shim_start):
                return
            raise ProcessLookupError(errno.ESRCH, f"no such process: {self.pid}")
        self.tracer.record("kill", f"{self.pid}, {signalmod.Signals(sig).name}")
        os.kill(self.pid, sig)

    def exit_status(self) -> ExitStatus | None:
        if self._status is not None:
            return self._status
        rec = _read_json(os.path.join(self.run_dir, "exit.json"))
        if rec is None:
            return None
        if rec.get("signal"):
            self._status = ExitStatus.killed(rec["signal"])
        else:
            self._status = ExitStatus.exited(rec["code"])
        if self.ephemeral:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return self._status

    def wait(self, timeout: float | None = None) -> ExitStatus | None:
        """Wait for ``exit.json``.  The shim writes it and exits at once, so
        a pidfd of the shim (readable when it exits; no polling, and no PID
        reuse race once we checked its start time) tells when to look."""
        status = self.exit_status()
        if status is not None:
            return status
        try:
            pidfd = os.pidfd_open(self.shim_pid) if self.shim_pid is not None else None
        except ProcessLookupError:
            pidfd = None
        try:
            if pidfd is not None and _alive(self.shim_pid, self.shim_start):
                ready, _, _ = select.select([pidfd], [], [], timeout)
                if not ready:
                    return self.exit_status()  # None unless it just ended
            status = self.exit_status()
            if status is None:
                raise KernelError(
                    f"the shim (pid {self.shim_pid}) of process {self.pid} is gone without "
                    f"recording an exit status; see {self.run_dir}/shim.log"
                )
            return status
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def record(self) -> dict:
        return {
            "backend": "linux",
            "run_dir": self.run_dir,
            "pid": self.pid,
            "start": self.start,
            "shim": self.shim_pid,
            "shim_start": self.shim_start,
        }


class LinuxProcesses(Processes):
    def __init__(self, state_dir: str, tracer: Tracer | None = None, cgroups=None, fork_shims: bool = False):
        self.runs = os.path.join(os.path.abspath(state_dir), "linux", "runs")
        os.makedirs(self.runs, mode=0o700, exist_ok=True)
        # fork_shims: a single-threaded, short-lived program (stepbox-runc)
        # forks its shims itself -- only if it runs from the sealed
        # interpreter, else the launcher's sealed copy forks them.
        self.launcher: ShimLauncher | ForkingLauncher = (
            ForkingLauncher() if fork_shims and running_sealed() else ShimLauncher()
        )
        self.tracer = tracer or Tracer(enabled=False)
        self.cgroups = cgroups  # LinuxCgroups: where the cgroup.procs files are

    # -- starting the shim -------------------------------------------------------------------
    def _start_shim(self, config: dict, fds: list[int]) -> tuple[str, dict]:
        # secrets.token_hex(8) is this; importing secrets (hashlib, hmac)
        # would cost every stepbox-runc command milliseconds (issue 18).
        token = os.urandom(8).hex()
        run_dir = os.path.join(self.runs, token)
        os.makedirs(run_dir)
        info_r, info_w = os.pipe2(os.O_CLOEXEC)
        config = {**config, "run_dir": run_dir}
        # The pipe ends the shim keeps, by the config key that names them;
        # the launcher hands them over and writes the shim's numbers in.
        passed = {
            "info_fd": info_w,
            **{key: config[key] for key in ("cmd_fd", "rep_fd", "console_fd", *STDIO_KEYS) if key in config},
            **{key: fd for key, fd in config.items() if key.startswith(PRESERVED_PREFIX)},
        }
        assert sorted(passed.values()) == sorted([info_w, *fds])
        try:
            self.launcher.launch(config, passed, os.path.join(run_dir, "shim.log"))
            os.close(info_w)
            info_w = -1
            data = b""
            while chunk := os.read(info_r, 65536):
                data += chunk
        finally:
            os.close(info_r)
            if info_w != -1:
                os.close(info_w)
        info = json.loads(data) if data else {"error": "the shim exited without a word", "errno": errno.EIO}
        if "error" in info:
            # Nothing half-made stays behind: the joiner died before PID 1
            # existed, so the run directory only holds the log we quote.
            with open(os.path.join(run_dir, "shim.log"), errors="replace") as f:
                log = f.read().strip()
            shutil.rmtree(run_dir, ignore_errors=True)
            raise OSError(
                info.get("errno") or errno.EIO,
                f"starting the container process failed: {info['error']}" + (f"\n{log}" if log else ""),
            )
        return run_dir, info

    def spawn(self, spec: SpawnSpec) -> ProcessHandle:
        if NamespaceKind.USER in spec.namespaces and not (spec.uid_map and spec.gid_map):
            raise NotSupported(
                "a user namespace needs a uid_map and a gid_map "
                "(e.g. ((0, 100000, 65536),) as Docker's userns-remap)"
            )
        flags = 0
        joined = {NamespaceKind(kind) for kind, _ in spec.join}
        for kind in spec.namespaces:
            if NamespaceKind(kind) not in joined:
                flags |= libc.CLONE_FLAG_BY_NAME[NamespaceKind(kind).clone_flag]
        procs_files = self._procs_files(spec.cgroup)
        cmd_r, cmd_w = os.pipe2(os.O_CLOEXEC)
        rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
        stdio = _stdio_config(spec.stdio) if spec.stdio is not None else None
        config = {
            "mode": "spawn",
            "flags": flags,
            "cgroup_procs": procs_files,
            "cmd_fd": cmd_r,
            "rep_fd": rep_w,
            "stdio": stdio,
            "uid_map": [list(m) for m in spec.uid_map],
            "gid_map": [list(m) for m in spec.gid_map],
            "join": [[NamespaceKind(kind).value, path] for kind, path in spec.join],
            "detach": spec.detach,
            "start_gate": spec.start_gate,
        }
        passed = [cmd_r, rep_w]
        if spec.inherit_stdio:
            config.update(zip(STDIO_KEYS, (0, 1, 2), strict=True))
            passed += [0, 1, 2]
        console = self._connect_console(spec.console_socket) if spec.console_socket else None
        if console is not None:
            config["console_fd"] = console
            passed.append(console)
        # --preserve-fds: our fds 3.. go to the shim by name, on to the init
        preserved = [3 + i for i in range(spec.preserve_fds)]
        for fd in preserved:
            try:
                os.fstat(fd)
            except OSError:
                raise KernelError(f"--preserve-fds: fd {fd} is not open in the caller") from None
        config.update({f"{PRESERVED_PREFIX}{i}": fd for i, fd in enumerate(preserved)})
        config["preserve_fds"] = len(preserved)
        passed += preserved
        try:
            run_dir, info = self._start_shim(config, passed)
        except BaseException:
            for fd in (cmd_r, cmd_w, rep_r, rep_w):
                os.close(fd)
            raise
        finally:
            if console is not None:
                os.close(console)  # the init has its own copy
        os.close(cmd_r)
        os.close(rep_w)
        # What happened, in the words of the syscalls (the joiner did them).
        for path in procs_files:
            self.tracer.record(f"write {path}", '"0"')  # "0": the writing process, the joiner
        for _kind, path in spec.join:
            self.tracer.record("setns", f"open({json.dumps(path)}), 0")
        if flags & libc.CLONE_NEWUSER:
            self.tracer.record("unshare", "CLONE_NEWUSER")
            for name, mapping in (("uid_map", spec.uid_map), ("gid_map", spec.gid_map)):
                text = "\\n".join(" ".join(map(str, m)) for m in mapping)
                self.tracer.record(f"write /proc/{info['joiner']}/{name}", f'"{text}"')
            self.tracer.record("setresuid", "0, 0, 0")
        self.tracer.record("clone", f"{libc.clone_flag_names(flags & ~libc.CLONE_NEWUSER)}|SIGCHLD")
        return LinuxProcessHandle(self.tracer, run_dir, info, cmd_w=cmd_w, rep_r=rep_r)

    def _connect_console(self, path: str) -> int:
        """A socket connected to the caller's console socket (runc
        connects it before the init starts, and the init sends on it)."""
        self.tracer.record("connect", f"AF_UNIX, {json.dumps(path)}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError as e:
            sock.close()
            raise KernelError(f"cannot connect to the console socket {path}: {e.strerror or e}") from None
        return sock.detach()

    def open_start_gate(self, path: str) -> None:
        """Write to the FIFO the init waits on.  O_NONBLOCK: with no reader
        (the init is gone) open(2) fails with ENXIO instead of blocking."""
        self.tracer.record("open", f"{json.dumps(path)}, O_WRONLY|O_NONBLOCK")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            if e.errno in (errno.ENXIO, errno.ENOENT):
                raise ProcessLookupError(errno.ESRCH, "nobody waits at the start gate") from None
            raise
        try:
            self.tracer.record("write", f'{json.dumps(path)}, "0"')
            os.write(fd, b"0")
        finally:
            os.close(fd)

    def _procs_files(self, cgroup: str | None) -> list[str]:
        if not cgroup:
            return []
        if self.cgroups is None:
            raise KernelError("this LinuxProcesses has no cgroups manager to join a cgroup with")
        return self.cgroups.procs_files(cgroup)

    def exec_in(
        self,
        target_pid: int,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        stdio: Stdio | None,
        *,
        user: Credentials = ROOT,
        privileges: Privileges | None = None,
        rlimits: tuple[Rlimit, ...] = (),
        settings: ProcessSettings | None = None,
        detach: bool = False,
    ) -> ProcessHandle:
        if not argv:
            raise ExecFailed("exec: no command given", 127)
        if not self.exists(target_pid):
            raise ProcessLookupError(errno.ESRCH, f"no such process: {target_pid}")
        if settings is not None:
            user, privileges = settings.credentials(), settings.privileges()
        if privileges is None:
            privileges = Privileges()
        procs_files = self._target_procs_files(target_pid)
        rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
        config = {
            "mode": "exec",
            "target_pid": target_pid,
            "cgroup_procs": procs_files,
            "rep_fd": rep_w,
            "argv": list(argv),
            "env": dict(env),
            "cwd": cwd,
            **_confinement(user, privileges),
            "detach": detach,
            # --ulimit's limits (docker's exec inherits its spec's); an OCI
            # process's own (stepbox-runc exec) replace them
            "rlimits": [[limit.name, limit.soft, limit.hard] for limit in rlimits],
            **_settings(settings),
        }
        passed = [rep_w]
        if stdio is None:  # the caller's own fds 0-2
            config.update(zip(STDIO_KEYS, (0, 1, 2), strict=True))
            passed += [0, 1, 2]
        else:
            config["stdio"] = _stdio_config(stdio)
        console = None
        if settings is not None and settings.console_socket:
            console = self._connect_console(settings.console_socket)
            config["console_fd"] = console
            passed.append(console)
        try:
            run_dir, info = self._start_shim(config, passed)
        finally:
            os.close(rep_w)
            if console is not None:
                os.close(console)
        for path in procs_files:
            self.tracer.record(f"write {path}", f'"{info["joiner"]}"')
        self.tracer.record("prctl", "PR_SET_DUMPABLE, 0")
        for kind in ("cgroup", "ipc", "uts", "net", "pid", "mnt"):
            self.tracer.record("setns", f'open("/proc/{target_pid}/ns/{kind}"), 0')
        self.tracer.record("clone", "SIGCHLD")
        self.tracer.record("execve", f"{json.dumps(argv[0])}, {json.dumps(list(argv))}, [{len(env)} vars]")
        handle = LinuxProcessHandle(self.tracer, run_dir, info, cmd_w=None, rep_r=rep_r)
        handle.ephemeral = True
        reply = handle._receive()
        handle._close_pipes()
        if reply is not None:
            if not detach:
                handle.wait()
            if reply.get("stage") == "setup":
                raise ExecFailed(f"exec failed: unable to start container process: {reply.get('error')}", 126)
            raise _exec_error(argv[0], reply.get("errno") or errno.ENOENT, reply.get("path", ""))
        handle.execed = True
        return handle

    def _target_procs_files(self, pid: int) -> list[str]:
        """The cgroup.procs files of ``pid``'s cgroups, in the hierarchies we manage."""
        if self.cgroups is None:
            return []
        lines = procfs.read_cgroup_file(pid)
        v1_controllers = {m.mountpoint: set(m.controllers) for m in self.cgroups.layout.v1}
        files = []
        for h in self.cgroups.hierarchies:
            for line in lines:
                if h.version == 2:
                    match = line.hierarchy_id == 0 and not line.controllers
                else:
                    match = bool(line.controllers) and set(line.controllers) == v1_controllers.get(
                        h.mountpoint
                    )
                if match:
                    files.append(f"{h.mountpoint}{line.path.rstrip('/')}/cgroup.procs")
        return files

    def reattach(self, record: dict) -> ProcessHandle | None:
        """Find a process started earlier.  Returns a handle (for ``wait``
        and ``signal``) while the process runs *or* its exit status is still
        on record; ``None`` when there is nothing left to find."""
        run_dir = record.get("run_dir")
        if not run_dir or not os.path.isdir(run_dir):
            return None
        info = _read_json(os.path.join(run_dir, "shim.json"))
        if info is None:
            return None
        if info.get("init") != record.get("pid"):
            return None
        handle = LinuxProcessHandle(self.tracer, run_dir, info, execed=True)
        if handle.exit_status() is not None:
            return handle
        if _alive(handle.pid, handle.start) or _alive(handle.shim_pid, handle.shim_start):
            return handle
        return None

    def list(self) -> list[ProcessInfo]:
        result = []
        frozen_cache: dict[str, bool] = {}
        freezer = None
        if self.cgroups is not None and self.cgroups.controller.get("freezer") is not None:
            freezer = self.cgroups.controller["freezer"]
        booted, ticks = procfs.boot_time(), os.sysconf("SC_CLK_TCK")
        users: dict[int, str] = {}
        for pid in procfs.list_pids():
            try:
                stat = procfs.read_stat(pid)
                status = procfs.read_status(pid)
                argv = procfs.read_cmdline(pid)
                lines = procfs.read_cgroup_file(pid)
            except (OSError, ValueError, IndexError):
                continue  # it exited while we looked
            state = {"I": "S", "t": "T", "X": "Z"}.get(stat.state, stat.state)
            if freezer is not None and state != "Z" and self._in_frozen_cgroup(lines, freezer, frozen_cache):
                state = "T"
            result.append(
                ProcessInfo(
                    pid=pid,
                    ppid=stat.ppid,
                    ns_pid=status.nspid[-1],
                    argv=argv or (stat.comm,),
                    state=state,
                    namespaces=procfs.read_namespaces(pid),
                    cgroup=procfs.v2_cgroup_path(lines),
                    user=_user_name(int(status.raw.get("Uid", "0").split()[0]), users),
                    cpu_seconds=(stat.utime + stat.stime) / ticks,
                    started=booted + stat.starttime / ticks,
                    tty=procfs.tty_name(stat.tty_nr),
                )
            )
        return result

    @staticmethod
    def _in_frozen_cgroup(lines, freezer, cache: dict[str, bool]) -> bool:
        for line in lines:
            if freezer.version == 1 and "freezer" in line.controllers:
                path = line.path
                if path == "/":
                    return False
                if path not in cache:
                    try:
                        with open(f"{freezer.mountpoint}{path}/freezer.state") as f:
                            cache[path] = f.read().strip() == "FROZEN"
                    except OSError:
                        cache[path] = False
                return cache[path]
            if freezer.version == 2 and line.hierarchy_id == 0:
                if line.path == "/":
                    return False
                if line.path not in cache:
                    try:
                        with open(f"{freezer.mountpoint}{line.path}/cgroup.events") as f:
                            cache[line.path] = "frozen 1" in f.read()
                    except OSError:
                        cache[line.path] = False
                return cache[line.path]
        return False

    def exists(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    # -- crash recovery ----------------------------------------------------------------------------------
    def live_inits(self) -> builtins.list[ProcessHandle]:
        """Every container init started from this state dir that still runs,
        found from the run directories (not from any container record)."""
        handles: builtins.list[ProcessHandle] = []
        for run_dir, info, exited in self.run_records():
            # A run dir of an older stepbox has no mode: execs' dirs go as
            # soon as their status is read, so it is most likely an init.
            if info is None or exited is not None or info.get("mode", "spawn") != "spawn":
                continue
            if _alive(info.get("init"), info.get("init_start")) and _execed(info):
                handles.append(LinuxProcessHandle(self.tracer, run_dir, info, execed=True))
        return handles

    def run_records(self) -> builtins.list[tuple[str, dict | None, dict | None]]:
        """(run_dir, shim.json, exit.json) for every process this state dir started."""
        result = []
        for token in sorted(os.listdir(self.runs)):
            d = os.path.join(self.runs, token)
            result.append(
                (d, _read_json(os.path.join(d, "shim.json")), _read_json(os.path.join(d, "exit.json")))
            )
        return result

    def kill_all(self, timeout: float = 10.0) -> builtins.list[int]:
        """SIGKILL every still-running init (and its shim) started from this
        state dir; wait until the shims have recorded the exits."""
        killed = []
        for _run_dir, info, _exit in self.run_records():
            if info is None:
                continue
            if _alive(info["init"], info.get("init_start")):
                try:
                    os.kill(info["init"], signalmod.SIGKILL)
                    killed.append(info["init"])
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for _run_dir, info, _exit in self.run_records():
            if info is None:
                continue
            while _alive(info["shim"], info.get("shim_start")) and time.monotonic() < deadline:
                time.sleep(0.01)
            if _alive(info["shim"], info.get("shim_start")):
                os.kill(info["shim"], signalmod.SIGKILL)
        return killed

    def alive_runs(self) -> builtins.list[int]:
        """Host PIDs of shims and inits from this state dir still running."""
        pids = []
        for _, info, _ in self.run_records():
            if info is None:
                continue
            for pid_key, start_key in (("shim", "shim_start"), ("init", "init_start")):
                if _alive(info.get(pid_key), info.get(start_key)):
                    pids.append(info[pid_key])
        return pids


def _user_name(uid: int, known: dict[int, str]) -> str:
    """ps's UID column: the host's name for the (host) uid, or the number."""
    if uid not in known:
        try:
            known[uid] = pwd.getpwuid(uid).pw_name
        except KeyError:
            known[uid] = str(uid)
    return known[uid]
