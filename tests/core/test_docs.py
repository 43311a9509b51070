"""The README and docs/ARCHITECTURE.md point only at what is in the repository,
and the map is right: every file it names exists, and `docker stop` is where
it says, as plan steps."""

from __future__ import annotations

import os
import re

from stepbox.core.container import plan
from stepbox.core.container.steps import Phase, Step

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(CHECKOUT, "README.md")
ARCHITECTURE = os.path.join(CHECKOUT, "docs", "ARCHITECTURE.md")
TOP = ("core", "backends", "tests", "docs", "notebooks", "tutorials", "benchmarks", "scripts")


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _links(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)]


def test_the_readme_needs_nothing_outside_the_repository():
    text = _read(README)
    for target in _links(text):
        if re.match(r"[a-z]+://", target):
            continue
        path = os.path.normpath(os.path.join(CHECKOUT, target))
        assert path.startswith(CHECKOUT + os.sep), f"{target} is outside the repository"
        assert os.path.exists(path), f"the README links to {target}, which does not exist"
    assert "../" not in text, "the README names a path outside the repository"
    assert "docs/ARCHITECTURE.md" in _links(text)


def test_every_file_the_map_names_exists():
    text = _read(ARCHITECTURE)
    for target in _links(text):
        assert os.path.exists(os.path.normpath(os.path.join(CHECKOUT, "docs", target))), target
    tops = "|".join(TOP)
    named = set(re.findall(rf"`((?:{tops})/[\w./-]*)`", text))
    named |= {"core/container/" + p for p in re.findall(r"`(plan/[\w.]+\.py)`", text)}
    assert len(named) > 30
    missing = sorted(p for p in named if not os.path.exists(os.path.join(CHECKOUT, p.rstrip("/"))))
    assert missing == []


def test_docker_stop_is_one_step_from_the_map_and_it_is_plan_steps():
    section = _read(ARCHITECTURE).split("## Where `docker stop` is implemented", 1)[1].split("\n## ", 1)[0]
    assert "**`core/container/plan/stop.py`**" in section and "`stop_phase`" in section
    stop = plan.stop_phase()
    assert isinstance(stop, Phase) and all(isinstance(step, Step) for step in stop.steps)
    assert [step.key for step in stop.steps] == ["stop_signal", "grace_period"]
    assert plan.stop_phase.__module__ == "stepbox.core.container.plan.stop"
