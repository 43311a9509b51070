"""The layering rules of DESIGN.md, checked on every import in the code:

* ``core`` never imports ``backends`` (it finds a backend by name, through
  the ``stepbox.backends`` entry points: core/kernel/backend_lookup.py);
* a backend never imports another backend;
* from ``core``, a backend imports only ``core.kernel`` -- the interfaces
  it implements and the facts they share.

Every import statement counts, also those inside functions, relative ones
(resolved to the module they name) and ``importlib.import_module`` /
``__import__`` of a literal name.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# folder in the checkout -> the package it is mapped to (pyproject.toml, package-dir)
PACKAGES = {"core": "stepbox.core", "backends": "stepbox.backends"}


def module_of(path: str) -> tuple[str, bool]:
    """The dotted name of a source file, and whether it is a package's __init__."""
    folder, *rest = os.path.relpath(path, ROOT)[: -len(".py")].split(os.sep)
    is_package = rest[-1] == "__init__"
    if is_package:
        rest = rest[:-1]
    return ".".join([PACKAGES[folder], *rest]), is_package


def imports_in(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in ``source``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def broken_rule(importer: str, imported: str) -> str | None:
    """Which rule ``importer`` importing ``imported`` breaks, if any."""
    if _within(importer, "stepbox.core") and _within(imported, "stepbox.backends"):
        return "core never imports backends"
    if _within(importer, "stepbox.backends"):
        mine = importer.split(".")[:3]  # stepbox.backends.<name>
        theirs = imported.split(".")[:3]
        if _within(imported, "stepbox.backends") and len(mine) == len(theirs) == 3 and mine != theirs:
            return "a backend never imports another backend"
        if _within(imported, "stepbox.core") and not _within(imported, "stepbox.core.kernel"):
            return "a backend imports only core.kernel from core"
    return None


def violations() -> list[str]:
    found = []
    for folder in PACKAGES:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(dirpath, name)
                module, is_package = module_of(path)
                with open(path, encoding="utf-8") as f:
                    source = f.read()
                for line, imported in imports_in(source, module, is_package):
                    rule = broken_rule(module, imported)
                    if rule:
                        found.append(f"{os.path.relpath(path, ROOT)}:{line}: imports {imported} -- {rule}")
    return found


def test_the_layers_import_only_what_they_may():
    assert violations() == []


# -- the checker itself: it sees imports and it can fail ----------------------------------------


def test_relative_and_late_imports_are_resolved():
    source = (
        "from . import libc\n"
        "from ..sim import vfs\n"
        "def late():\n"
        "    from stepbox.core.image import store\n"
        "    importlib.import_module('stepbox.backends.sim')\n"
    )
    assert list(imports_in(source, "stepbox.backends.linux.kernel", False)) == [
        (1, "stepbox.backends.linux"),
        (2, "stepbox.backends.sim"),
        (4, "stepbox.core.image"),
        (5, "stepbox.backends.sim"),
    ]


def test_each_rule_is_enforced():
    assert (
        broken_rule("stepbox.core.engine.server", "stepbox.backends.linux") == "core never imports backends"
    )
    assert broken_rule("stepbox.backends.linux.kernel", "stepbox.backends.sim.vfs") == (
        "a backend never imports another backend"
    )
    assert broken_rule("stepbox.backends.sim.kernel", "stepbox.core.image.store") == (
        "a backend imports only core.kernel from core"
    )
    assert broken_rule("stepbox.backends.sim.kernel", "stepbox.core.kernel.trace") is None
    assert broken_rule("stepbox.backends.sim.kernel", "stepbox.backends.sim.vfs") is None
    assert broken_rule("stepbox.core.kernel.backend_lookup", "importlib") is None


def test_the_checker_reads_the_real_code():
    # Guard against a scan that silently finds nothing (a wrong folder, say).
    module, _ = module_of(os.path.join(ROOT, "backends", "sim", "kernel.py"))
    assert module == "stepbox.backends.sim.kernel"
    with open(os.path.join(ROOT, "backends", "sim", "kernel.py"), encoding="utf-8") as f:
        seen = {imported for _, imported in imports_in(f.read(), module, False)}
    assert "stepbox.core.kernel.kernel" in seen and "stepbox.backends.sim.vfs" in seen
