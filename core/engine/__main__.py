"""``python -m stepbox.core.engine [-H unix://…] [--backend …] [--root …]``
is ``stepbox daemon``, usable before the CLI registers the command."""

from stepbox.core.cli import containers, daemon, images  # noqa: F401  (register commands)
from stepbox.core.cli.main import cli

cli(["daemon", *__import__("sys").argv[1:]], prog_name="stepbox")
