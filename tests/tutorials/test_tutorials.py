"""Every tutorial, English and Chinese, run block by block on both backends;
and the seed's headings, each taught by a notebook and a tutorial section."""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import nbformat
import pytest

from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON
from tests.support.lab_leftovers import clean_up, leftovers

from .blocks import parse_blocks
from .runner import kill_processes_naming, processes_naming, run_tutorial

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUTORIALS = os.path.join(CHECKOUT, "tutorials")
NOTEBOOKS = os.path.join(CHECKOUT, "notebooks")
LANGUAGES = ("en", "zh")
CHAPTERS = sorted(name for name in os.listdir(os.path.join(TUTORIALS, "en")) if name.endswith(".md"))
BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param(
        "linux",
        id="linux",
        marks=[pytest.mark.linux, pytest.mark.skipif(not IS_LINUX_ROOT, reason=LINUX_ONLY_REASON)],
    ),
]

# Every heading of the seed document (``shared/seed/docker-basics.zh.txt``),
# spelled as the seed spells them -- "Dokcer Engine" and "read-write layes"
# included, so that a reader can find them there.
SEED_HEADINGS = [
    "1.什么是Docker?",
    "2.Docker镜像和容器",
    "基础镜像概念",
    "userland",
    "Docker镜像",
    "Docker“层”的概念",
    "Docker容器",
    "Dokcer Engine",
    "Docker 架构",
    "Docker daemon",
    "Docker Client",
    "Docker Registry",
    "Images",
    "Containers",
    "Docker核心",
    "Docker namespace",
    "Docker CGroups",
    "Docker UnionFS",
    "bootfs",
    "rootfs",
    "Dockerfile",
    "联合文件系统对应的层次结构",
    "init layer",
    "read-write layes",
]


def test_each_chapter_exists_in_both_languages_and_has_its_notebook():
    assert len(CHAPTERS) == 14
    for language in LANGUAGES:
        assert sorted(os.listdir(os.path.join(TUTORIALS, language))) == CHAPTERS
    notebooks = sorted(  # the chapters' notebooks (NN-topic); exercises.ipynb has no tutorial
        name.removesuffix(".ipynb")
        for name in os.listdir(NOTEBOOKS)
        if name.endswith(".ipynb") and name[:2].isdigit() and not name.endswith(".zh.ipynb")
    )
    assert [name.removesuffix(".md") for name in CHAPTERS] == notebooks


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_both_languages_run_the_same_commands(chapter):
    def commands(language):
        with open(os.path.join(TUTORIALS, language, chapter), encoding="utf-8") as f:
            blocks = parse_blocks(f.read(), chapter)
        return [c.text for b in blocks for c in b.commands], sum(b.kind == "python" for b in blocks)

    assert commands("zh") == commands("en")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_tutorial_links_to_its_notebook_and_its_other_language(language, chapter):
    with open(os.path.join(TUTORIALS, language, chapter), encoding="utf-8") as f:
        text = f.read()
    assert f"../../notebooks/{chapter.removesuffix('.md')}.ipynb" in text
    other = next(other for other in LANGUAGES if other != language)
    assert f"](../{other}/{chapter})" in text, f"{language}/{chapter} does not link to its {other} version"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_tutorial_runs(chapter, language, backend):
    # /tmp, not tmp_path: the daemon's UNIX socket path must fit in 108 bytes
    work = tempfile.mkdtemp(prefix=f"sbx-tut-{backend}-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        failures = run_tutorial(os.path.join(TUTORIALS, language, chapter), backend, work)
        left = leftovers(work)
        running = processes_naming(work)  # its daemon(s), stopped by run_tutorial
        assert not failures, "\n\n".join(map(str, failures))
        assert left == {"mounts": [], "cgroups": [], "processes": []}, f"the tutorial left {left}"
        assert not running, f"still running after the tutorial: {running}"
    finally:
        clean_up(work)
        kill_processes_naming(work)
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------- the seed mapping


def _mapping() -> list[list[str]]:
    """The rows of the table in tutorials/README.md: seed heading | notebook | en | zh."""
    with open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8") as f:
        text = f.read()
    table = text.split("<!-- seed-map:start -->")[1].split("<!-- seed-map:end -->")[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("|")
    ]
    return rows[2:]  # without the header and the --- line


def _links(cell: str) -> list[tuple[str, str]]:
    """(target file, #anchor) of each Markdown link in a table cell."""
    return [(m.group(1), m.group(2) or "") for m in re.finditer(r"\]\(([^)#]+)(#[^)]+)?\)", cell)]


def test_the_seed_map_lists_every_heading():
    seed = os.path.join(os.path.dirname(CHECKOUT), "shared", "seed", "docker-basics.zh.txt")
    if os.path.exists(seed):  # beside the checkout, as in CI and development
        with open(seed, encoding="utf-8") as f:
            text = f.read()
        assert all(heading in text for heading in SEED_HEADINGS)
    mapped = [row[0].strip("`* ") for row in _mapping()]
    assert mapped == SEED_HEADINGS


@pytest.mark.parametrize("heading", SEED_HEADINGS)
def test_each_heading_is_taught_by_a_notebook_step_and_a_tutorial_section(heading):
    row = next(row for row in _mapping() if row[0].strip("`* ") == heading)
    _heading, notebook_cell, *tutorial_cells = row
    notebooks = _links(notebook_cell)
    assert notebooks, f"no notebook for {heading}"
    for target, _anchor in notebooks:
        notebook = nbformat.read(os.path.join(TUTORIALS, target), as_version=4)
        markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        # A notebook step that teaches it quotes the seed under this heading.
        assert re.search(r"seed: \**" + re.escape(heading), markdown), f"{target} does not teach {heading}"
    for cell, language in zip(tutorial_cells, LANGUAGES, strict=True):
        links = _links(cell)
        assert links, f"no {language} tutorial section for {heading}"
        for target, anchor in links:
            with open(os.path.join(TUTORIALS, target), encoding="utf-8") as f:
                sections = [line for line in f if line.startswith("#")]
            assert any(heading in line for line in sections), f"{target}: no section heading names {heading}"
            assert anchor and any(_anchor_of(line) == anchor[1:] for line in sections), (
                f"{target}: no section with the anchor {anchor}"
            )


def _anchor_of(heading_line: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as dashes."""
    text = heading_line.lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")
