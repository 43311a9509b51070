"""Instructions that only change the image's *config*, never its files.

``ENV``, ``LABEL``, ``CMD``, ``EXPOSE`` … each edits the ``config`` section
of the image (the fields ``docker inspect`` shows under ``Config``) and adds a
history entry with ``empty_layer: true`` -- no layer.  The ``created_by`` text
is the classic builder's: ``/bin/sh -c #(nop)  ENV A=1`` (the "no operation"
shell command it records for steps that run nothing).

Words are substituted (:mod:`.substitution`) for exactly the instructions
Docker substitutes: ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL,
ARG (the default), COPY/ADD -- not CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
ONBUILD, whose text is for the shell inside the container.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
import signal as signals
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import instructions as ins

if TYPE_CHECKING:
    from .state import StageState

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Expand = Callable[[str], str]


class MetadataError(ValueError):
    pass


def nop(comment: str, shell: list[str] | None = None) -> str:
    """The ``created_by`` of a step that runs no command."""
    return " ".join([*(shell or DEFAULT_SHELL), "#(nop) ", comment])


def created_by(instruction: ins.Instruction, comment: str, config_after: dict) -> str:
    """The history text of a metadata step, byte for byte as the classic
    builder writes it (quirks included: SHELL's entry already uses the new
    shell, WORKDIR's has one space after ``#(nop)``, not two)."""
    shell = shell_of(config_after)
    if isinstance(instruction, ins.Workdir):
        return " ".join([*shell, "#(nop) " + comment])
    return nop(comment, shell)


def env_dict(config: dict) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in config.get("Env") or [])


def set_env(config: dict, key: str, value: str) -> None:
    """Replace ``key`` where it is in ``Env`` (order matters to users), or append."""
    env = list(config.get("Env") or [])
    for i, item in enumerate(env):
        if item.partition("=")[0] == key:
            env[i] = f"{key}={value}"
            break
    else:
        env.append(f"{key}={value}")
    config["Env"] = env


def shell_of(config: dict) -> list[str]:
    return list(config.get("Shell") or DEFAULT_SHELL)


def command_argv(instruction: ins.Command, config: dict) -> list[str]:
    """Exec form as written; shell form prefixed with the current SHELL."""
    if instruction.json:
        return list(instruction.args)
    return shell_of(config) + list(instruction.args)


def parse_ports(ports: list[str]) -> list[str]:
    """``80``, ``80/udp``, ``8000-8002`` -> ``["80/tcp", "80/udp", "8000/tcp", ...]``."""
    out = []
    for spec in ports:
        port, _, proto = spec.partition("/")
        proto = (proto or "tcp").lower()
        if proto not in ("tcp", "udp", "sctp"):
            raise MetadataError(f"Invalid proto: {proto}")
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", port)
        if not match:
            raise MetadataError(f"Invalid containerPort: {port}")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first or last > 65535:
            raise MetadataError(f"Invalid range specified for the Port: {port}")
        out += [f"{p}/{proto}" for p in range(first, last + 1)]
    return out


def check_signal(name: str) -> str:
    text = name.upper().removeprefix("SIG")
    if name.isdecimal() and 0 < int(name) < 65:
        return name
    if text in {s.name.removeprefix("SIG") for s in signals.Signals} or re.fullmatch(
        r"RTMIN(\+\d+)?|RTMAX(-\d+)?", text
    ):
        return name
    raise MetadataError(f"Invalid signal: {name}")


def normalize_workdir(current: str, requested: str) -> str:
    """Relative WORKDIRs are joined to the current one; absolute ones are
    taken as written (Docker does not clean them)."""
    if not requested:
        raise MetadataError("cannot normalize nothing")
    if not requested.startswith("/"):
        return posixpath.normpath(posixpath.join("/", current or "/", requested))
    return requested


@dataclass
class ConfigEdit:
    """What a metadata instruction works on (moby's ``dispatchRequest``): the
    config section being edited (a copy, kept only if the step succeeds), the
    variable substitution of this point of the Dockerfile, and the stage."""

    config: dict[str, Any]
    expand: Expand  # one word, variables substituted
    expand_words: Callable[[str], list[str]]  # ... and split into words (EXPOSE)
    stage: StageState  # what a stage remembers between instructions (cmd_set, maintainer)


def apply(instruction: ins.Instruction, edit: ConfigEdit) -> str:
    """Apply one metadata instruction to ``edit.config``; return the comment
    for its history entry.  One function per instruction below, chosen by the
    instruction's class -- as moby's ``dispatchers.go``."""
    return _apply(instruction, edit)


@functools.singledispatch
def _apply(instruction: ins.Instruction, edit: ConfigEdit) -> str:
    raise MetadataError(f"{instruction.name} is not a metadata instruction")


@_apply.register
def _env(instruction: ins.Env, edit: ConfigEdit) -> str:
    pairs = [(edit.expand(k), edit.expand(v)) for k, v in instruction.pairs]  # all against the old env
    for key, value in pairs:
        if not key:
            raise MetadataError("ENV names can not be blank")
        set_env(edit.config, key, value)
    return "ENV " + " ".join(f"{k}={v}" for k, v in pairs)


