"""A lab: one engine in this process, on a fresh state directory, for one notebook.

Every notebook starts with ``lab = open_lab(BACKEND)``.  ``BACKEND`` is the
one parameter a notebook has:

* ``"auto"`` -- the real kernel when root on Linux, else the simulator
  (a notebook's kernel has threads, so the rootless real kernel, which
  must be entered before any thread starts, is the CLI's: docs/hosts.md)
  (the same rule as ``stepbox --backend auto``);
* ``"sim"`` / ``"linux"`` -- that one.

The state directory is new and temporary, so a notebook never sees (or
disturbs) the images and containers of the learner's own ``stepbox``, and
closing the lab removes every container it made -- processes, mounts,
cgroups -- before the directory goes.

A notebook does not close its lab in a cell: after Run All, the step controls
must still work.  The lab closes when the kernel ends (shut down or restarted:
an ``atexit`` handler), with whatever the notebook handed it (``lab.adopt``: a
daemon, a registry, a second lab).  A kernel killed outright runs no handler;
its lab is removed by the next ``open_lab`` of the same user, which finds the
owner's process gone.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.readable import readable
from stepbox.core.container.record import PAUSED, RUNNING, ContainerRecord
from stepbox.core.image.bootstrap import ensure_busybox
from stepbox.core.kernel.backend_lookup import choose_backend
from stepbox.core.language import LANGUAGES
from stepbox.core.network.manager import BridgeSettings
from stepbox.core.session import Session, open_session

LAB_PREFIX = "stepbox-lab-"
OWNER_FILE = "owner.json"  # in a lab's state directory: which process it belongs to


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


def resolve_backend(backend: str = "auto") -> str:
    """``auto`` -> ``linux`` or ``sim``; an unusable explicit choice raises
    :class:`~stepbox.core.kernel.errors.BackendUnavailable` saying why."""
    name, _module = choose_backend(backend)
    return name


@dataclass
class Lab:
    session: Session
    lang: str = "en"  # "zh": steps and exercise verdicts in Chinese (the Chinese notebooks)
    _closed: bool = field(default=False, repr=False)
    _adopted: list[Closable] = field(default_factory=list, repr=False)

    # -- what a notebook reaches for --------------------------------------------------
    @property
    def backend(self) -> str:
        return self.session.backend

    @property
    def root(self) -> str:
        return self.session.root

    @property
    def kernel(self):
        return self.session.kernel

    @property
    def runtime(self):
        return self.session.runtime

    @property
    def images(self):
        return self.session.runtime.images

    def config(self, *command: str, image: str = "busybox", **options) -> ContainerConfig:
        """A container config the way ``docker run`` flags make one:
        ``lab.config("sh", "-c", "echo hi", hostname="box1", memory=16 << 20)``."""
        return ContainerConfig(image=image, cmd=tuple(command), **options)

    def run(
        self, *command: str, image: str = "busybox", name: str | None = None, **options
    ) -> ContainerRecord:
        """``docker run`` (attached): create, start, wait; the exited record."""
        return self.runtime.run(self.config(*command, image=image, **options), name)

    def start(
        self, *command: str, image: str = "busybox", name: str | None = None, **options
    ) -> ContainerRecord:
        """``docker run -d``: the container is left running."""
        return self.runtime.run(self.config(*command, image=image, **options), name, detach=True)

    def output(self, record: ContainerRecord) -> str:
        out, err = self.runtime.logs(record)
        return (out + err).decode(errors="replace")

    def exec(self, record: ContainerRecord, *argv: str) -> str:
        """``docker exec``: run ``argv`` inside a running container; its output."""
        _code, out, err = self.runtime.exec(record, list(argv))
        return (out + err).decode(errors="replace")

    def new_container(self, config: ContainerConfig, name: str | None = None) -> ContainerRecord:
        """A record with no step run yet -- what a step-through starts from."""
        return self.runtime.new_record(config, name)

    def shorten(self, text: str) -> str:
        """Kernel operations name long paths and 64-digit IDs; a learner
        reads them better as ``$ROOTFS/...``, ``$ROOT/...`` and 12 digits (as
        docker shows IDs) -- what ``stepbox step`` shows (core/container/readable.py)."""
        return readable(text, self.root)

    # -- the end ---------------------------------------------------------------------
    def adopt(self, thing: C) -> C:
        """Close ``thing`` (a daemon, a registry, a socket spy, another lab)
        when this lab closes -- before its containers go, the last adopted first."""
        self._adopted.append(thing)
        return thing

    def remove_all(self) -> None:
        """``docker rm -f`` every container of this lab."""
        runtime = self.runtime
        for record in runtime.containers.all():
            record = runtime.refresh(record)
            if record.state in (RUNNING, PAUSED):
                runtime.remove(record, force=True)
            else:
                runtime.remove(record)

    def close(self) -> None:
        """Remove every container, let the kernel go, delete the state."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            while self._adopted:
                self._adopted.pop().close()
            self.remove_all()
            if self.runtime.networks is not None:
                self.runtime.networks.close()  # proxies and DNS servers (bridges go with the kernel's)
        finally:
            try:
                self.kernel.close()
            finally:
                shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _repr_html_(self) -> str:
        from .tables import html_table, no_math

        return no_math(
            html_table(
                [
                    ("backend", self.backend),
                    ("kernel", self.kernel.description),
                    ("state directory", self.root),
                ],
                caption="this notebook's engine",
            )
        )


