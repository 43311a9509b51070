"""``python -m stepbox.core.engine [-H unix://…] [--backend …] [--root …]``
is ``stepbox daemon`` (how the engine tests start their daemons)."""

from stepbox.core.cli.main import cli

cli(["daemon", *__import__("sys").argv[1:]], prog_name="stepbox")
