"""``run``'s lean path (core/cli/lean_run.py) reads a command line exactly as click does, or not at all.

No daemon is needed: both paths parse the same command lines here, and
where the lean one takes one, it must mean what click's means -- the same
global options, the same run parameters, the same create request.  What it
does not take is click's to read (its errors included); the CLI tests run
every ``run`` through ``python -m stepbox``, so through both paths.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.core.cli import (
    containers,  # noqa: F401  (registers run on cli)
    lean_globals,
    lean_run,
)
from stepbox.core.cli.main import cli
from stepbox.core.cli.run_body import create_body

GLOBAL_ENV = tuple(lean_globals.GLOBAL_ENV.values())


def click_reading(args: list[str]) -> tuple[dict, dict]:
    """click's parameters of the group and of ``run`` for ``args``."""
    ctx = cli.make_context("stepbox", list(args))
    rest = [*ctx._protected_args, *ctx.args]
    _name, command, rest = cli.resolve_command(ctx, rest)
    assert command is not None
    return dict(ctx.params), dict(command.make_context("run", rest, parent=ctx).params)


def globals_of(group: dict) -> lean_globals.LeanGlobals:
    """The global options of click's reading of the group, as the lean paths hold them."""
    return lean_globals.LeanGlobals(**{name: group[name] for name in lean_globals.GLOBAL_ENV})


def _options(command: click.Command) -> dict[str, click.Option]:
    return {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts}


def test_the_spellings_it_takes_are_clicks_own():
    group, run = _options(cli), _options(cli.commands["run"])
    for spelling, name in lean_globals.GLOBAL_VALUES.items():
        assert group[spelling].name == name and not group[spelling].is_flag
        assert group[spelling].envvar == lean_globals.GLOBAL_ENV[name]
    assert list(group["--backend"].type.choices) == list(lean_globals.BACKENDS)
    assert list(vars(lean_globals.LeanGlobals())) == list(lean_globals.GLOBAL_ENV)
    assert globals_of(click_reading(["run", "busybox"])[0]) == lean_globals.LeanGlobals()  # the same defaults
    for spelling, name in lean_run.RUN_FLAGS.items():
        assert run[spelling].name == name and run[spelling].is_flag, spelling
    for spelling, name in lean_run.RUN_VALUES.items():
        option = run[spelling]
        assert option.name == name and not option.is_flag, spelling
        assert option.multiple == (name in lean_run.REPEATED), spelling
        assert option.type in (click.STRING,), spelling  # taken as given, as click does
    _, defaults = click_reading(["run", "busybox"])  # what click gives a parameter not given
    assert {name: defaults[name] for name in lean_run.RUN_DEFAULTS} == lean_run.RUN_DEFAULTS


GLOBALS = [
    "--backend",
    "sim",
    "linux",
    "auto",
    "bogus",
    "--root",
    "/r",
    "-H",
    "unix:///s",
    "--host",
    "-c",
    "lab",
]
GLOBALS += ["--context", "--tls", "--tlsverify=false", "--version", "--help", "-"]
RUN = ["--rm", "-d", "--detach", "-i", "-t", "-it", "--tty", "--interactive", "--init", "--read-only"]
RUN += ["--privileged", "-P", "--publish-all", "--name", "n1", "--network", "none", "--net", "-e", "A=1"]
RUN += ["-eA=1", "--env=B=2", "-w", "/w", "--workdir", "-u", "0", "--user", "-h", "box", "--hostname"]
RUN += ["--entrypoint", "", "-l", "k=v", "--label", "-m", "8m", "12q", "--memory", "--cpus", "0.5", "x"]
RUN += ["-v", "/a:/b", "--volume", "-p", "80", "8080:80", "--publish", "--pull", "never", "--restart"]
RUN += ["always", "--sig-proxy=false", "--detach-keys", "--", "--help", "--bogus", "-", "busybox"]
TAIL = ["busybox", "sh", "-c", "echo hi", "--rm", "-e", "A=1", "--", "-"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(GLOBALS), max_size=4),
    st.lists(st.sampled_from(RUN), max_size=8),
    st.lists(st.sampled_from(TAIL), max_size=4),
)
def test_what_it_takes_means_what_click_reads(before, options, after):
    with without_global_env():
        check_both_read([*before, "run", *options, *after])


