"""The repository stands alone: its README and docs point only at files in it.

A clone is all a reader has.  Every relative link of every Markdown file (and
of the notebooks' Markdown cells) must name a file or directory of the
checkout, and no text may send the reader to a path beside it (``../shared``);
the seed document is cited by its title, *Docker的基础知识*.
"""

from __future__ import annotations

import json
import os
import re

import pytest

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP_DIRS = {".git", "corpus", "node_modules", "__pycache__"}
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target)


def documents() -> list[str]:
    found = []
    for base, dirs, files in os.walk(CHECKOUT):
        dirs[:] = [
            d for d in dirs if d not in SKIP_DIRS and not d.startswith((".venv", ".")) and "egg-info" not in d
        ]
        found += [os.path.join(base, f) for f in files if f.endswith((".md", ".ipynb"))]
    return sorted(found)


def markdown_of(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        if not path.endswith(".ipynb"):
            return f.read()
        cells = json.load(f)["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


DOCUMENTS = documents()


def test_there_are_documents_to_check():
    names = {os.path.relpath(p, CHECKOUT) for p in DOCUMENTS}
    assert {"README.md", "tutorials/README.md", "backends/sim/SIMPLIFICATIONS.md"} <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: os.path.relpath(p, CHECKOUT))
def test_links_name_files_of_the_checkout(path):
    text = markdown_of(path)
    here = os.path.dirname(path)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor in the same file
        file_part = target.split("#", 1)[0]
        resolved = os.path.normpath(os.path.join(here, file_part))
        if not resolved.startswith(CHECKOUT + os.sep) or not os.path.exists(resolved):
            broken.append(target)
    assert broken == [], f"links to nothing in the checkout: {broken}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: os.path.relpath(p, CHECKOUT))
def test_no_path_outside_the_checkout_is_mentioned(path):
    text = markdown_of(path)
    assert not re.search(r"\.\./shared|/work/", text), "names a path outside the repository"
