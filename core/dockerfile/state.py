"""What a build remembers while it runs: options, each stage's image, the args.

:class:`BuildSession` is the context the build's steps share -- for the
:class:`~stepbox.core.container.steps.Stepper` it plays the part a
``LifecycleContext`` plays for a container (a tracer, the undo chain).  :class:`StageState` is the image being built in the
current stage after each step: config, layers, history, declared ARGs.

Build arguments follow the classic builder: an ``ARG`` makes a name visible
from that line on, in that stage only; its value is ``--build-arg``'s, else
the ARG's default, else (``ARG NAME`` with no default) the value of a meta
ARG (declared before the first ``FROM``); ``ENV`` of the same name wins.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stepbox.core.container.steps import StepContext, UndoChain
from stepbox.core.image.flatten import flatten
from stepbox.core.image.incoming import Incoming
from stepbox.core.image.store import Image, ImageStore
from stepbox.core.kernel import Tracer

from . import metadata
from . import tree as trees
from .cache import BuildCache
from .context import BuildContext
from .parser import Dockerfile, Stage
from .substitution import Lexer

if TYPE_CHECKING:
    from stepbox.core.container.runtime import Runtime

BUILTIN_ARGS = {
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
}


@dataclass
class BuildOptions:
    context_dir: str
    dockerfile: str | None = None  # default: <context>/Dockerfile
    tags: tuple[str, ...] = ()
    build_args: dict[str, str | None] = field(default_factory=dict)
    no_cache: bool = False
    target: str | None = None


@dataclass
class StageState:
    """The image being built in one stage, as it stands after each step."""

    stage: Stage
    image_id: str | None = None  # None: FROM scratch, nothing committed yet
    config: dict = field(default_factory=dict)  # the image config's "config" section
    layers: list[str] = field(default_factory=list)  # layer blob digests, bottom first
    history: list[dict] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)  # ARGs declared in this stage
    cmd_set: bool = False
    maintainer: str = ""

    def load(self, image: Image) -> None:
        self.image_id = image.id
        self.config = dict(image.config.get("config") or {})
        self.layers = list(image.layers)
        self.history = list(image.config.get("history") or [])


@dataclass
class BuildResult:
    image_id: str
    tags: list[str]
    steps: int
    cached: int  # steps that reused a cached image
    built: int = 0  # steps that made a new image (0: the rebuild was entirely cached)


@dataclass
class BuildSession(StepContext):
    """What the steps of one build share (the Stepper's context)."""

    images: ImageStore
    runtime: Runtime | None
    cache: BuildCache | None
    options: BuildOptions
    dockerfile: Dockerfile
    context: BuildContext
    out: Callable[[str], None]
    lexer: Lexer
    total: int
    meta_args: dict[str, str | None] = field(default_factory=dict)
    stages: dict[str, str | None] = field(default_factory=dict)  # name and index -> image id
    current: StageState | None = None
    step_number: int = 0
    cached: int = 0
    built: int = 0
    used_args: set[str] = field(default_factory=set)
    result: BuildResult | None = None
    _trees: dict[str, trees.Tree] = field(default_factory=dict)
    _scratch: Incoming | None = None
    undo: UndoChain = field(default_factory=UndoChain)
    # A build without a runtime (no RUN) still gives the Stepper a tracer.
    _own_tracer: Tracer = field(default_factory=Tracer)

    # -- what the Stepper expects of a context (every image is already in the
    # store after each step: nothing more to save) ------------------------------
    @property
    def tracer(self) -> Tracer:
        return self.runtime.kernel.tracer if self.runtime is not None else self._own_tracer

    # -- helpers ----------------------------------------------------------
    def say(self, text: str) -> None:
        self.out(text)

    def allowed_args(self, state: StageState) -> dict[str, str]:
        """Values of the ARGs this stage declared (and proxy build-args)."""
        values = {}
        for key, default in state.args.items():
            value = self._arg_value(key, default)
            if value is not None:
                values[key] = value
        for key in BUILTIN_ARGS & set(self.options.build_args):
            proxy = self.options.build_args[key]
            if proxy is not None:
                values.setdefault(key, proxy)
        return values

    def _arg_value(self, key: str, default: str | None) -> str | None:
        if key in self.options.build_args and self.options.build_args[key] is not None:
            return self.options.build_args[key]
        if default is None:
            return self.meta_args.get(key)
        return default

    def environment(self, state: StageState) -> dict[str, str]:
        """What ``$VAR`` sees: ENV values, then declared ARGs not shadowed by ENV."""
        env = metadata.env_dict(state.config)
        for key, value in self.allowed_args(state).items():
            env.setdefault(key, value)
        return env

    def expander(self, state: StageState):
        env = self.environment(state)

        def expand(word: str) -> str:
            return self.lexer.process_word(word, env)

        def expand_words(word: str) -> list[str]:
            return self.lexer.process_words(word, env)

        return expand, expand_words  # a SubstitutionError gets its line in _dispatch

    def scratch_dir(self) -> str:
        """A directory in the image store for this build's temporary files
        (an ADDed archive, inflated), removed by :meth:`close` -- or, if
        the build is abandoned, when the session is collected; a daemon
        killed meanwhile leaves it for the store's next start to sweep."""
        if self._scratch is None:
            self._scratch = Incoming(self.images.root)
            weakref.finalize(self, self._scratch.close)
        return self._scratch.directory

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None

    def tree_of(self, image_id: str | None) -> trees.Tree:
        """An image's files as a tree (memoised: images never change)."""
        if image_id is None:
            return trees.tree_from_entries([])
        if image_id not in self._trees:
            image = self.images.resolve(image_id)
            self._trees[image_id] = trees.tree_from_entries(
                flatten(self.images.layer_entries(blob) for blob in image.layers)
            )
        return self._trees[image_id]
