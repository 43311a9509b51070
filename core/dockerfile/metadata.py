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

import json
import posixpath
import re
import signal as signals
from collections.abc import Callable

from . import instructions as ins

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
    if name.isdigit() and 0 < int(name) < 65:
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


def apply(
    instruction: ins.Instruction,
    config: dict,
    expand: Expand,
    expand_words: Callable[[str], list[str]],
    state,
) -> str:
    """Apply one metadata instruction to the ``config`` section; return the
    comment for its history entry.  ``state`` carries what a stage remembers
    between instructions (``cmd_set``)."""
    if isinstance(instruction, ins.Env):
        pairs = [(expand(k), expand(v)) for k, v in instruction.pairs]  # all against the old env
        for key, value in pairs:
            if not key:
                raise MetadataError("ENV names can not be blank")
            set_env(config, key, value)
        return "ENV " + " ".join(f"{k}={v}" for k, v in pairs)
    if isinstance(instruction, ins.Label):
        labels = dict(config.get("Labels") or {})
        pairs = [(expand(k), expand(v)) for k, v in instruction.pairs]
        for key, value in pairs:
            labels[key] = value
        config["Labels"] = labels
        return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)
    if isinstance(instruction, ins.Expose):
        words = [w for spec in instruction.ports for w in expand_words(spec)]
        exposed = dict(config.get("ExposedPorts") or {})
        ports = parse_ports(words)
        for port in ports:
            exposed[port] = {}
        config["ExposedPorts"] = exposed
        return "EXPOSE " + " ".join(sorted(words))
    if isinstance(instruction, ins.Volume):
        volumes = dict(config.get("Volumes") or {})
        paths = []
        for raw in instruction.paths:
            path = expand(raw).strip()
            if not path:
                raise MetadataError("VOLUME specified can not be an empty string")
            volumes[path] = {}
            paths.append(path)
        config["Volumes"] = volumes
        return f"VOLUME [{' '.join(paths)}]"
    if isinstance(instruction, ins.User):
        config["User"] = expand(instruction.user)
        return f"USER {config['User']}"
    if isinstance(instruction, ins.Workdir):
        config["WorkingDir"] = normalize_workdir(config.get("WorkingDir") or "", expand(instruction.path))
        return f"WORKDIR {config['WorkingDir']}"
    if isinstance(instruction, ins.StopSignal):
        config["StopSignal"] = check_signal(expand(instruction.signal))
        return f"STOPSIGNAL {config['StopSignal']}"
    if isinstance(instruction, ins.Cmd):
        config["Cmd"] = command_argv(instruction, config)
        state.cmd_set = True
        return f"CMD {_go_quoted(config['Cmd'])}"
    if isinstance(instruction, ins.Entrypoint):
        config["Entrypoint"] = command_argv(instruction, config)
        if not state.cmd_set:
            config["Cmd"] = None  # a new ENTRYPOINT drops the base image's CMD
        return f"ENTRYPOINT {_go_quoted(config['Entrypoint'] or [])}"
    if isinstance(instruction, ins.Shell):
        config["Shell"] = list(instruction.args)
        return f"SHELL [{' '.join(config['Shell'])}]"
    if isinstance(instruction, ins.Healthcheck):
        health: dict = {"Test": list(instruction.test)}
        for key, value in (
            ("Interval", instruction.interval),
            ("Timeout", instruction.timeout),
            ("StartPeriod", instruction.start_period),
            ("Retries", instruction.retries),
        ):
            if value:
                health[key] = value
        config["Healthcheck"] = health
        return (
            f"HEALTHCHECK &{{{_go_quoted(health['Test'])} {_go_duration(instruction.interval)} "
            f"{_go_duration(instruction.timeout)} {_go_duration(instruction.start_period)} "
            f"{_go_rune(instruction.retries)}}}"
        )
    if isinstance(instruction, ins.Onbuild):
        config["OnBuild"] = [*(config.get("OnBuild") or []), instruction.expression]
        return f"ONBUILD {instruction.expression}"
    if isinstance(instruction, ins.Maintainer):
        state.maintainer = expand(instruction.maintainer)
        return f"MAINTAINER {state.maintainer}"
    raise MetadataError(f"{instruction.name} is not a metadata instruction")


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
