"""``build``'s lean path (core/cli/lean_build.py) reads a command line exactly as click does, or not at all.

No daemon is needed for the readings: where the lean path takes a command
line, it must mean what click's means -- the same global options and the
same parameters of build.  What it does not take is click's to read (its
errors included).  The CLI's build tests run ``stepbox build`` through the
entry point, so through both paths.
"""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.core.cli import (
    build,  # noqa: F401  (registers build on cli)
    lean_build,
)
from stepbox.core.cli.main import cli

from tests.cli.test_lean_run import globals_of, without_global_env


def click_reading(args: list[str]) -> tuple[dict, dict]:
    """click's parameters of the group and of ``build`` for ``args``."""
    ctx = cli.make_context("stepbox", list(args))
    rest = [*ctx._protected_args, *ctx.args]
    _name, command, rest = cli.resolve_command(ctx, rest)
    assert command is not None and command.name == "build"
    return dict(ctx.params), dict(command.make_context("build", rest, parent=ctx).params)


def _options(command: click.Command) -> dict[str, click.Option]:
    return {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts}


def test_the_spellings_it_takes_are_clicks_own():
    options = _options(cli.commands["build"])
    for spelling, name in lean_build.BUILD_FLAGS.items():
        assert options[spelling].name == name and options[spelling].is_flag, spelling
    for spelling, name in lean_build.BUILD_VALUES.items():
        option = options[spelling]
        assert option.name == name and not option.is_flag, spelling
        assert option.multiple == (name in lean_build.REPEATED), spelling
        assert option.type is click.STRING and option.callback is None, spelling  # taken as given
    arguments = [p for p in cli.commands["build"].params if isinstance(p, click.Argument)]
    assert [(p.name, p.nargs, p.required) for p in arguments] == [("path", 1, True)]
    _, defaults = click_reading(["build", "."])
    assert defaults == {**lean_build.BUILD_DEFAULTS, "path": "."}


GLOBALS = ["--backend", "sim", "bogus", "--root", "/r", "-H", "unix:///s", "-c", "lab", "--tls", "--help"]
BUILD = ["-t", "app:1", "--tag", "-tx", "--tag=y", "-f", "Dockerfile.dev", "--file", "--build-arg", "A=1"]
BUILD += ["B", "--no-cache", "--target", "base", "-q", "--quiet", "-qt", "--pull", "--help", "--", "-", "."]
TAIL = [".", "ctx", "-q", "-t", "z", "-"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(GLOBALS), max_size=3),
    st.lists(st.sampled_from(BUILD), max_size=7),
    st.lists(st.sampled_from(TAIL), max_size=3),
)
def test_what_it_takes_means_what_click_reads(before, options, after):
    args = [*before, "build", *options, *after]
    with without_global_env():
        lean = lean_build.parse(args)
        if lean is None:
            return  # click's path reads it
        group, params = click_reading(args)  # click takes it too: no usage error
    assert lean.globals == globals_of(group)
    assert lean.params == params


@pytest.mark.parametrize(
    "args",
    [
        ["build", "-qt", "x", "."],  # combined flags
        ["build", "--tag=x", "."],  # an attached value
        ["build", "-t", "-q", "."],  # a value that looks like a flag
        ["build", "-"],  # the context on stdin
        ["build", ".", "-q"],  # a flag after PATH
        ["build", ".", "other"],  # two PATHs
        ["build", "-q"],  # no PATH
        ["build", "--help"],
        ["--tls", "build", "."],
        ["run", "busybox", "build", "."],
    ],
)
def test_what_it_leaves_to_click(args):
    with without_global_env():
        assert lean_build.parse(args) is None


# What a cached rebuild's client does without (issue 18: its start-up is most
# of the rebuild): no dataclasses (inspect, ast), no hashing, no URL parsing.
HEAVY_FOR_BUILD = ("dataclasses", "inspect", "hashlib", "secrets", "datetime", "urllib.parse", "threading")


def test_a_lean_build_needs_no_click(tmp_path):
    """Through the entry point, a refused connection and all: the build
    ends as click's path would end it (1: no daemon there), without click."""
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    code = (
        "import sys; from stepbox.core.cli.entry import main\n"
        f"sys.argv = ['stepbox', '-H', 'unix:///nonexistent/stepbox.sock', 'build', '-q', {str(tmp_path)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        "print(status, 'click' in sys.modules, 'stepbox.core.cli.main' in sys.modules)\n"
        f"print(sorted(set({HEAVY_FOR_BUILD!r}) & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout == "1 False False\n[]\n", result.stderr
    assert "Cannot connect to the stepbox daemon at unix:///nonexistent/stepbox.sock" in result.stderr
    clicks = subprocess.run(
        [
            sys.executable,
            "-m",
            "stepbox",
            "-H",
            "unix:///nonexistent/stepbox.sock",
            "build",
            "-q",
            "--",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (clicks.returncode, clicks.stderr) == (1, result.stderr)  # click's path ends it the same way
