"""JupyterLab in a real browser, for the tests that do what a learner does.

JupyterLab runs headless on a free loopback port with a token, in a private
home (its settings, its runtime files); Debian's Chromium, driven by
Playwright, opens notebooks in it.  Notebooks run on the simulator here:
quick, and the same controls and pictures as on the real kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import nbformat
import pytest

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK_DIR = os.path.join(CHECKOUT, "notebooks")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# What a headless Chromium needs here: no sandbox as root, and no background
# connections to the outside (the network is closed; they only fail slowly).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_TIMEOUT = 60.0


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if CHROMIUM is None:
        return "no chromium (Debian: apt-get install chromium; scripts/install.sh does)"
    try:
        import jupyterlab  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed (pip install -e '.[test]')"
    return None


def skip_or_fail_if_missing() -> None:
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)


def on_the_simulator(name: str, work: str) -> str:
    """A copy of notebook ``name`` in ``work`` whose BACKEND is the simulator."""
    notebook = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace('BACKEND = "auto"', 'BACKEND = "sim"')
    path = os.path.join(work, name)
    nbformat.write(notebook, path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings_dir: str) -> None:
    """JupyterLab settings for a test: render every cell (not only those on
    screen, so the DOM holds every output), and no news pop-up."""
    for plugin, values in (
        ("notebook-extension/tracker", {"windowingMode": "none"}),
        ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
    ):
        path = os.path.join(settings_dir, "@jupyterlab", plugin + ".jupyterlab-settings")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(values, f)


def read_log(work: str, name: str = "jupyterlab.log") -> str:
    try:
        with open(os.path.join(work, name), errors="replace") as f:
            return f.read()[-5000:]
    except OSError:
        return ""


class JupyterLab:
    """A JupyterLab server serving ``work``; ``url(name)`` opens a notebook."""

    def __init__(self, work: str):
        self.work = work
        home = os.path.join(work, "home")
        os.makedirs(home)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("STEPBOX_", "JUPYTER", "XDG_"))
        }
        env["STEPBOX_BRIDGE"] = "none"  # a daemon a notebook starts wires no bridge in the host's namespace
        env.update(
            HOME=home,
            TMPDIR=work,
            JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
            JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"),
            MPLCONFIGDIR=os.path.join(home, ".mpl"),
            JUPYTERLAB_SETTINGS_DIR=os.path.join(home, "lab-settings"),
        )
        _write_settings(env["JUPYTERLAB_SETTINGS_DIR"])
        self.port, self.token = _free_port(), os.urandom(12).hex()
        log = open(os.path.join(work, "jupyterlab.log"), "wb")
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                f"--port={self.port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={work}",
                "--allow-root",
                "--ServerApp.open_browser=False",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True",
            ],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + SERVER_TIMEOUT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError(f"JupyterLab exited:\n{read_log(work)}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout=2
                ) as r:
                    if json.load(r).get("started"):
                        return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise AssertionError(f"JupyterLab did not answer within {SERVER_TIMEOUT:g}s:\n{read_log(work)}")

    def url(self, notebook_path: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{os.path.basename(notebook_path)}?token={self.token}"

    def shut_down_kernels(self) -> None:
        """Shut every kernel down as the Kernel menu does (their labs close)."""
        base = f"http://127.0.0.1:{self.port}/api/kernels"
        with urllib.request.urlopen(f"{base}?token={self.token}", timeout=10) as r:
            kernels = json.load(r)
        for kernel in kernels:
            request = urllib.request.Request(f"{base}/{kernel['id']}?token={self.token}", method="DELETE")
            urllib.request.urlopen(request, timeout=120).close()

    def close(self) -> None:
        self.server.terminate()
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()


@contextlib.contextmanager
def jupyterlab_and_chromium(prefix: str):
    """(work directory, JupyterLab, a Playwright browser); on a failure the
    server's log and screenshots are kept in $TMPDIR/stepbox-jupyterlab-failure."""
    from playwright.sync_api import sync_playwright

    work = tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None)
    lab = None
    try:
        lab = JupyterLab(work)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield work, lab, browser
            finally:
                browser.close()
    except BaseException:
        kept = os.path.join(tempfile.gettempdir(), "stepbox-jupyterlab-failure")
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(work, kept, ignore=shutil.ignore_patterns("home"), dirs_exist_ok=True)
        print(f"kept the screenshots and the server log in {kept}")
        raise
    finally:
        if lab is not None:
            lab.close()
        shutil.rmtree(work, ignore_errors=True)


def run_all(page) -> None:
    """Run All, as the Run menu does, once the notebook's kernel is ready --
    through JupyterLab's own command, whose promise settles when the last
    cell has run (a menu click before the kernel is up can be lost on a busy
    machine); then wait until every code cell shows its execution number."""
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget")
    page.evaluate("""async () => {
        const app = window.jupyterapp, panel = app.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        await app.commands.execute('notebook:run-all-cells');
    }""")
    # cells run in order, and one that fails leaves the rest without a number
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }"""
    )


def error_outputs(page) -> list[str]:
    """The text of every traceback a cell showed."""
    errors = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    return [errors.nth(i).inner_text() for i in range(errors.count())]
