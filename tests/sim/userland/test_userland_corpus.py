"""The shell corpus (tests/corpus/shell): every script must print what REAL
busybox 1.35 printed, byte for byte, and exit with the same status.

The expected outputs were recorded by ``tests/corpus/shell/record.py``; the
scripts run here exactly as there: ``sh -c SCRIPT`` in an empty working
directory, PATH holding only busybox applets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "shell"
SCRIPTS = sorted(CORPUS.glob("*.sh"))


def test_corpus_is_there():
    assert len(SCRIPTS) >= 40
    for script in SCRIPTS:
        assert script.with_suffix(".expected.json").exists(), f"record {script.name} first"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_matches_real_busybox(box, script):
    expected = json.loads(script.with_suffix(".expected.json").read_text())
    got = box.sh(script.read_text(), env={"PATH": "/bin:/usr/bin", "HOME": "/root"})
    assert (got.stdout, got.stderr, got.status) == (
        expected["stdout"],
        expected["stderr"],
        expected["status"],
    )
