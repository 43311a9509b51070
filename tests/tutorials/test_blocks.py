"""The tutorial runner's reading of code blocks and of shown output."""

from __future__ import annotations

import pytest

from .blocks import TutorialError, output_matches, parse_blocks


def test_console_commands_their_continuations_and_their_output():
    blocks = parse_blocks(
        "text\n```console\n$ echo a \\\n>   b\na b\n$ cat > f <<'EOF'\n> x\n> EOF\n$ true\n```\n"
        "```python\nprint(1)\n```\n"
    )
    assert [b.kind for b in blocks] == ["console", "python"]
    commands = blocks[0].commands
    assert [c.text for c in commands] == ["echo a \\\n  b", "cat > f <<'EOF'\nx\nEOF", "true"]
    assert [c.expected for c in commands] == [["a b"], [], []]
    assert blocks[1].source == "print(1)\n" and blocks[1].line == 12


@pytest.mark.parametrize("markdown", ["```sh\nls\n```\n", "```\nls\n```\n", "```console\n$ ls\n"])
def test_blocks_that_would_not_run_are_refused(markdown):
    with pytest.raises(TutorialError):
        parse_blocks(markdown)


@pytest.mark.parametrize(
    "expected, actual, matches",
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),
        (["a", "..."], ["a", "b", "c"], True),
        (["...", "c"], ["c"], True),
        (["id ...!"], ["id 3f2a!"], True),
        (["id ...!"], ["id 3f2a?"], False),
        (["x...y...z"], ["x1y2z"], True),
        (["(a.b)"], ["(axb)"], False),  # only "..." is special
        (["...", "b", "..."], ["a", "c"], False),
    ],
)
def test_output_matching(expected, actual, matches):
    assert output_matches(expected, actual) is matches
