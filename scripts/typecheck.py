"""Run mypy on stepbox as Python imports it: ``python scripts/typecheck.py``.

The code lives in ``core/``, ``backends/`` and ``toplevel/`` and is mapped into
the one package ``stepbox`` by setuptools (``package-dir`` in pyproject.toml).
An editable install serves that mapping through an import hook, which mypy does
not run (it never executes code to find modules).  So this builds the package
as mypy must see it -- a folder ``stepbox/`` of symbolic links to the real
folders -- under ``.mypy_cache/`` and points mypy at it.  Errors are reported
with the real paths (``core/kernel/errors.py:12: ...``).

Settings (strictness per package, what is left out) are in pyproject.toml,
``[tool.mypy]``.  Extra arguments are passed to mypy.  The tests
(``tests/rules/test_lint.py``) and the pre-commit hook run this.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIEW = os.path.join(ROOT, ".mypy_cache", "source-view")

# the view's name -> the real path, relative to the repository root
LINKS = {
    "stepbox/__init__.py": "toplevel/__init__.py",
    "stepbox/__main__.py": "toplevel/__main__.py",
    "stepbox/core": "core",
    "stepbox/backends": "backends",
    "tests": "tests",
    "benchmarks": "benchmarks",
    "scripts": "scripts",
}
CHECKED = ["stepbox", "tests", "benchmarks", "scripts"]


def build_view() -> None:
    """Create (or repair) the links; cheap enough to do on every run."""
    for name, real in LINKS.items():
        link = os.path.join(VIEW, name)
        target = os.path.join(ROOT, real)
        if os.path.islink(link) and os.readlink(link) == target:
            continue
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)


def real_path(line: str) -> str:
    """``<view>/stepbox/core/x.py:3: error`` -> ``core/x.py:3: error``."""
    for prefix in (VIEW + os.sep, os.path.relpath(VIEW, ROOT) + os.sep):
        if line.startswith(prefix):
            rest = line[len(prefix) :]
            for name, real in sorted(LINKS.items(), key=lambda item: -len(item[0])):
                if rest.startswith(name):
                    return real + rest[len(name) :]
    return line


def main(argv: list[str]) -> int:
    build_view()
    command = [sys.executable, "-m", "mypy", "--config-file", os.path.join(ROOT, "pyproject.toml")]
    for package in CHECKED:
        command += ["-p", package]
    env = {**os.environ, "MYPYPATH": VIEW}
    done = subprocess.run(command + argv, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        print(real_path(line))
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
