"""The ``stepbox`` command's entry point: answers ``--version`` before any import.

``stepbox --version`` is what scripts and installers call to see whether
stepbox is there; it needs no argument parser and no client, so it is
answered from the package's ``__version__`` alone (issue 18: at most 1.5x a
bare interpreter's start).  A ``run`` or ``build`` whose command line needs
no click is run by :mod:`.lean_run` or :mod:`.lean_build`; every other call goes to :func:`.main.main`, which
imports click and the verb's module.  The same ``--version`` is a
click option there too, so ``stepbox --root DIR --version`` says the same.
"""

from __future__ import annotations

import sys

VERSION_FLAGS = ("--version", "-v")


def version_line() -> str:
    from stepbox import __version__

    return f"stepbox version {__version__}"  # docker: "Docker version 28.0.1, build …"


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] in VERSION_FLAGS:
        print(version_line())
        return
    if "run" in sys.argv:  # perhaps a run that needs no click (see lean_run.py)
        from .lean_run import main as lean_main

        status = lean_main(sys.argv[1:])
        if status is not None:
            sys.exit(status)
    if "build" in sys.argv:  # perhaps a build that needs no click (see lean_build.py)
        from .lean_build import main as lean_build

        status = lean_build(sys.argv[1:])
        if status is not None:
            sys.exit(status)
    from .main import main as full_main

    full_main()
