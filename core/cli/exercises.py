"""``stepbox exercises``: write a piece of the engine, let stepbox check it.

``list`` shows them, ``show NAME`` says what to do, ``start NAME [DIR]``
copies the skeleton to edit, ``check NAME [--dir DIR]`` compares it with what
stepbox's own walk does (exit 0 when solved, 1 saying what is wrong), and
``--with-solution`` checks the reference solution instead.  Like ``step``,
it runs in this process, on a lab of its own (a fresh state directory).
"""

from __future__ import annotations

import click

from .errors import CommandFailed
from .main import cli

LANG = click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the statements and messages (default: zh under a Chinese locale, LANG=zh_*, else en)",
)


def _exercise(name: str):
    from stepbox.core import exercises

    try:
        return exercises.exercise(name)
    except exercises.UnknownExercise as e:
        raise CommandFailed(f"stepbox: {e}", 125) from None


@cli.group()
def exercises() -> None:
    """Exercises: write a piece of the engine, stepbox checks it against its own walk."""


@exercises.command("list")
@LANG
def list_(lang: str | None) -> None:
    """The exercises, in the order of the course."""
    from stepbox.core import exercises as ex

    lang = ex.language(lang)
    for name, module in ex.EXERCISES.items():
        click.echo(f"{name:<15} {module.TITLE[lang]}")


@exercises.command()
@click.argument("name")
@LANG
def show(name: str, lang: str | None) -> None:
    """What exercise NAME asks."""
    from stepbox.core import exercises as ex

    module = _exercise(name)
    lang = ex.language(lang)
    click.echo(f"{name}: {module.TITLE[lang]}\n\n{module.STATEMENT[lang]}")


@exercises.command()
@click.argument("name")
@click.argument("directory", default=".")
@LANG
def start(name: str, directory: str, lang: str | None) -> None:
    """Copy the skeleton of exercise NAME into DIRECTORY (default: here) to edit."""
    from stepbox.core import exercises as ex

    module = _exercise(name)
    lang = ex.language(lang)
    path = ex.start(name, directory)
    click.echo(f"{name}: {module.TITLE[lang]}\n\n{module.STATEMENT[lang]}\n")
    click.echo(f"edit {path}, then: stepbox exercises check {name} --dir {directory}")


@exercises.command()
@click.argument("name")
@click.option("--dir", "directory", default=".", show_default=True, help="Where your file is")
@click.option("--with-solution", is_flag=True, help="Check the reference solution instead of your file")
@LANG
@click.pass_obj
def check(conn, name: str, directory: str, with_solution: bool, lang: str | None) -> None:
    """Check your file for exercise NAME: exit 0 when solved, 1 saying what is wrong."""
    import os

    from stepbox.core import exercises as ex
    from stepbox.core.notebook.lab import open_lab

    _exercise(name)
    path = ex.solution_path(name) if with_solution else os.path.join(directory, ex.file_name(name))
    lang = ex.language(lang)
    verdict = ex.VERDICTS[lang]
    with open_lab(conn.backend, lang=lang) as lab:
        try:
            ex.check(name, path, lab)
        except ex.Wrong as e:
            raise CommandFailed(verdict["wrong"].format(name=name, why=e.text(lang)), 1) from None
        click.echo(verdict["solved"].format(name=name, backend=lab.backend))
