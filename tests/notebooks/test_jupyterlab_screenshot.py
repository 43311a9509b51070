"""A notebook opened in JupyterLab, in a real browser: its step controls and
diagrams render, and the buttons work.

Debian's Chromium, driven by Playwright, opens the containers notebook, runs
it, then clicks **Reset** and **Step** on the walk-through's controls -- which
only works if the widgets really rendered and talk to the kernel.  The
screenshot must be a real picture, not an empty page.
"""

from __future__ import annotations

import os
import shutil
import struct

import pytest

from tests.notebooks.browser import (
    error_outputs,
    jupyterlab_and_chromium,
    on_the_simulator,
    run_all,
    skip_or_fail_if_missing,
)

UI_TIMEOUT_MS = 180_000  # generous: CI runs this beside other tests on two cores


def _png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.slow
def test_notebook_controls_and_diagrams_render_in_jupyterlab():
    skip_or_fail_if_missing()
    with jupyterlab_and_chromium("sbx-lab-") as (work, lab, browser):
        notebook = on_the_simulator("03-containers.ipynb", work)
        screenshot = os.path.join(work, "notebook.png")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(lab.url(notebook))
            run_all(page)
            assert error_outputs(page) == []
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
            page.wait_for_function(
                "() => document.querySelector('.stepbox-controls').textContent.includes('0/15 done')"
            )
            controls.get_by_role("button", name="Step").click()
            step_view = controls.locator(".stepbox-step").first
            step_view.wait_for()
            assert "Step 1/15: Resolve the image to its layers" in step_view.inner_text()
            assert step_view.locator("svg.stepbox-diagram").count() == 1
            assert "1/15 done" in controls.inner_text()  # 13 before the confinement and seccomp steps
            controls.scroll_into_view_if_needed()
            page.screenshot(path=screenshot, full_page=False)
        except BaseException:
            page.screenshot(path=os.path.join(work, "failure.png"))
            raise
        width, height = _png_size(screenshot)
        assert (width, height) == (1400, 1000)
        # A blank page compresses to a few kilobytes; text, buttons and diagrams do not.
        assert os.path.getsize(screenshot) > 30_000, f"suspiciously small screenshot: {screenshot}"
        if os.environ.get("STEPBOX_SCREENSHOT"):  # keep it, to look at
            shutil.copy(screenshot, os.environ["STEPBOX_SCREENSHOT"])
