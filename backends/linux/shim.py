"""The shim: the process that is the parent of a container's init.

A container must outlive the command that started it (``docker run -d``
returns at once).  Whoever is the *parent* of the container's PID 1 is the
one the kernel tells when it exits (``waitpid``), so that parent must not be
the short-lived CLI.  Docker puts ``containerd-shim`` there; stepbox starts
this small program:

1. The engine runs ``python -m stepbox.backends.linux.shim CONFIG`` in a new
   session (``setsid``); that process forks and exits at once, so the real
   shim is nobody's child in the engine (it is re-parented to the host's
   init) and cannot get a controlling terminal -- the classic *double fork*.
2. The shim marks itself a *child subreaper* (``PR_SET_CHILD_SUBREAPER``):
   orphans below it are re-parented to it instead of the host's init.
3. It forks the *joiner* (:func:`.init.run_joiner`), which joins the
   cgroup, unshares the namespaces and forks PID 1, then exits; PID 1 is
   re-parented to the shim.
4. It tells the engine the PIDs over a pipe, then waits for PID 1 and writes
   its exit status atomically to ``RUN_DIR/exit.json`` (temp file, fsync,
   rename), where any later program finds it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, NoReturn

from stepbox.core.kernel.atomic import atomic_write_json as write_json_atomic

from . import libc
from .init import run_joiner
from .nsenter import run_exec_joiner
from .procfs import start_time


def write_id_maps(pid: int, uid_map: list, gid_map: list) -> bool:
    """Write a new user namespace's uid/gid maps (``inside outside count``
    lines, each file written once, in one write(2), from the parent
    namespace).  Returns False if the kernel refused."""
    try:
        for name, mapping in (("uid_map", uid_map), ("gid_map", gid_map)):
            text = "".join(f"{inside} {outside} {count}\n" for inside, outside, count in mapping)
            fd = os.open(f"/proc/{pid}/{name}", os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
    except OSError as e:
        sys.stderr.write(f"stepbox shim: writing /proc/{pid} id maps: {e}\n")
        return False
    return True


TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGQUIT)


def run_shim(config: dict[str, Any]) -> NoReturn:
    """The shim's life: start the container's init (through the joiner),
    tell the engine its PIDs, wait for it, record how it ended."""
    # Terminal signals are not for us: only SIGKILL/SIGTERM from a clean-up.
    for sig in TERMINAL_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
    report = start_init(config)
    info_fd = config["info_fd"]
    if "error" in report:
        os.write(info_fd, json.dumps(report).encode())
        os.close(info_fd)
        os._exit(1)
    init = report["init"]
    me = os.getpid()
    info = {
        "shim": me,
        "shim_start": start_time(me),
        "init": init,
        "init_start": start_time(init),
        "joiner": report["joiner"],
    }
    write_json_atomic(os.path.join(config["run_dir"], "shim.json"), info)
    os.write(info_fd, json.dumps(info).encode())
    os.close(info_fd)
    status = reap_until_orphaned(init)
    write_json_atomic(os.path.join(config["run_dir"], "exit.json"), exit_record(status))
    os._exit(0)


def start_init(config: dict[str, Any]) -> dict[str, Any]:
    """Fork the joiner, which starts the container's init (or, for an exec,
    joins the running container); write the id maps it asks for; return its
    last report: ``{"init": pid, "joiner": pid}`` or ``{"error": ...}``."""
    sync_r, sync_w = os.pipe2(os.O_CLOEXEC)  # joiner -> shim: JSON lines
    ack_r, ack_w = os.pipe2(os.O_CLOEXEC)  # shim -> joiner: "k" when the id maps are written
    joiner = os.fork()
    if joiner == 0:
        for sig in TERMINAL_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        os.close(sync_r)
        os.close(ack_w)
        os.close(config["info_fd"])
        if config["mode"] == "exec":
            os.close(ack_r)
            run_exec_joiner(config, sync_w)
        else:
            run_joiner(config, sync_w, ack_r)
        os._exit(1)  # not reached
    os.close(sync_w)
    os.close(ack_r)
    # The pipes to PID 1 are its business now: keeping our copies would
    # hide the end-of-file the engine waits for after a successful exec.
    for fd in (config.get("cmd_fd"), config.get("rep_fd")):
        if fd is not None:
            os.close(fd)
    report: dict[str, Any] = {"error": "the joiner died without a word", "errno": 5}
    with os.fdopen(sync_r, "rb") as sync:
        for line in sync:
            msg = json.loads(line)
            if "map" in msg:
                ok = write_id_maps(msg["map"], config.get("uid_map", []), config.get("gid_map", []))
                os.write(ack_w, b"k" if ok else b"x")
                continue
            report = msg
    os.close(ack_w)
    os.waitpid(joiner, 0)
    return report


def reap_until_orphaned(init: int) -> int | None:
    """Reap children until none is left -- init, and every orphan of the
    container re-parented to us (we are a subreaper); init's wait status,
    or None if it was never reaped here."""
    status = None
    while True:
        try:
            pid, wstatus = os.waitpid(-1, 0)
        except ChildProcessError:
            break  # no children left at all
        except InterruptedError:
            continue
        if pid == init:
            status = wstatus
    return status


def exit_record(status: int | None) -> dict[str, Any]:
    """What ``exit.json`` says: the exit code as docker reports it (128+N
    for a signal), and the signal."""
    if status is None:
        return {"code": 255, "signal": None, "error": "init was not reaped by the shim"}
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return {"code": 128 + signum, "signal": signum}
    return {"code": os.WEXITSTATUS(status), "signal": None}


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    if os.fork() != 0:
        os._exit(0)  # the engine reaps this one at once
    try:
        run_shim(config)
    except BaseException as e:  # leave a trace, never a traceback to nobody
        sys.stderr.write(f"stepbox shim: {type(e).__name__}: {e}\n")
        sys.stderr.flush()
        os._exit(1)


if __name__ == "__main__":
    main(sys.argv)
