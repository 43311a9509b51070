"""The house's linters as tests, so that the README's test command (and CI)
runs them: ruff's lint rules and formatting, and mypy (settings for all
three in pyproject.toml)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = run("-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, f"ruff check:\n{result.stdout}{result.stderr}"


def test_the_code_is_formatted():
    result = run("-m", "ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, (
        f"ruff format --check (run `ruff format` to fix):\n{result.stdout}{result.stderr}"
    )


@pytest.mark.slow
def test_mypy_finds_nothing():
    result = run(os.path.join("scripts", "typecheck.py"))
    assert result.returncode == 0, f"mypy (python scripts/typecheck.py):\n{result.stdout}{result.stderr}"
