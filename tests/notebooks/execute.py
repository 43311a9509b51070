"""Execute one notebook headless, from a clean kernel, on a chosen backend.

    python execute.py NOTEBOOK.ipynb OUTPUT.ipynb BACKEND

Like papermill: a cell setting ``BACKEND`` is inserted after the cell tagged
``parameters``.  The executed notebook is written to OUTPUT (also when a cell
fails, so the failure can be read); the exit status is 0 only if every cell
ran without an error.  A script rather than a test helper because the
non-root run executes it as another user (see test_notebooks.py).

The kernel is this interpreter's -- the venv stepbox is installed in --
whatever kernels are registered: a ``python3`` kernel in ~/.local/share/jupyter
may well be another Python, one without stepbox.
"""

from __future__ import annotations

import asyncio
import sys

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT = 600  # seconds; a hung container must fail the run, not stall it
SHUTDOWN_WAIT = 120  # seconds the kernel has to close its lab (removing real containers)


def inject_backend(notebook, backend: str) -> None:
    for index, cell in enumerate(notebook.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            injected = nbformat.v4.new_code_cell(
                f"BACKEND = {backend!r}   # injected by the test\n"
                "import os as _os, sys as _sys\n"
                "print('kernel uid', _os.geteuid())   # which user the kernel runs as\n"
                "print('kernel python', _sys.executable)   # and which interpreter"
            )
            injected.metadata["tags"] = ["injected-parameters"]
            notebook.cells.insert(index + 1, injected)
            return
    raise SystemExit("the notebook has no cell tagged 'parameters'")


class ThisInterpreter(KernelSpecManager):
    """Every kernel name means ipykernel in the interpreter running this script."""

    def get_kernel_spec(self, kernel_name):
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return self.kernel_spec_class(resource_dir=RESOURCES, name=kernel_name, **get_kernel_dict())


def main(source: str, target: str, backend: str) -> int:
    notebook = nbformat.read(source, as_version=4)
    inject_backend(notebook, backend)
    kernel = AsyncKernelManager(
        kernel_name="python3", kernel_spec_manager=ThisInterpreter(), shutdown_wait_time=SHUTDOWN_WAIT
    )
    client = NotebookClient(
        notebook,
        km=kernel,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": _directory(source)}},
    )
    try:
        client.execute()
        status = 0
    except CellExecutionError as error:
        print(error, file=sys.stderr)
        status = 1
    finally:
        nbformat.write(notebook, target)
        # As JupyterLab does when the learner shuts the kernel down: a shutdown
        # request, then the kernel ends by itself, running its atexit handlers
        # (the lab closes then).  nbclient leaves a kernel it was given running,
        # and a kernel whose parent is gone exits at once, skipping them.
        if kernel.has_kernel:
            asyncio.run(_shut_down(kernel))
    return status


async def _shut_down(kernel: AsyncKernelManager) -> None:
    await kernel.shutdown_kernel(now=False)


def _directory(path: str) -> str:
    import os

    return os.path.dirname(os.path.abspath(path))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
