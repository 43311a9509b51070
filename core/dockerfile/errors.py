"""The errors a build can end with, each saying where and what to do.

A Dockerfile mistake names the file, the line number and the line itself, so
the user can go straight to it::

    Dockerfile:3: unknown instruction: RUNN (line: "RUNN echo")
"""

from __future__ import annotations


class BuildError(Exception):
    """Any build failure a user can cause (bad context, missing file, ...)."""


class DockerfileError(BuildError):
    """A line the parser or the builder refuses, with its location."""

    def __init__(self, message: str, *, filename: str = "Dockerfile", line: int = 0, text: str = ""):
        self.message, self.filename, self.line, self.text = message, filename, line, text
        where = f"{filename}:{line}: " if line else f"{filename}: "
        shown = f' (line: "{text}")' if text else ""
        super().__init__(f"{where}{message}{shown}")


class RunFailed(BuildError):
    """A ``RUN`` whose command exited non-zero: its status and its output."""

    def __init__(self, command: list[str], exit_code: int, output: str):
        self.command, self.exit_code, self.output = command, exit_code, output
        self.summary = f"The command '{' '.join(command)}' returned a non-zero code: {exit_code}"
        super().__init__(self.summary + (f"\n{output.rstrip()}" if output.strip() else ""))
