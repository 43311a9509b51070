"""What the build exercises share: build a Dockerfile with stepbox's builder."""

from __future__ import annotations

import os
import tempfile

from stepbox.core.dockerfile.builder import Builder
from stepbox.core.dockerfile.cache import BuildCache
from stepbox.core.dockerfile.errors import BuildError
from stepbox.core.dockerfile.state import BuildOptions, BuildResult

from .walk import Wrong


class Context:
    """A build context directory and a build cache, for one check."""

    def __init__(self, lab, files: dict[str, str]):
        self.lab = lab
        self._dir = tempfile.TemporaryDirectory(prefix="stepbox-exercise-")
        self.path = os.path.join(self._dir.name, "context")
        self.cache = BuildCache(os.path.join(self._dir.name, "cache"))
        os.mkdir(self.path)
        for name, text in files.items():
            self.write(name, text)

    def write(self, name: str, text: str) -> None:
        with open(os.path.join(self.path, name), "w", encoding="utf-8") as f:
            f.write(text)

    def build(self) -> tuple[BuildResult, list[str]]:
        """Build; the result and what the builder said (its "Step N/M" lines)."""
        lines: list[str] = []
        builder = Builder(self.lab.images, self.lab.runtime, self.cache, lines.append)
        try:
            return builder.build(BuildOptions(self.path)), lines
        except BuildError as e:
            tail = "\n".join(lines[-5:])
            raise Wrong(f"the build failed: {e}\n{tail}", zh=f"构建失败了：{e}\n{tail}") from e

    def close(self) -> None:
        self._dir.cleanup()


def cached_steps(lines: list[str]) -> dict[str, bool]:
    """{instruction: whether the builder reused its cache} from its output."""
    steps: dict[str, bool] = {}
    current = None
    for line in lines:
        if line.startswith("Step ") and " : " in line:
            current = line.split(" : ", 1)[1].strip()
            steps[current] = False
        elif current is not None and "Using cache" in line:
            steps[current] = True
    return steps
