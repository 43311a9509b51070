"""The Dockerfile parser: text -> :class:`Dockerfile` (meta ARGs and stages).

``parse_dockerfile(text)`` reads the parser directives and logical lines
(:mod:`.lexer`), turns each line into a typed instruction
(:mod:`.instructions`) and groups them into *stages*: every ``FROM`` starts
one.  ``ARG`` lines before the first ``FROM`` are *meta arguments*, usable
only in ``FROM`` lines (and in a stage that declares them again).

Every error names the file, the line number and the line::

    Dockerfile:3: unknown instruction: RUNN (line: "RUNN echo")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import instructions as ins
from .directives import Directives
from .errors import DockerfileError
from .lexer import LogicalLine, split_lines

_WHITESPACE = re.compile(r"[ \t\r\n\v\f]+")


@dataclass
class Stage:
    """One ``FROM`` and the instructions up to the next ``FROM``."""

    index: int
    source: ins.From
    instructions: list[ins.Instruction] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return self.source.stage_name


@dataclass
class Dockerfile:
    filename: str
    directives: Directives
    meta_args: list[ins.Arg]
    stages: list[Stage]
    warnings: list[str] = field(default_factory=list)

    @property
    def escape(self) -> str:
        return self.directives.escape

    def total_steps(self, stages: list[Stage] | None = None) -> int:
        """What the classic builder counts in ``Step N/TOTAL``: meta ARGs,
        every FROM, and every instruction of every stage."""
        stages = self.stages if stages is None else stages
        return len(self.meta_args) + sum(1 + len(s.instructions) for s in stages)

    def stages_until(self, target: str | None) -> list[Stage]:
        """``--target``: the stages up to and including ``target``."""
        if not target:
            return list(self.stages)
        for stage in self.stages:
            if stage.name == target.lower():
                return self.stages[: stage.index + 1]
        raise DockerfileError(f"failed to reach build target {target} in Dockerfile", filename=self.filename)


# ------------------------------------------------------------ per keyword


def _exact_one(keyword: str, rest: str) -> str:
    if not rest:
        raise ins.InstructionError(f"{keyword} requires exactly one argument")
    return rest


def _command(cls: type[ins.Command]) -> Callable:
    def parse(line, flags, rest, escape):
        ins.check_flags(cls.name, flags, ())
        exec_form = ins.parse_json_array(rest)
        if exec_form is not None:
            return cls(line, args=exec_form, json=True)
        if not rest and cls.name == "RUN":
            raise ins.InstructionError("RUN requires at least one argument")
        return cls(line, args=[rest] if rest else [], json=False)

    return parse


def _parse_from(line, flags, rest, escape):
    options = ins.check_flags("FROM", flags, ("platform",))
    words = _WHITESPACE.split(rest) if rest else []
    if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
        raise ins.InstructionError("FROM requires either one or three arguments")
    stage_name = None
    if len(words) == 3:
        stage_name = words[2].lower()
        if not ins.STAGE_NAME.match(stage_name):
            raise ins.InstructionError(
                f'invalid name for build stage: "{words[2]}", '
                "name can't start with a number or contain symbols"
            )
    return ins.From(line, base=words[0], stage_name=stage_name, platform=options.get("platform"))


def _parse_env(line, flags, rest, escape):
    ins.check_flags("ENV", flags, ())
    return ins.Env(line, pairs=ins.parse_key_values("ENV", rest, escape))


def _parse_label(line, flags, rest, escape):
    ins.check_flags("LABEL", flags, ())
    return ins.Label(line, pairs=ins.parse_key_values("LABEL", rest, escape))


def _parse_arg(line, flags, rest, escape):
    ins.check_flags("ARG", flags, ())
    words = ins.parse_words(rest, escape)
    if not words:
        raise ins.InstructionError("ARG requires exactly one argument")
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not key:
            raise ins.InstructionError("ARG names can not be blank")
        pairs.append((key, value if sep else None))
    return ins.Arg(line, pairs=pairs)


def _parse_expose(line, flags, rest, escape):
    ins.check_flags("EXPOSE", flags, ())
    if not rest:
        raise ins.InstructionError("EXPOSE requires at least one argument")
    return ins.Expose(line, ports=_WHITESPACE.split(rest))


def _parse_volume(line, flags, rest, escape):
    ins.check_flags("VOLUME", flags, ())
    paths = ins.parse_json_array(rest)
    if paths is None:
        paths = _WHITESPACE.split(rest) if rest else []
    if not paths:
        raise ins.InstructionError("VOLUME requires at least one argument")
    for path in paths:
        if not path.strip():
            raise ins.InstructionError("VOLUME specified can not be an empty string")
    return ins.Volume(line, paths=[p.strip() for p in paths])


def _single(cls, attribute):
    def parse(line, flags, rest, escape):
        ins.check_flags(cls.name, flags, ())
        return cls(line, **{attribute: _exact_one(cls.name, rest)})

    return parse


def _copy(cls):
    allowed = ("chown", "chmod", "from") if cls is ins.Copy else ("chown", "chmod")

    def parse(line, flags, rest, escape):
        options = ins.check_flags(cls.name, flags, allowed)
        args = ins.parse_json_array(rest)
        if args is None:
            args = _WHITESPACE.split(rest) if rest else []
        if len(args) < 2:
            raise ins.InstructionError(
                f"{cls.name} requires at least two arguments, but only "
                f"{'one was' if args else 'zero were'} provided. "
                "Destination could not be determined."
            )
        if options.get("chmod") and not re.fullmatch(r"[0-7]{1,4}", options["chmod"]):
            raise ins.InstructionError(f"invalid chmod parameter: {options['chmod']!r} (use octal, e.g. 755)")
        return cls(
            line,
            sources=args[:-1],
            dest=args[-1],
            chown=options.get("chown", ""),
            chmod=options.get("chmod", ""),
            from_=options.get("from", ""),
        )

    return parse


def _parse_shell(line, flags, rest, escape):
    ins.check_flags("SHELL", flags, ())
    args = ins.parse_json_array(rest)
    if args is None:
        raise ins.InstructionError("SHELL requires the arguments to be in JSON form")
    if not args:
        raise ins.InstructionError("SHELL requires at least one argument")
    return ins.Shell(line, args=args, json=True)


def _parse_healthcheck(line, flags, rest, escape):
    if not rest:
        raise ins.InstructionError("HEALTHCHECK requires at least one argument")
    parts = _WHITESPACE.split(rest, 1)
    kind, command = parts[0].upper(), (parts[1].strip() if len(parts) > 1 else "")
    if kind == "NONE":
        if command or flags:
            raise ins.InstructionError("HEALTHCHECK NONE takes no arguments")
        return ins.Healthcheck(line, test=["NONE"])
    options = ins.check_flags("HEALTHCHECK", flags, ("interval", "timeout", "start-period", "retries"))
    if kind != "CMD":
        raise ins.InstructionError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    exec_form = ins.parse_json_array(command)
    if exec_form is not None:
        test = ["CMD", *exec_form]
    elif command:
        test = ["CMD-SHELL", command]
    else:
        test = []
    if len(test) < 2:
        raise ins.InstructionError("Missing command after HEALTHCHECK CMD")
    retries = 0
    if options.get("retries"):
        try:
            retries = int(options["retries"])
        except ValueError:
            raise ins.InstructionError(
                f'strconv.ParseInt: parsing "{options["retries"]}": invalid syntax'
            ) from None
        if retries < 1:
            raise ins.InstructionError(f"--retries must be at least 1 (not {retries})")
    return ins.Healthcheck(
        line,
        test=test,
        interval=ins.parse_duration(options.get("interval", ""), "interval"),
        timeout=ins.parse_duration(options.get("timeout", ""), "timeout"),
        start_period=ins.parse_duration(options.get("start-period", ""), "start-period"),
        retries=retries,
    )


def _parse_onbuild(line, flags, rest, escape):
    if not rest:
        raise ins.InstructionError("ONBUILD requires at least one argument")
    keyword = _WHITESPACE.split(rest, 1)[0].upper()
    if keyword == "ONBUILD":
        raise ins.InstructionError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if keyword in ("MAINTAINER", "FROM"):
        raise ins.InstructionError(f"{keyword} isn't allowed as an ONBUILD trigger")
    trigger = parse_instruction(LogicalLine(rest, line.start, line.end, line.original), escape)
    return ins.Onbuild(line, expression=rest, trigger=trigger)


PARSERS: dict[str, Callable] = {
    "FROM": _parse_from,
    "RUN": _command(ins.Run),
    "CMD": _command(ins.Cmd),
    "ENTRYPOINT": _command(ins.Entrypoint),
    "SHELL": _parse_shell,
    "ENV": _parse_env,
    "LABEL": _parse_label,
    "ARG": _parse_arg,
    "EXPOSE": _parse_expose,
    "VOLUME": _parse_volume,
    "WORKDIR": _single(ins.Workdir, "path"),
    "USER": _single(ins.User, "user"),
    "STOPSIGNAL": _single(ins.StopSignal, "signal"),
    "MAINTAINER": _single(ins.Maintainer, "maintainer"),
    "COPY": _copy(ins.Copy),
    "ADD": _copy(ins.Add),
    "HEALTHCHECK": _parse_healthcheck,
    "ONBUILD": _parse_onbuild,
}


def parse_instruction(line: LogicalLine, escape: str = "\\") -> ins.Instruction:
    """One logical line -> one instruction (raises InstructionError)."""
    parts = _WHITESPACE.split(line.text.strip(), 1)
    keyword = parts[0].upper()
    rest = parts[1] if len(parts) > 1 else ""
    parser = PARSERS.get(keyword)
    if parser is None:
        raise ins.InstructionError(f"unknown instruction: {parts[0].upper()}")
    flags: dict = {}
    if keyword not in ("RUN", "CMD", "ENTRYPOINT", "ONBUILD") or rest.startswith("--"):
        flags, rest = ins.split_flags(rest)
    return parser(line, flags, rest.strip(), escape)


def parse_dockerfile(source: str, filename: str = "Dockerfile") -> Dockerfile:
    directives, lines, warnings = split_lines(source, filename)
    meta_args: list[ins.Arg] = []
    stages: list[Stage] = []
    names: set[str] = set()
    for line in lines:
        try:
            instruction = parse_instruction(line, directives.escape)
        except ins.InstructionError as e:
            raise DockerfileError(
                str(e), filename=filename, line=line.start, text=line.text.strip()
            ) from None
        if isinstance(instruction, ins.From):
            if instruction.stage_name:
                if instruction.stage_name in names:
                    raise DockerfileError(
                        f"duplicate name {instruction.stage_name}",
                        filename=filename,
                        line=line.start,
                        text=line.text.strip(),
                    )
                names.add(instruction.stage_name)
            stages.append(Stage(len(stages), instruction))
        elif not stages:
            if not isinstance(instruction, ins.Arg):
                raise DockerfileError(
                    "no build stage in current context (a Dockerfile must begin "
                    "with FROM, after only ARG instructions)",
                    filename=filename,
                    line=line.start,
                    text=line.text.strip(),
                )
            meta_args.append(instruction)
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise DockerfileError(
            "file with no instructions" if not lines else "no build stage in current context",
            filename=filename,
        )
    return Dockerfile(filename, directives, meta_args, stages, warnings)
