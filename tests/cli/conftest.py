"""Running the real ``stepbox`` command, as a user would, on either backend."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("linux", id="linux", marks=pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)),
]


@dataclass
class Result:
    code: int
    out: str
    err: str


class Stepbox:
    """``stepbox --backend B --root TMP ...`` as a subprocess."""

    def __init__(self, backend: str, root: str):
        self.backend, self.root = backend, root

    def __call__(self, *args: str, input: str | None = None, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "stepbox", "--backend", self.backend, "--root", self.root, *args],
            input=input, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "COLUMNS": "200"})
        return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(params=BACKENDS)
def stepbox(request):
    root = tempfile.mkdtemp(prefix=f"stepbox-cli-{request.param}-")
    box = Stepbox(request.param, root)
    try:
        yield box
    finally:
        ids = box("ps", "-aq").out.split()
        if ids:
            box("rm", "-f", *ids)
        shutil.rmtree(root, ignore_errors=True)