@_apply.register
def _label(instruction: ins.Label, edit: ConfigEdit) -> str:
    labels = dict(edit.config.get("Labels") or {})
    pairs = [(edit.expand(k), edit.expand(v)) for k, v in instruction.pairs]
    for key, value in pairs:
        labels[key] = value
    edit.config["Labels"] = labels
    return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)


@_apply.register
def _expose(instruction: ins.Expose, edit: ConfigEdit) -> str:
    words = [w for spec in instruction.ports for w in edit.expand_words(spec)]
    exposed = dict(edit.config.get("ExposedPorts") or {})
    for port in parse_ports(words):
        exposed[port] = {}
    edit.config["ExposedPorts"] = exposed
    return "EXPOSE " + " ".join(sorted(words))


@_apply.register
def _volume(instruction: ins.Volume, edit: ConfigEdit) -> str:
    volumes = dict(edit.config.get("Volumes") or {})
    paths = []
    for raw in instruction.paths:
        path = edit.expand(raw).strip()
        if not path:
            raise MetadataError("VOLUME specified can not be an empty string")
        volumes[path] = {}
        paths.append(path)
    edit.config["Volumes"] = volumes
    return f"VOLUME [{' '.join(paths)}]"


@_apply.register
def _user(instruction: ins.User, edit: ConfigEdit) -> str:
    edit.config["User"] = edit.expand(instruction.user)
    return f"USER {edit.config['User']}"


@_apply.register
def _workdir(instruction: ins.Workdir, edit: ConfigEdit) -> str:
    current = edit.config.get("WorkingDir") or ""
    edit.config["WorkingDir"] = normalize_workdir(current, edit.expand(instruction.path))
    return f"WORKDIR {edit.config['WorkingDir']}"


@_apply.register
def _stop_signal(instruction: ins.StopSignal, edit: ConfigEdit) -> str:
    edit.config["StopSignal"] = check_signal(edit.expand(instruction.signal))
    return f"STOPSIGNAL {edit.config['StopSignal']}"


@_apply.register
def _cmd(instruction: ins.Cmd, edit: ConfigEdit) -> str:
    edit.config["Cmd"] = command_argv(instruction, edit.config)
    edit.stage.cmd_set = True
    return f"CMD {_go_quoted(edit.config['Cmd'])}"


@_apply.register
def _entrypoint(instruction: ins.Entrypoint, edit: ConfigEdit) -> str:
    edit.config["Entrypoint"] = command_argv(instruction, edit.config)
    if not edit.stage.cmd_set:
        edit.config["Cmd"] = None  # a new ENTRYPOINT drops the base image's CMD
    return f"ENTRYPOINT {_go_quoted(edit.config['Entrypoint'] or [])}"


@_apply.register
def _shell(instruction: ins.Shell, edit: ConfigEdit) -> str:
    edit.config["Shell"] = list(instruction.args)
    return f"SHELL [{' '.join(edit.config['Shell'])}]"


@_apply.register
def _healthcheck(instruction: ins.Healthcheck, edit: ConfigEdit) -> str:
    health: dict[str, Any] = {"Test": list(instruction.test)}
    for key, value in (
        ("Interval", instruction.interval),
        ("Timeout", instruction.timeout),
        ("StartPeriod", instruction.start_period),
        ("Retries", instruction.retries),
    ):
        if value:
            health[key] = value
    edit.config["Healthcheck"] = health
    return (
        f"HEALTHCHECK &{{{_go_quoted(health['Test'])} {_go_duration(instruction.interval)} "
        f"{_go_duration(instruction.timeout)} {_go_duration(instruction.start_period)} "
        f"{_go_rune(instruction.retries)}}}"
    )


@_apply.register
def _onbuild(instruction: ins.Onbuild, edit: ConfigEdit) -> str:
    edit.config["OnBuild"] = [*(edit.config.get("OnBuild") or []), instruction.expression]
    return f"ONBUILD {instruction.expression}"


@_apply.register
def _maintainer(instruction: ins.Maintainer, edit: ConfigEdit) -> str:
    edit.stage.maintainer = edit.expand(instruction.maintainer)
    return f"MAINTAINER {edit.stage.maintainer}"


def _go_duration(ns: int) -> str:
    """Go's ``%q`` of a ``time.Duration``: ``"1m30s"``, ``"500ms"``, ``"0s"``."""
    if ns == 0:
        return '"0s"'
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return f'"{_trim(ns / size)}{unit}"'
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "")
    return f'"{text}{_trim(rest / 1_000_000_000)}s"'


def _trim(number: float) -> str:
    return f"{number:.9f}".rstrip("0").rstrip(".")


_RUNE_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}


def _go_rune(n: int) -> str:
    """Go's ``%q`` of an int (the health check's Retries): a rune literal."""
    if n in _RUNE_ESCAPES:
        return f"'{_RUNE_ESCAPES[n]}'"
    if n < 0x20 or n == 0x7F:
        return f"'\\x{n:02x}'"
    if n == ord("'") or n == ord("\\"):
        return f"'\\{chr(n)}'"
    return f"'{chr(n)}'"


def _go_quoted(argv: list[str]) -> str:
    """Go's ``%q`` of a string slice: ``["/bin/sh" "-c" "x"]``."""
    return "[" + " ".join(json.dumps(a) for a in argv) + "]"
