""".dockerignore: Docker's rules by example, a property test against a
segment-by-segment reference matcher, and what the build context holds."""

from __future__ import annotations

import fnmatch
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.dockerfile.context import load_context
from stepbox.core.dockerfile.dockerignore import IgnoreError, PatternMatcher, read_patterns


def excluded(patterns: list[str], path: str) -> bool:
    return PatternMatcher(read_patterns("\n".join(patterns))).matches(path)


@pytest.mark.parametrize(
    "patterns,path,expected",
    [
        (["*.log"], "a.log", True),
        (["*.log"], "dir/a.log", False),  # "*" does not cross "/"
        (["**/*.log"], "dir/sub/a.log", True),
        (["**/*.log"], "a.log", True),  # "**" may match no directory at all
        (["dir"], "dir/deep/file", True),  # a directory takes its contents along
        (["dir/*"], "dir/a/b", True),  # ...also when matched as a parent
        (["d?r"], "dir", True),
        (["d?r"], "d/r", False),
        (["[a-c]x"], "bx", True),
        (["*", "!keep"], "keep", False),  # the last match wins
        (["*", "!keep", "keep"], "keep", True),
        (["!keep", "*"], "keep", True),
        (["/abs"], "abs", True),  # a leading "/" is the context root
        (["./a/../b"], "b", True),  # patterns are cleaned like paths
        (["docs/**"], "docs", False),  # trailing "**" needs something below
        (["docs/**"], "docs/a/b", True),
        (["a/**/b"], "a/b", True),
        (["a/**/b"], "a/x/y/b", True),
        (["\\*"], "*", True),
        (["\\*"], "x", False),
        (["file.txt"], "fileatxt", False),  # "." is literal
    ],
)
def test_examples(patterns, path, expected):
    assert excluded(patterns, path) is expected


def test_reading_the_file():
    text = "\ufeff# comment\n  spaced.txt  \n\n!  reincluded\n/rooted/\n #not a comment\n"
    assert read_patterns(text) == ["spaced.txt", "!reincluded", "rooted", "#not a comment"]


def test_lone_exclamation_is_an_error():
    with pytest.raises(IgnoreError, match="illegal exclusion pattern"):
        PatternMatcher(["!"])


def test_excluded_directory_is_walked_only_for_exceptions():
    matcher = PatternMatcher(read_patterns("build\n!build/keep\n"))
    assert matcher.may_reinclude_below("build")
    assert not matcher.may_reinclude_below("other")


def test_context_honours_dockerignore(tmp_path):
    for rel in (
        "keep/a.txt",
        "logs/1.log",
        "build/out.o",
        "build/keep/k.txt",
        "x.md",
        "sub/y.md",
        "Dockerfile",
    ):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (tmp_path / ".dockerignore").write_text("logs\n**/*.md\nbuild\n!build/keep\nDockerfile\n.dockerignore\n")
    context = load_context(str(tmp_path))
    assert sorted(p for p in context.files if p != ".") == [
        "build",
        "build/keep",
        "build/keep/k.txt",
        "keep",
        "keep/a.txt",
        "sub",
    ]
    # "build" itself was excluded; it comes back only as a parent (0755)
    assert context.files["build"].mode == 0o755


def test_context_keeps_modes_and_symlinks(tmp_path):
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "run.sh", 0o750)
    os.symlink("run.sh", tmp_path / "link")
    context = load_context(str(tmp_path))
    assert context.files["run.sh"].mode == 0o750
    assert context.files["link"].kind == "symlink" and context.files["link"].link == "run.sh"


# ---------------------------------------------------------------- property

SEGMENT = st.sampled_from(["a", "b", "ab", "*", "?", "a*", "*b", "**"])
PATH_SEGMENT = st.sampled_from(["a", "b", "ab", "ba", "aa"])


def reference_match(pattern: list[str], path: list[str]) -> bool:
    """Segment by segment: ``**`` spans any number of whole segments (at
    least one when it ends the pattern), anything else is a one-segment glob."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if not rest:
            return len(path) >= 1
        return any(reference_match(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and reference_match(rest, path[1:])


def reference_excluded(patterns: list[tuple[bool, list[str]]], path: list[str]) -> bool:
    result = False
    for negated, pattern in patterns:
        match = reference_match(pattern, path)
        parents = path[:-1]
        if not match and parents and len(pattern) <= len(parents):
            match = reference_match(pattern, parents[: len(pattern)])
        if match:
            result = not negated
    return result


@given(
    st.lists(st.tuples(st.booleans(), st.lists(SEGMENT, min_size=1, max_size=3)), min_size=1, max_size=4),
    st.lists(PATH_SEGMENT, min_size=1, max_size=4),
)
def test_matcher_agrees_with_the_reference(patterns, path):
    # "**" glued to other text ("a**") has no segment meaning: keep "**" whole
    texts = [("!" if neg else "") + "/".join(p) for neg, p in patterns]
    matcher = PatternMatcher(texts)
    assert matcher.matches("/".join(path)) == reference_excluded(patterns, path)
