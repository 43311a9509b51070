"""`stepbox --version`: docker's `-v, --version`, answered before click is imported."""

from __future__ import annotations

import subprocess
import sys

import pytest
from stepbox import __version__


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version_is_answered_without_the_argument_parser_or_the_client(flag):
    code = (
        "import sys; from stepbox.core.cli.entry import main; "
        f"sys.argv = ['stepbox', {flag!r}]; main(); "
        "print(sorted(n for n in ('click', 'stepbox.core.engine.client', 'stepbox.core.cli.main') "
        "if n in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, f"stepbox version {__version__}\n[]\n"), result.stderr


def test_version_after_global_options_says_the_same():
    """Past the fast path (another option first) click's own --version answers."""
    result = subprocess.run(
        [sys.executable, "-m", "stepbox", "--backend", "sim", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, f"stepbox version {__version__}\n"), result.stderr
