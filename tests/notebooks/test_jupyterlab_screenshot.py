"""A notebook opened in JupyterLab, in a real browser: its step controls and
diagrams render, and the buttons work.

JupyterLab runs headless on a free loopback port with a token; Debian's
Chromium, driven by Playwright, opens the containers notebook, runs it, then
clicks **Reset** and **Step** on the walk-through's controls -- which only works
if the widgets really rendered and talk to the kernel.  The screenshot must
be a real picture, not an empty page.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

import nbformat
import pytest

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(CHECKOUT, "notebooks", "03-containers.ipynb")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# What a headless Chromium needs here: no sandbox as root, and no background
# connections to the outside (the network is closed; they only fail slowly).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_TIMEOUT = 60.0
UI_TIMEOUT_MS = 180_000     # generous: CI runs this beside other tests on two cores


def _missing() -> str | None:
    if CHROMIUM is None:
        return "no chromium (Debian: apt-get install chromium; scripts/install.sh does)"
    try:
        import jupyterlab  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(work: str) -> str:
    """A copy of the notebook that runs on the simulator (quick, and the same
    pictures) and keeps its lab open at the end, so the buttons still have a
    container to step through after Run All."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace('BACKEND = "auto"', 'BACKEND = "sim"')
    closing = ("walk.close()", "lab.close()")
    notebook.cells = [c for c in notebook.cells if not (c.cell_type == "code" and c.source.strip().startswith(closing))]
    path = os.path.join(work, "containers.ipynb")
    nbformat.write(notebook, path)
    return path


def _write_settings(settings_dir: str) -> None:
    """JupyterLab settings for a test: render every cell (not only those on
    screen, so the DOM holds every output), and no news pop-up."""
    for plugin, values in (("notebook-extension/tracker", {"windowingMode": "none"}),
                           ("apputils-extension/notification", {"fetchNews": "false",
                                                                "checkForUpdates": False})):
        path = os.path.join(settings_dir, "@jupyterlab", plugin + ".jupyterlab-settings")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(values, f)


def _start_jupyterlab(work: str, port: int, token: str, env: dict) -> subprocess.Popen:
    log = open(os.path.join(work, "jupyterlab.log"), "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root",
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate", "--LabApp.expose_app_in_browser=True"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"JupyterLab exited:\n{_read(work, 'jupyterlab.log')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                if json.load(r).get("started"):
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(f"JupyterLab did not answer within {SERVER_TIMEOUT:g}s:\n{_read(work, 'jupyterlab.log')}")


def _read(work: str, name: str) -> str:
    try:
        with open(os.path.join(work, name), errors="replace") as f:
            return f.read()[-5000:]
    except OSError:
        return ""


def _png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.slow
def test_notebook_controls_and_diagrams_render_in_jupyterlab():
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    work = tempfile.mkdtemp(prefix="sbx-lab-", dir="/tmp" if os.path.isdir("/tmp") else None)
    home = os.path.join(work, "home")
    os.makedirs(home)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("STEPBOX_", "JUPYTER", "XDG_"))}
    env["STEPBOX_BRIDGE"] = "none"  # its daemon wires no bridge in the host's namespace
    env.update(HOME=home, TMPDIR=work, JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
               JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"), MPLCONFIGDIR=os.path.join(home, ".mpl"),
               JUPYTERLAB_SETTINGS_DIR=os.path.join(home, "lab-settings"))
    _write_settings(env["JUPYTERLAB_SETTINGS_DIR"])
    notebook = _prepare(work)
    port, token = _free_port(), os.urandom(12).hex()
    server = _start_jupyterlab(work, port, token, env)
    screenshot = os.path.join(work, "notebook.png")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                page.set_default_timeout(UI_TIMEOUT_MS)
                page.goto(f"http://127.0.0.1:{port}/lab/tree/{os.path.basename(notebook)}?token={token}")
                page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
                # Run All, as the Run menu does, once the notebook's kernel is
                # ready -- through JupyterLab's own command, whose promise settles
                # when the last cell has run (a menu click before the kernel is
                # up can be lost on a busy machine).
                page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget")
                page.evaluate("""async () => {
                    const app = window.jupyterapp, panel = app.shell.currentWidget;
                    await panel.context.ready;
                    await panel.sessionContext.ready;
                    await app.commands.execute('notebook:run-all-cells');
                }""")
                # Every code cell shows its execution number: cells run in order,
                # and one that fails leaves the rest without one.
                page.wait_for_function(
                    """() => {
                        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                    }""")
                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                assert page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0, \
                    page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").first.inner_text()
                controls = page.locator(".stepbox-controls").first
                controls.scroll_into_view_if_needed()
                for name in ("Step", "Run to end", "Reset"):
                    assert controls.get_by_role("button", name=name).is_visible(), f"no {name} button"
                diagrams = page.locator("svg.stepbox-diagram")
                assert diagrams.count() >= 3, "the layer-stack diagrams did not render"
                box = diagrams.first.bounding_box()
                assert box and box["width"] > 200 and box["height"] > 50
                # The buttons talk to the kernel: Reset starts over, Step runs step 1 again.
                controls.get_by_role("button", name="Reset").click()
                page.wait_for_function("() => document.querySelector('.stepbox-controls').textContent.includes('0/15 done')")
                controls.get_by_role("button", name="Step").click()
                step_view = controls.locator(".stepbox-step").first
                step_view.wait_for()
                assert "Step 1/15: Resolve the image to its layers" in step_view.inner_text()
                assert step_view.locator("svg.stepbox-diagram").count() == 1
                assert "1/15 done" in controls.inner_text()  # 13 before the confinement and seccomp steps
                assert errors.count() == 0 or "Traceback" not in errors.first.inner_text()
                controls.scroll_into_view_if_needed()
                page.screenshot(path=screenshot, full_page=False)
            except BaseException:
                page.screenshot(path=os.path.join(work, "failure.png"))
                raise
            finally:
                browser.close()
        width, height = _png_size(screenshot)
        assert (width, height) == (1400, 1000)
        # A blank page compresses to a few kilobytes; text, buttons and diagrams do not.
        assert os.path.getsize(screenshot) > 30_000, f"suspiciously small screenshot: {screenshot}"
        if os.environ.get("STEPBOX_SCREENSHOT"):          # keep it, to look at
            shutil.copy(screenshot, os.environ["STEPBOX_SCREENSHOT"])
    except BaseException:
        kept = os.path.join(tempfile.gettempdir(), "stepbox-jupyterlab-failure")
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(work, kept, ignore=shutil.ignore_patterns("home"), dirs_exist_ok=True)
        print(f"kept the screenshot and the server log in {kept}")
        raise
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)
