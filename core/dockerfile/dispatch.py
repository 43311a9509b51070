"""What each instruction does to the image being built.

One function per instruction.  Every one ends in
:func:`~.commit.commit_or_reuse`: ask the cache, else make the step's layer
(maybe none) and commit a new image on top of the current one.  RUN's layer comes from a container (:mod:`.running`), COPY/ADD's from
files (:mod:`.copying`), WORKDIR's from the directory it creates; the
other instructions only edit the config (:mod:`.metadata`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import time
from collections.abc import Callable

from stepbox.core.image.bootstrap import BUSYBOX_REF, ensure_busybox
from stepbox.core.image.reference import InvalidReference, parse_reference
from stepbox.core.image.store import Image, ImageNotFound
from stepbox.core.kernel import LayerEntry

from . import instructions as ins
from . import metadata
from . import tree as trees
from .commit import commit_or_reuse
from .copying import CopyRequest, LayerBuilder, copy_layer, download, is_url, resolve_sources
from .errors import BuildError, DockerfileError, RunFailed
from .running import run_step
from .state import BUILTIN_ARGS, BuildSession, StageState
from .substitution import SubstitutionError


def where(instruction: ins.Instruction, session: BuildSession) -> dict:
    """The location arguments of a DockerfileError about ``instruction``."""
    return dict(filename=session.dockerfile.filename, line=instruction.line.start, text=instruction.text)


def short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def base_image(session: BuildSession, name: str, instruction: ins.Instruction) -> Image:
    """An image named in FROM or COPY --from; busybox is bootstrapped if absent."""
    try:
        return session.images.resolve(name)
    except ImageNotFound:
        if session.runtime is not None and _is_busybox(name):
            return ensure_busybox(session.images, session.runtime.kernel, session.say)
        raise BuildError(
            f"pull access denied for {name}: stepbox has no registry access here; "
            f"load the image first (stepbox load -i IMAGE.tar)"
        ) from None
    except InvalidReference as e:
        raise DockerfileError(str(e), **where(instruction, session)) from None


def _is_busybox(name: str) -> bool:
    try:
        return str(parse_reference(name)) == str(parse_reference(BUSYBOX_REF))
    except InvalidReference:
        return False


def dispatch(session: BuildSession, instruction: ins.Instruction) -> None:
    """Carry out one instruction on the stage being built."""
    state = session.current
    assert state is not None  # every instruction comes after its stage's FROM
    try:
        _dispatch(instruction, session, state)
    except (metadata.MetadataError, SubstitutionError) as e:
        raise DockerfileError(str(e), **where(instruction, session)) from None


# One function per instruction, chosen by the instruction's class -- as moby's
# builder/dockerfile/dispatchers.go.  What is not registered only edits the
# config (ENV, LABEL, CMD ...: see metadata.py).


@functools.singledispatch
def _dispatch(instruction: ins.Instruction, session: BuildSession, state: StageState) -> None:
    edit = _config_edit(session, state)
    if isinstance(instruction, ins.Healthcheck) and state.config.get("Healthcheck"):
        old = state.config["Healthcheck"].get("Test") or []
        if old and old[0] != "NONE":
            session.say(f"Note that overriding previous healthcheck {' '.join(old)}")
    comment = metadata.apply(instruction, edit)
    created_by = metadata.created_by(instruction, comment, edit.config)
    commit_or_reuse(session, state, created_by, edit.config, lambda: [])


@_dispatch.register
def _from(instruction: ins.From, session: BuildSession, state: StageState) -> None:
    raise BuildError("FROM is not allowed here")  # a FROM starts a stage (builder.py), it is no step in one


@_dispatch.register
def _arg(instruction: ins.Arg, session: BuildSession, state: StageState) -> None:
    expand, _ = session.expander(state)
    parts = []
    for key, default in instruction.pairs:
        value = expand(default) if default is not None else None
        state.args[key] = value
        session.used_args.add(key)
        parts.append(f"{key}={value}" if value is not None else key)
    commit_or_reuse(
        session,
        state,
        metadata.nop("ARG " + " ".join(parts), metadata.shell_of(state.config)),
        state.config,
        lambda: [],
    )


@_dispatch.register
def _workdir(instruction: ins.Workdir, session: BuildSession, state: StageState) -> None:
    edit = _config_edit(session, state)
    comment = metadata.apply(instruction, edit)
    config = edit.config

    def make_dir() -> list[LayerEntry]:
        # Docker creates the directory right away (root:root 0755), so the
        # step has a layer when the directory is new and none otherwise.
        tree = session.tree_of(state.image_id)
        path = config["WorkingDir"].strip("/")
        if not path or trees.is_dir(tree, path):
            return []
        layer = LayerBuilder(tree, (0, 0), time.time())
        layer.mkdir_p(layer.real_path("/" + path))
        return layer.result()

    commit_or_reuse(session, state, metadata.created_by(instruction, comment, config), config, make_dir)


def _config_edit(session: BuildSession, state: StageState) -> metadata.ConfigEdit:
    expand, expand_words = session.expander(state)
    return metadata.ConfigEdit(copy.deepcopy(state.config), expand, expand_words, state)


@_dispatch.register
def _run(instruction: ins.Run, session: BuildSession, state: StageState) -> None:
    argv = metadata.command_argv(instruction, state.config)
    args = session.allowed_args(state)
    env_keys = set(metadata.env_dict(state.config))
    build_env = {k: v for k, v in args.items() if k not in env_keys}
    shown = sorted(f"{k}={v}" for k, v in build_env.items() if k not in BUILTIN_ARGS)
    created_by = " ".join(([f"|{len(shown)}", *shown] if shown else []) + argv)

    # The step's container goes once its layer is committed: the layer's
    # files are read from the container's read-write layer as they are written.
    removals: list[Callable[[], None]] = []

    def run() -> list[LayerEntry]:
        if session.runtime is None:
            raise BuildError("RUN needs a container runtime (a kernel backend); this build has none")
        if state.image_id is None:
            raise BuildError(f"RUN in a stage FROM scratch with nothing in it: there is no {argv[0]} to run")
        outcome = run_step(
            session.runtime,
            state.image_id,
            argv,
            build_env,
            state.config.get("WorkingDir") or "",
            state.config.get("User") or "",
            on_start=lambda cid: session.say(f" ---> Running in {cid[:12]}"),
            defer_removal=removals.append,
        )
        if outcome.output:
            session.say(outcome.output.rstrip("\n"))
        if outcome.exit_code != 0:
            raise RunFailed(argv, outcome.exit_code, outcome.output)
        session.say(f"Removing intermediate container {outcome.container_id[:12]}")
        return outcome.changes

    try:
        commit_or_reuse(session, state, created_by, state.config, run)
    finally:
        for remove in removals:
            remove()


@_dispatch.register
def _copy(instruction: ins.Copy, session: BuildSession, state: StageState) -> None:  # COPY and ADD
    expand, _ = session.expander(state)
    keyword = instruction.name
    sources = [expand(s) for s in instruction.sources]
    dest = expand(instruction.dest)
    # The image's files are needed to look up --chown names and to copy, not
    # to find a cache hit: flattening the image is skipped when it can be.
    owner = (
        _owner(expand(instruction.chown), session.tree_of(state.image_id)) if instruction.chown else (0, 0)
    )
    chmod = int(instruction.chmod, 8) if instruction.chmod else None
    if instruction.from_:
        source_tree, what = _from_tree(session, expand(instruction.from_), instruction)
    else:
        source_tree, what = session.context.files, "build context or excluded by .dockerignore"
    request = CopyRequest(keyword, sources, dest, state.config.get("WorkingDir") or "/", owner, chmod)
    # Resolve the sources now: their checksum is part of the cache key.
    local = [s for s in sources if not (keyword == "ADD" and is_url(s))]
    items = resolve_sources(CopyRequest(keyword, local, dest, "/"), source_tree, what) if local else []
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.name.encode() + b"\0")
        members = [item.entry] + (
            [
                f
                for p, f in sorted(source_tree.items())
                if p.startswith(item.entry.path + "/") or item.entry.path == "."
            ]
            if item.entry.kind == "dir"
            else []
        )
        for member in members:
            digest.update(member.checksum().encode())
    kind = (
        "dir" if len(items) == 1 and items[0].entry.kind == "dir" else "file" if len(items) == 1 else "multi"
    )
    # A URL is downloaded before the cache is asked, as Docker does: its
    # content, not its address, decides whether the step can be reused.
    downloads = {s: download(s) for s in sources if keyword == "ADD" and is_url(s)}
    for url, data in downloads.items():
        digest.update(url.encode() + b"\0" + hashlib.sha256(data).hexdigest().encode())
    described = f"{kind}:{digest.hexdigest()}" + "".join(f" {u}" for u in downloads)
    # (one space after "#(nop)" here, two for most others: the classic builder's quirk,
    # and "--chown=1:1file:…" without a space, also as Docker writes it)
    flags = f"--chown={expand(instruction.chown)}" if instruction.chown else ""
    created_by = " ".join(
        [*metadata.shell_of(state.config), f"#(nop) {keyword} {flags}{described} in {dest} "]
    )
    extra = f"chown={owner} chmod={chmod} from={instruction.from_}"

    def copy() -> list[LayerEntry]:
        return copy_layer(
            request,
            source_tree,
            session.tree_of(state.image_id),
            what,
            allow_archives=keyword == "ADD",
            fetch=downloads.__getitem__,
            scratch=session.scratch_dir,
        )

    commit_or_reuse(session, state, created_by, state.config, copy, extra=extra)


def _owner(spec: str, image_tree: trees.Tree) -> tuple[int, int]:
    user, sep, group = spec.partition(":")
    if ":" in group:
        raise BuildError(f"invalid chown string format: {spec}")
    if not sep:
        group = user
    try:
        return trees.user_id(image_tree, user), trees.group_id(image_tree, group)
    except LookupError as e:
        raise BuildError(f"unable to convert uid/gid chown string to host mapping: {e.args[0]}") from None


def _from_tree(session: BuildSession, name: str, instruction: ins.Instruction) -> tuple[trees.Tree, str]:
    key = name.lower()
    if key in session.stages:
        return session.tree_of(session.stages[key]), f"stage {name}"
    if key.isdecimal():
        raise BuildError(f"invalid from flag value {name}: refers to a stage that does not exist yet")
    image = base_image(session, name, instruction)
    return session.tree_of(image.id), f"image {name}"
