"""A lab: one engine in this process, on a fresh state directory, for one notebook.

Every notebook starts with ``lab = open_lab(BACKEND)`` and ends with
``lab.close()``.  ``BACKEND`` is the one parameter a notebook has:

* ``"auto"`` -- the real kernel when root on Linux, else the simulator
  (the same rule as ``stepbox --backend auto``);
* ``"sim"`` / ``"linux"`` -- that one.

The state directory is new and temporary, so a notebook never sees (or
disturbs) the images and containers of the learner's own ``stepbox``, and
closing the lab removes every container it made -- processes, mounts,
cgroups -- before the directory goes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field

from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.record import PAUSED, RUNNING, ContainerRecord
from stepbox.core.image.bootstrap import ensure_busybox
from stepbox.core.kernel.backend_lookup import choose_backend
from stepbox.core.session import Session, open_session

_HEX_ID = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")


def resolve_backend(backend: str = "auto") -> str:
    """``auto`` -> ``linux`` or ``sim``; an unusable explicit choice raises
    :class:`~stepbox.core.kernel.errors.BackendUnavailable` saying why."""
    name, _module = choose_backend(backend)
    return name


@dataclass
class Lab:
    session: Session
    _closed: bool = field(default=False, repr=False)

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
        reads them better as ``$ROOT/...`` and 12 digits (as docker shows IDs)."""
        return _HEX_ID.sub(r"\1…", text.replace(self.root, "$ROOT"))

    # -- the end ---------------------------------------------------------------------
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
        try:
            self.remove_all()
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
        from .tables import html_table

        return html_table(
            [("backend", self.backend), ("kernel", self.kernel.description), ("state directory", self.root)],
            caption="this notebook's engine",
        )


def open_lab(backend: str | None = None, say=lambda message: None, base_image: bool = True) -> Lab:
    """A fresh engine on ``backend`` (see the module docstring; ``None``: the
    ``STEPBOX_BACKEND`` environment variable, as for the CLI, else ``auto``).
    ``base_image``: make the ``busybox`` image at once (else the store starts empty)."""
    backend = backend or os.environ.get("STEPBOX_BACKEND") or "auto"
    name = resolve_backend(backend)
    root = tempfile.mkdtemp(prefix="stepbox-lab-")
    try:
        session = open_session(name, root, say=say, trace=True)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    lab = Lab(session)
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


__all__ = ["Lab", "open_lab", "resolve_backend"]
