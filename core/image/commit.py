"""``docker commit``: a container's read-write layer becomes an image layer.

The seed: "已经运行的容器中，可以将更改的部分创建为镜像" -- what a running container
changed can be made into an image.  Only the read-write layer is read, so the
cost follows the size of the change, not of the image: the new image refers
to its parent's layers by digest and adds one layer on top (none if the
container changed nothing, as dockerd).
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Sequence

from stepbox.core.kernel import LayerEntry

from .store import Image, ImageStore, now_rfc3339

# The instructions `docker commit --change` accepts.
CHANGE_INSTRUCTIONS = (
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "ONBUILD",
    "USER",
    "VOLUME",
    "WORKDIR",
    "STOPSIGNAL",
)


class InvalidChange(ValueError):
    pass


def _exec_or_shell(argument: str) -> list[str]:
    """JSON form ``["a","b"]`` as it is; shell form runs under /bin/sh -c."""
    text = argument.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", text]


def _pairs(argument: str, what: str) -> dict[str, str]:
    words = shlex.split(argument)
    if len(words) >= 1 and "=" not in words[0]:  # legacy form: ENV KEY value with spaces
        if len(words) < 2 and what == "ENV":
            raise InvalidChange(f"ENV {argument}: ENV names can not be blank and need a value")
        key, _, value = argument.strip().partition(" ")
        return {key: value.strip()}
    pairs = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InvalidChange(f"{what} {argument}: expected KEY=VALUE, got {word!r}")
        pairs[key] = value
    return pairs


def apply_change(config: dict, line: str) -> None:
    """Apply one ``--change`` Dockerfile instruction to an image config section."""
    instruction, _, argument = line.strip().partition(" ")
    instruction = instruction.upper()
    if instruction not in CHANGE_INSTRUCTIONS:
        raise InvalidChange(
            f"{instruction} is not a valid change command (allowed: {', '.join(CHANGE_INSTRUCTIONS)})"
        )
    if not argument.strip():
        raise InvalidChange(f"{instruction} requires at least one argument")
    if instruction == "CMD":
        config["Cmd"] = _exec_or_shell(argument)
    elif instruction == "ENTRYPOINT":
        config["Entrypoint"] = _exec_or_shell(argument)
    elif instruction == "ENV":
        env = dict(item.partition("=")[::2] for item in config.get("Env") or [])
        env.update(_pairs(argument, "ENV"))
        config["Env"] = [f"{k}={v}" for k, v in env.items()]
    elif instruction == "LABEL":
        config["Labels"] = {**(config.get("Labels") or {}), **_pairs(argument, "LABEL")}
    elif instruction == "EXPOSE":
        ports = config.setdefault("ExposedPorts", {}) or {}
        for port in argument.split():
            ports[port if "/" in port else f"{port}/tcp"] = {}
        config["ExposedPorts"] = ports
    elif instruction == "VOLUME":
        volumes = config.get("Volumes") or {}
        for path in _exec_or_shell(argument) if argument.strip().startswith("[") else argument.split():
            volumes[path] = {}
        config["Volumes"] = volumes
    elif instruction == "USER":
        config["User"] = argument.strip()
    elif instruction == "WORKDIR":
        config["WorkingDir"] = argument.strip()
    elif instruction == "STOPSIGNAL":
        config["StopSignal"] = argument.strip()
    elif instruction == "ONBUILD":
        config["OnBuild"] = [*(config.get("OnBuild") or []), argument.strip()]


def commit_layer(
    store: ImageStore,
    parent: Image,
    changes: list[LayerEntry],
    *,
    container_config: dict,
    created_by: str,
    ref: str | None,
    message: str = "",
    author: str = "",
    change_lines: Sequence[str] = (),
) -> Image:
    """A new image: ``parent``'s layers plus ``changes`` as one more layer --
    none if nothing changed: as dockerd, whose commit adds no layer for an
    empty diff, only a history entry marked ``empty_layer``."""
    config = copy.deepcopy(parent.config)
    section = config.setdefault("config", {})
    section.update({k: v for k, v in container_config.items() if v not in (None, "", [], {})})
    for line in change_lines:
        apply_change(section, line)
    created = now_rfc3339()
    config["created"] = created
    if author:
        config["author"] = author
    history: dict[str, str | bool] = {"created": created, "created_by": created_by}
    if message:
        history["comment"] = message
    if author:
        history["author"] = author
    if not changes:
        history["empty_layer"] = True
    config["history"] = [*config.get("history", []), history]
    if not changes:
        return store.add_image(list(parent.layers), config, tag=ref)
    with store.written_layer(changes) as layer:
        return store.add_image([*parent.layers, layer], config, tag=ref)
