"""A pulled image runs with ``stepbox run`` exactly like a local one, on both
backends, whether it came through the stepbox registry or the CNCF one."""

from __future__ import annotations

import subprocess
import sys
from contextlib import nullcontext

import pytest
from stepbox.core.image.store import ImageStore

from tests.support.daemons import stopping_daemons

from .interop import IS_LINUX_ROOT, NOT_LINUX_ROOT, busybox_image, cncf_registry


@pytest.mark.parametrize("backend", ["sim", "linux"])
@pytest.mark.parametrize("through", ["stepbox", "cncf"])
def test_pulled_busybox_runs(backend, through, registry, new_store, client_for, tmp_path):
    # The real kernel and the CNCF registry (a container) need root on Linux;
    # anything else that stops a backend from starting is a failure to see.
    if (backend == "linux" or through == "cncf") and not IS_LINUX_ROOT:
        pytest.skip(NOT_LINUX_ROOT)
    root = str(tmp_path / "state")
    with cncf_registry() if through == "cncf" else nullcontext(registry.netloc) as netloc:
        name = f"{netloc}/library/busybox:pulled"
        source = new_store()
        busybox_image(source, name)
        client_for(source).push(name)
        target = ImageStore(f"{root}/images")  # the store `stepbox --root` uses
        client_for(target).pull(name)
    with stopping_daemons(root):  # `run` starts the root's daemon
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "stepbox",
                "--backend",
                backend,
                "--root",
                root,
                "run",
                "--rm",
                name,
                "echo",
                f"hello from {through} on {backend}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"hello from {through} on {backend}"