def open_lab(
    backend: str | None = None,
    say=lambda message: None,
    base_image: bool = True,
    networks: bool = False,
    lang: str = "en",
) -> Lab:
    """A fresh engine on ``backend`` (see the module docstring; ``None``: the
    ``STEPBOX_BACKEND`` environment variable, as for the CLI, else ``auto``).
    ``base_image``: make the ``busybox`` image at once (else the store starts empty).
    ``networks``: a network manager with a default bridge, as the daemon has
    (else containers get loopback only).  On the real kernel its bridges,
    veths and packet rules live in a network namespace of the lab's own
    (``STEPBOX_NETNS=private``), never in the host's; it goes with the lab.
    ``lang="zh"``: the Chinese notebooks' lab, whose walks explain their steps in Chinese."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    backend = backend or os.environ.get("STEPBOX_BACKEND") or "auto"
    name = resolve_backend(backend)
    remove_abandoned_labs(say)
    root = tempfile.mkdtemp(prefix=LAB_PREFIX)
    try:
        _write_owner(root, name)
        if networks:
            session = _session_with_networks(name, root, say)
        else:
            session = open_session(name, root, say=say, trace=True)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    lab = Lab(session, lang)
    atexit.register(lab.close)  # the kernel's end closes the lab (see the docstring)
    if not base_image:
        return lab
    try:
        # The base image every notebook starts from, made from the host's
        # static busybox (or the simulator's stand-in): no registry needed.
        ensure_busybox(lab.images, lab.kernel, say)
    except BaseException:
        lab.close()
        raise
    return lab


def _session_with_networks(backend: str, root: str, say) -> Session:
    before = os.environ.get("STEPBOX_NETNS")
    if not before:
        # Read once, as the kernel is made, by a kernel that wires real
        # networks (the real one); the simulator's are its own anyway.
        os.environ["STEPBOX_NETNS"] = "private"
    try:
        session = open_session(backend, root, say=say, trace=True, network=BridgeSettings())
    finally:
        if before is None:
            os.environ.pop("STEPBOX_NETNS", None)
    assert session.runtime.networks is not None
    try:
        session.runtime.networks.start()
    except BaseException:
        session.close()
        raise
    return session


# -- labs whose kernel was killed -----------------------------------------------------------
def _process_start(pid: int) -> str | None:
    """When ``pid`` started (field 22 of /proc/PID/stat), to tell a PID reused
    by another process from the owner; None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def _write_owner(root: str, backend: str) -> None:
    pid = os.getpid()
    with open(os.path.join(root, OWNER_FILE), "w") as f:
        json.dump({"pid": pid, "started": _process_start(pid), "backend": backend}, f)


def _owner_alive(owner: dict) -> bool:
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    started = _process_start(pid)
    return started is None or started == owner.get("started")


def remove_abandoned_labs(say=lambda message: None) -> list[str]:
    """Close the labs in the temp directory that are ours and whose kernel is
    gone (killed before its atexit handler could run); their directories."""
    base = tempfile.gettempdir()
    removed: list[str] = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for entry in names:
        root = os.path.join(base, entry)
        if not entry.startswith(LAB_PREFIX) or os.path.islink(root):
            continue
        try:
            if os.stat(root).st_uid != os.geteuid():
                continue
            with open(os.path.join(root, OWNER_FILE)) as f:
                owner = json.load(f)
        except (OSError, ValueError):
            continue  # not a lab of this version, or being made right now: left alone
        if _owner_alive(owner):
            continue
        try:
            Lab(open_session(owner.get("backend", "sim"), root, trace=False)).close()
        except Exception as error:  # one lab's trouble must not stop a notebook from opening
            say(f"could not remove the abandoned lab {root}: {error}")
            continue
        say(f"removed the abandoned lab {root} (its kernel was gone)")
        removed.append(root)
    return removed


__all__ = ["Lab", "open_lab", "remove_abandoned_labs", "resolve_backend"]
