"""OCI hooks: programs the caller asked to run at points of the lifecycle.

Each gets the container's state JSON on stdin (runtime-spec config.md,
"POSIX-platform Hooks").  prestart and createRuntime run after the
namespaces exist and before pivot_root, in the runtime's namespace;
poststart after start; poststop when the container is deleted.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from .spec import Hook


class HookFailed(RuntimeError):
    pass


def run_hooks(kind: str, hooks: list[dict[str, Any]] | tuple[Hook, ...], state: dict[str, Any]) -> None:
    data = json.dumps(state).encode()
    for hook in hooks:
        h = (
            hook
            if isinstance(hook, Hook)
            else Hook(hook["path"], tuple(hook["args"]), tuple(hook["env"]), hook["timeout"])
        )
        argv = list(h.args) or [h.path]
        env = dict(item.split("=", 1) for item in h.env if "=" in item)
        try:
            done = subprocess.run(
                argv,
                executable=h.path,
                input=data,
                env=env,
                capture_output=True,
                timeout=h.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HookFailed(f"error running {kind} hook {h.path}: timed out after {h.timeout}s") from None
        except OSError as e:
            raise HookFailed(f"error running {kind} hook {h.path}: {e.strerror}") from None
        if done.returncode != 0:
            raise HookFailed(
                f"error running {kind} hook {h.path}: exit status {done.returncode}, stdout: "
                f"{done.stdout.decode(errors='replace')}, stderr: {done.stderr.decode(errors='replace')}"
            )
