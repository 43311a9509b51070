"""CI (``.ci/run``) runs the README's test command, word for word, and checks its first
command as a user without root: what the README promises is what CI proves."""

from __future__ import annotations

import os
import re

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_command(label: str) -> str:
    """The command in the ``sh`` block after the README's ``**LABEL**`` paragraph."""
    with open(os.path.join(CHECKOUT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"^\*\*" + label + r"\*\*.*?```sh\n(.*?)```", text, re.S | re.M)
    assert block, f"no **{label}** command in the README"
    (command,) = block.group(1).strip().splitlines()
    return command


def test_the_readme_opens_with_its_two_commands():
    with open(os.path.join(CHECKOUT, "README.md"), encoding="utf-8") as f:
        head = f.read().split("\n## ", 1)[0]  # before the first section
    assert readme_command("Run it") in head and readme_command("Test it") in head
    for label in ("Run it", "Test it"):
        assert readme_command(label).startswith("bash scripts/install.sh && ")


def test_ci_runs_the_readme_test_command_verbatim():
    with open(os.path.join(CHECKOUT, ".ci", "run"), encoding="utf-8") as f:
        lines = [line.split(" || exit")[0] for line in f.read().splitlines()]
    assert readme_command("Test it") in lines
