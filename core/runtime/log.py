"""Where stepbox-runc's messages go, as runc writes them.

Callers read them back: containerd's shim takes the last ``"level":"error"``
line of ``--log`` (``--log-format json``) as the reason a command failed,
and matches words in it ("container not running", "does not exist").
Without ``--log`` the lines go to stderr as logrus's text format.  A fatal
error is also printed bare on stderr, as runc's ``fatal`` does.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime


class RuntimeLog:
    def __init__(self, path: str = "", fmt: str = "text", debug: bool = False):
        if fmt not in ("text", "json"):
            raise ValueError(f"unknown log-format {fmt!r}")
        self.path, self.fmt, self.debug_on = path, fmt, debug

    def _line(self, level: str, msg: str) -> str:
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.fmt == "json":
            return json.dumps({"level": level, "msg": msg, "time": when}) + "\n"
        return f"time={json.dumps(when)} level={level} msg={json.dumps(msg)}\n"

    def write(self, level: str, msg: str) -> None:
        line = self._line(level, msg)
        if self.path:
            try:
                with open(self.path, "a") as f:
                    f.write(line)
                return
            except OSError:
                pass  # a log that cannot be written must not hide the message
        sys.stderr.write(line)

    def debug(self, msg: str) -> None:
        if self.debug_on:
            self.write("debug", msg)

    def warning(self, msg: str) -> None:
        self.write("warning", msg)

    def fatal(self, msg: str) -> int:
        self.write("error", msg)
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()
        return 1
