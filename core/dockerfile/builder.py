"""The build as a plan of steps: one :class:`Step` per Dockerfile instruction.

``docker build`` with the classic builder is a loop over instructions, each
of which turns the image built so far into a new image:

* ``FROM`` picks the starting image (or ``scratch``: nothing at all);
* ``RUN`` runs a container on it and commits what changed as a new layer
  (:mod:`.running`);
* ``COPY``/``ADD`` make a layer from the context's files (:mod:`.copying`);
* everything else edits the config only and adds a history entry with
  ``empty_layer: true`` (:mod:`.metadata`) -- still a new image ID, since the
  config is part of what the ID hashes.

Every step first asks the cache (:mod:`.cache`): same parent image, same
instruction, same files?  Then the image made last time is reused
(``---> Using cache``) and nothing runs.

Because the build is a list of :class:`~stepbox.core.container.steps.Step`,
a :class:`Stepper` walks it one instruction at a time -- the same code path
``stepbox build`` runs in one go::

    builder = Builder(runtime.images, runtime, BuildCache(cache_dir))
    stepper = builder.stepper(BuildOptions("path/to/context", tags=("demo",)))
    while not stepper.done:
        result = stepper.step()        # one instruction
        print(result.step.title, result.changes)   # what it changed in the image

The pieces: :mod:`.state` (what a build remembers), :mod:`.dispatch` (what
each instruction does), :mod:`.cache`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from stepbox.core.container.steps import Step, Stepper
from stepbox.core.image.reference import parse_reference
from stepbox.core.image.store import ImageStore

from . import instructions as ins
from . import metadata
from .cache import BuildCache
from .context import load_context
from .dispatch import base_image, dispatch, short, where
from .errors import BuildError, DockerfileError
from .instructions import InstructionError
from .lexer import LogicalLine
from .parser import Stage, parse_dockerfile, parse_instruction
from .state import BUILTIN_ARGS, BuildOptions, BuildResult, BuildSession, StageState
from .substitution import Lexer, SubstitutionError

__all__ = ["Builder", "BuildOptions", "BuildResult", "BuildSession", "observe"]

EXPLAIN = {
    "FROM": "Start from an image: its layers become the bottom of the new image, its config "
    "(Env, Cmd, WorkingDir ...) the starting config. `scratch` starts from nothing.",
    "RUN": "Create a container from the image built so far, run the command in it, and commit "
    "its read-write layer -- exactly what the command changed -- as a new layer.",
    "COPY": "Copy files from the build context (or another stage) into a new layer. Nothing "
    "runs: the layer is made directly from the files.",
    "ADD": "Like COPY; a local tar archive is unpacked, a URL downloaded.",
    "ARG": "Declare a build argument: a variable for this build only, set with --build-arg; "
    "it is not saved in the image's Env.",
}
DEFAULT_EXPLAIN = (
    "Change the image's config only: a new image with one more history entry "
    "marked empty_layer -- no new layer."
)


# ====================================================================== steps


def _announce(session: BuildSession, text: str) -> None:
    session.step_number += 1
    session.say(f"Step {session.step_number}/{session.total} : {text}")


def _show_image(session: BuildSession, image_id: str | None) -> None:
    session.say(f" ---> {short(image_id) if image_id else ''}")


def _meta_arg_step(instruction: ins.Arg) -> Step:
    def run(session: BuildSession) -> None:
        _announce(session, instruction.text)
        for key, default in instruction.pairs:
            if default is not None:
                # meta_args already hold the --build-arg overrides
                env = {k: v for k, v in session.meta_args.items() if v is not None}
                try:
                    default = session.lexer.process_word(default, env)
                except SubstitutionError as e:
                    raise DockerfileError(str(e), **where(instruction, session)) from None
            value = session.options.build_args.get(key) if key in session.options.build_args else None
            session.meta_args[key] = value if value is not None else default
            session.used_args.add(key)

    return Step(
        f"meta-arg-{instruction.line.start}",
        instruction.text,
        EXPLAIN["ARG"],
        "Dockerfile / ARG",
        run,
    )


def _from_step(stage: Stage) -> Step:
    def run(session: BuildSession) -> None:
        instruction = stage.source
        _announce(session, instruction.text)
        env = {k: v for k, v in session.meta_args.items() if v is not None}
        try:
            base = session.lexer.process_word(instruction.base, env)
        except SubstitutionError as e:
            raise DockerfileError(str(e), **where(instruction, session)) from None
        state = StageState(stage)
        if base.lower() == "scratch":
            pass
        elif base.lower() in session.stages and not base.isdecimal():
            earlier = session.stages[base.lower()]
            if earlier is not None:  # (None: a stage of nothing but FROM scratch)
                state.load(session.images.resolve(earlier))
        else:
            state.load(base_image(session, base, instruction))
        if not any(item.startswith("PATH=") for item in state.config.get("Env") or []):
            metadata.set_env(state.config, "PATH", metadata.DEFAULT_PATH)
        session.current = state
        _show_image(session, state.image_id)
        triggers = state.config.pop("OnBuild", None) or []
        if triggers:
            session.say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}")
            for text in triggers:
                # A trigger is parsed only now, in the child's build; its errors
                # point at the child's FROM line, which is what ran it.
                try:
                    trigger = parse_instruction(
                        LogicalLine(text, instruction.line.start, instruction.line.end, text),
                        session.lexer.escape,
                    )
                except InstructionError as e:
                    raise DockerfileError(
                        f"ONBUILD trigger {text!r} of {instruction.base}: {e}", **where(instruction, session)
                    ) from None
                dispatch(session, trigger)
                _show_image(session, state.image_id)
        _record_stage(session, stage)

    return Step(f"from-{stage.index}", stage.source.text, EXPLAIN["FROM"], "Docker镜像 / FROM", run)


def _current(session: BuildSession) -> StageState:
    """The stage being built: there is one from the first step on (the
    parser refuses a Dockerfile whose first instruction is not FROM or ARG)."""
    assert session.current is not None
    return session.current


def _record_stage(session: BuildSession, stage: Stage) -> None:
    image_id = _current(session).image_id
    session.stages[str(stage.index)] = image_id
    if stage.name:
        session.stages[stage.name] = image_id


def _instruction_step(stage: Stage, instruction: ins.Instruction) -> Step:
    def run(session: BuildSession) -> None:
        _announce(session, instruction.text)
        dispatch(session, instruction)
        _show_image(session, _current(session).image_id)
        _record_stage(session, stage)

    return Step(
        f"{instruction.name.lower()}-{instruction.line.start}",
        instruction.text,
        EXPLAIN.get(instruction.name, DEFAULT_EXPLAIN),
        f"Dockerfile / {instruction.name}",
        run,
    )


def _finish_step(session_tags: tuple[str, ...]) -> Step:
    def run(session: BuildSession) -> None:
        image_id = _current(session).image_id
        if image_id is None:
            raise BuildError("No image was generated. Is your Dockerfile empty?")
        unused = sorted(
            k for k in session.options.build_args if k not in session.used_args and k not in BUILTIN_ARGS
        )
        if unused:
            session.say(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        session.say(f"Successfully built {short(image_id)}")
        image = session.images.resolve(image_id)
        for tag in session_tags:
            session.images.tag(image, tag)
            session.say(f"Successfully tagged {parse_reference(tag).familiar_str()}")
        session.result = BuildResult(
            image_id, list(session_tags), session.step_number, session.cached, session.built
        )

    return Step(
        "tag",
        "Tag the image",
        "The last image built is the result: give it its names.",
        "Docker镜像 / tag",
        run,
    )


# ====================================================================== API


class Builder:
    """``Builder(images, runtime, cache).build(options)`` -- or ``plan`` it
    and step through with a :class:`Stepper`."""

    def __init__(
        self,
        images: ImageStore,
        runtime=None,
        cache: BuildCache | None = None,
        out: Callable[[str], None] = print,
    ):
        self.images, self.runtime, self.cache, self.out = images, runtime, cache, out

    def plan(self, options: BuildOptions) -> tuple[BuildSession, list[Step]]:
        dockerfile_path = options.dockerfile or os.path.join(options.context_dir, "Dockerfile")
        if not os.path.isabs(dockerfile_path) and options.dockerfile and not os.path.exists(dockerfile_path):
            dockerfile_path = os.path.join(options.context_dir, options.dockerfile)
        try:
            with open(dockerfile_path, encoding="utf-8") as f:
                source = f.read()
        except FileNotFoundError:
            raise BuildError(
                f"Cannot locate specified Dockerfile: {os.path.basename(dockerfile_path)}"
            ) from None
        name = os.path.basename(dockerfile_path)
        dockerfile = parse_dockerfile(source, name)
        for warning in dockerfile.warnings:
            self.out(warning)
        stages = dockerfile.stages_until(options.target)
        context = load_context(options.context_dir)
        session = BuildSession(
            self.images,
            self.runtime,
            self.cache,
            options,
            dockerfile,
            context,
            self.out,
            Lexer(dockerfile.escape),
            dockerfile.total_steps(stages),
        )
        steps = [_meta_arg_step(arg) for arg in dockerfile.meta_args]
        for stage in stages:
            steps.append(_from_step(stage))
            steps += [_instruction_step(stage, i) for i in stage.instructions]
        steps.append(_finish_step(tuple(options.tags)))
        return session, steps

    def stepper(self, options: BuildOptions) -> Stepper:
        session, steps = self.plan(options)
        return Stepper(session, steps, observe)

    def build(self, options: BuildOptions) -> BuildResult:
        session, steps = self.plan(options)
        try:
            Stepper(session, steps).run()
        finally:
            session.close()
        assert session.result is not None  # set by the last step, "tag"
        return session.result


def observe(session: BuildSession) -> dict:
    """The build's observable state after a step (for notebooks / stepping)."""
    state = session.current
    if state is None:
        return {"stage": None}
    return {
        "stage": state.stage.name or str(state.stage.index),
        "image": short(state.image_id) if state.image_id else "",
        "layers": len(state.layers),
        "history": len(state.history),
        "config": {k: v for k, v in sorted(state.config.items())},
    }
