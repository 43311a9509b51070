"""How a failed command ends: one line on stderr and docker's exit status.

* **125** -- a usage error (an unknown flag, a bad flag value), the daemon
  refused a ``run`` (``Error response from daemon``), or the CLI could not
  reach a daemon: docker's "the docker command itself failed".
* **1** -- the daemon refused any other verb (``rm nosuch``, ``create`` of a
  taken name, ``network rm`` of a network in use): docker 28's CLI wraps
  only ``run``'s errors in its status 125 (``cli.StatusError``); the rest
  reach its ``main``, which exits 1.
* **126 / 127** -- the container's command could not be executed (not
  executable / not found), as a shell reports it.
* anything else -- the container's own exit status (``run``, ``start -a``),
  passed through.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

DAEMON_REFUSED = 1  # Error response from daemon, for every verb but run
RUN_FAILED = 125  # docker run: the docker command itself failed


class CommandFailed(Exception):
    """End the command with ``message`` on stderr and ``status``."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


@contextlib.contextmanager
def run_refusals() -> Iterator[None]:
    """``docker run``: the daemon's refusal ends the command with 125."""
    from stepbox.core.engine.client import EngineError

    try:
        yield
    except EngineError as e:
        raise CommandFailed(f"stepbox: Error: {e.message}", RUN_FAILED) from None


def exec_failure_status(message: str) -> int | None:
    """126 or 127 if the daemon's error says the command could not be
    executed, else None.  docker's CLI reads the daemon's message the same
    way (``runStartContainerErr``); the wording comes from
    :class:`~stepbox.core.kernel.ExecFailed` (``exec: "x": ...``)."""
    if not message.startswith("exec: "):
        return None
    if any(
        words in message for words in ("executable file not found", "no such file or directory", "no command")
    ):
        return 127
    return 126


def in_process_failure(error: BaseException) -> CommandFailed | None:
    """For the commands that run in this process (``step``, ``daemon``):
    the errors a user can cause, as the daemon would have reported them.
    The core is imported only now, when one happened -- the client path
    must stay light."""
    from stepbox.core.engine.errors import status_of
    from stepbox.core.kernel import ExecFailed
    from stepbox.core.registry.errors import RegistryClientError

    if isinstance(error, ExecFailed):
        return CommandFailed(f"stepbox: {error}", error.exit_code)
    if status_of(error) is not None or isinstance(error, RegistryClientError):
        return CommandFailed(f"stepbox: Error: {error}", 125)
    return None


def failure_of(error: BaseException, unreachable: int = 125) -> CommandFailed | None:
    """How a client command that raised ``error`` ends: its message and
    status (``unreachable``: a daemon the connection to broke, see
    connection.py); None if it is a bug of ours (a traceback).  One chain
    for click's verbs (main.py) and run's lean path (lean_run.py)."""
    from stepbox.core.engine.client import EngineError
    from stepbox.core.engine.wire import ProtocolError

    if isinstance(error, CommandFailed):
        return error
    if isinstance(error, EngineError):
        # docker: "Error response from daemon: …", exit status 1 (run
        # says 125: see run_refusals)
        return CommandFailed(f"stepbox: Error: {error.message}", DAEMON_REFUSED)
    if isinstance(error, (ConnectionError, ProtocolError)):
        return CommandFailed(f"stepbox: Error: the connection to the daemon broke: {error}", unreachable)
    if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)):
        # a file named on the command line: say which, never a traceback
        return CommandFailed(f"stepbox: Error: {error.strerror}: {error.filename}", 125)
    if isinstance(error, Exception):
        return in_process_failure(error)
    return None
