"""Every script step of the notebooks (``action(...)`` in a ``script_walk``) has a
Chinese title and explanation, which a Chinese lab's walk shows -- the twins keep
the English code, so the text is looked up (core/notebook/in_chinese.py), as the
lifecycle's steps are: none falls back to English unnoticed, none is left over."""

from __future__ import annotations

import ast
import os
import re

import nbformat
from stepbox.core.container.steps import Step
from stepbox.core.notebook import open_lab
from stepbox.core.notebook.in_chinese import IN_CHINESE, chinese
from stepbox.core.notebook.script import action, script_walk

from tests.notebooks.test_notebooks import ENGLISH, NOTEBOOK_DIR

CJK = re.compile(r"[\u4e00-\u9fff]")


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def script_steps(name: str) -> list[tuple[str, str]]:
    """(title, explanation) of each script step the notebook's code writes out:
    ``action(key, title, explain, ...)``, and chapter 04's ``command(key,
    explain, *args)``, whose title is the command line ``stepbox ARGS``."""
    notebook = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    found: list[tuple[str, str]] = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [_text(arg) for arg in node.args]
            if node.func.id == "action" and len(texts) >= 3:
                title, explain = texts[1], texts[2]
                if title is not None and explain is not None:
                    found.append((title, explain))
            elif node.func.id == "command" and len(texts) >= 3:
                words = [text for text in texts if text is not None]
                if len(words) == len(texts):
                    found.append(("stepbox " + " ".join(words[2:]), words[1]))
    return found


def every_script_step() -> dict[str, list[tuple[str, str]]]:
    return {name: steps for name in ENGLISH if (steps := script_steps(name))}


def _step(title: str, explain: str) -> Step:
    return action("k", title, explain, "concept", lambda ctx: None)


def test_the_notebooks_have_the_script_steps_we_think():
    found = every_script_step()
    assert {name[:2]: len(steps) for name, steps in found.items()} == {"04": 6, "05": 5, "08": 5, "10": 7}


def test_every_script_step_has_a_chinese_title_and_explanation():
    missing = [
        f"{name}: {title}"
        for name, steps in every_script_step().items()
        for title, explain in steps
        if chinese(_step(title, explain)) is None
    ]
    assert missing == [], "script steps without Chinese text (add them to core/notebook/in_chinese.py)"
    for _title, chinese_title, chinese_explain in IN_CHINESE.values():
        assert CJK.search(chinese_explain) and chinese_title, chinese_title


def test_no_translation_is_left_over():
    used = {explain for steps in every_script_step().values() for _title, explain in steps}
    assert set(IN_CHINESE) - used == set(), "Chinese texts of English ones that no notebook has any more"


def test_an_edited_english_text_has_no_chinese_until_translated():
    title, explain = every_script_step()["05-registry.ipynb"][0]
    assert chinese(_step(title, explain)) is not None
    assert chinese(_step(title, explain + " More.")) is None
    assert chinese(_step(title + "!", explain)) is None


def test_a_script_walk_in_a_chinese_lab_says_it_in_chinese():
    title, explain = every_script_step()["08-unionfs.ipynb"][0]
    shown = {}
    for lang in ("en", "zh"):
        with open_lab("sim", lang=lang, base_image=False) as lab:
            walk = script_walk(
                lab, [action("read", title, explain, "Docker UnionFS", lambda ctx: "<p>done</p>")]
            )
            [view] = walk.run_to_end()
            shown[lang] = view._repr_html_()
    assert title in shown["en"] and not CJK.search(shown["en"])
    assert IN_CHINESE[explain][1] in shown["zh"] and IN_CHINESE[explain][2] in shown["zh"]
    assert title not in shown["zh"] and "<p>done</p>" in shown["zh"]