def check_both_read(args: list[str]) -> None:
    lean = lean_run.parse(args)
    if lean is None:
        return  # click's path reads it
    group, run = click_reading(args)  # click takes it too: no usage error
    assert lean.globals == globals_of(group)
    assert (lean.detach, lean.name, lean.image, lean.command) == (
        run.pop("detach"),
        run.pop("name"),
        run.pop("image"),
        run.pop("command"),
    )
    assert (run.pop("detach_keys"), run.pop("sig_proxy")) == ("", True)  # what the lean path runs with
    for name in ("pull", "cidfile", "auto_remove", "interactive", "tty"):
        assert lean.flags[name] == run[name], name
    assert _body(lean.image, lean.command, lean.flags) == _body(lean.image, lean.command, run)


def _body(image, command, flags) -> object:
    try:
        return create_body(image, command, attached=True, **flags)
    except Exception as e:  # the lean path leaves it to click's: the same error either way
        return (type(e), str(e))


@contextlib.contextmanager
def without_global_env():
    """No STEPBOX_ global option in the environment (both paths read it)."""
    with pytest.MonkeyPatch.context() as patch:
        for variable in GLOBAL_ENV:
            patch.delenv(variable, raising=False)
        yield


def test_the_environment_is_read_as_click_reads_it(monkeypatch):
    monkeypatch.setenv("STEPBOX_BACKEND", "sim")
    monkeypatch.setenv("STEPBOX_ROOT", "")  # empty: no value, for click too
    monkeypatch.delenv("STEPBOX_HOST", raising=False)
    monkeypatch.delenv("STEPBOX_CONTEXT", raising=False)
    lean = lean_run.parse(["run", "busybox"])
    group, _ = click_reading(["run", "busybox"])
    assert lean is not None and (lean.globals.backend, lean.globals.root) == (group["backend"], group["root"])
    assert (group["backend"], group["root"]) == ("sim", None)
    monkeypatch.setenv("STEPBOX_BACKEND", "bogus")
    assert lean_run.parse(["run", "busybox"]) is None  # click's path refuses it by name


@pytest.mark.parametrize(
    "args",
    [
        ["run", "-it", "busybox"],  # combined flags
        ["run", "--env=A=1", "busybox"],  # an attached value
        ["run", "--name", "-x", "busybox"],  # a value that looks like a flag
        ["run", "--", "busybox"],
        ["run", "--help"],
        ["run", "--rm"],  # no image
        ["--tls", "run", "busybox"],
        ["ps"],
    ],
)
def test_what_it_leaves_to_click(args):
    assert lean_run.parse(args) is None


def test_a_lean_run_needs_no_click():
    """Through the entry point, a refused connection and all: the run ends
    as click's path would end it (125: no daemon there), without click."""
    code = (
        "import sys; from stepbox.core.cli.entry import main\n"
        "sys.argv = ['stepbox', '-H', 'unix:///nonexistent/stepbox.sock', 'run', '--rm', 'busybox', 'true']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        "print(status, 'click' in sys.modules, 'stepbox.core.cli.main' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout == "125 False False\n", result.stderr
    assert "Cannot connect to the stepbox daemon at unix:///nonexistent/stepbox.sock" in result.stderr


def test_a_lean_run_imports_little():
    """What ``run`` imports before its first request leaves out the heavy
    modules it has no use for (issue 18: dataclasses with inspect, ast and
    tokenize, typing, datetime and urllib.parse with ipaddress were 40% of
    those imports' CPU time)."""
    heavy = ("dataclasses", "inspect", "typing", "datetime", "urllib.parse", "ipaddress", "click")
    code = (
        "import sys\n"
        "from stepbox.core.cli import connection, entry, lean_run, run_verb\n"
        "from stepbox.core.engine import client\n"
        "lean = lean_run.parse(['--root', '/nonexistent', 'run', '--rm', '--network', 'none', 'busybox', 'true'])\n"
        "prepared = run_verb.prepare_run(lean.detach, '', True, lean.image, lean.command, lean.flags)\n"
        "conn = lean.globals.connection(print, verb='run')\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout == "[]\n", result.stderr
