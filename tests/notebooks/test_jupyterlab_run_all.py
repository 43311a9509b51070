"""What a learner does first, in JupyterLab in a real browser, on every
notebook: Run All, then the step controls -- Reset, Step, Run to end --
with no error anywhere; then shutting the kernel down removes the lab.

The controls drive a walk of their own, and no cell closes the lab (it
closes when the kernel ends), so the buttons work after Run All.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from tests.notebooks.browser import (
    NOTEBOOK_DIR,
    error_outputs,
    jupyterlab_and_chromium,
    on_the_simulator,
    run_all,
    skip_or_fail_if_missing,
)

# The notebooks with step controls: the chapters' (NN-topic) and networking.ipynb;
# exercises.ipynb has none (its "your turn" cells run headless in test_notebooks.py).
# Of the Chinese twins (NAME.zh.ipynb) one: their code cells are the English ones'
# (test_notebooks.py checks it, and runs every twin headless on both backends), so a
# browser run of each would cost ~1 min of CI apiece to check the same clicks again.
CHINESE_IN_THE_BROWSER = ["03-containers.zh.ipynb"]
NOTEBOOKS = (
    sorted(
        name
        for name in os.listdir(NOTEBOOK_DIR)
        if name.endswith(".ipynb")
        and (name[:2].isdigit() or name == "networking.ipynb")
        and not name.endswith(".zh.ipynb")
    )
    + CHINESE_IN_THE_BROWSER
)
TIME_CAP_MS = 240_000  # per notebook, Run All and the clicks together: a hang fails, it does not stall CI
CLICK_ERROR = "pre[style*='cf222e']"  # how the controls show an exception a click raised


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_then_the_buttons(name):
    skip_or_fail_if_missing()
    with jupyterlab_and_chromium("sbx-runall-") as (work, lab, browser):
        notebook = on_the_simulator(name, work)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.monotonic()
        try:
            page.set_default_timeout(TIME_CAP_MS)
            page.goto(lab.url(notebook))
            run_all(page)
            assert error_outputs(page) == []
            controls = page.locator(".stepbox-controls").first
            controls.scroll_into_view_if_needed()

            def status() -> str:
                return controls.inner_text()

            def wait_for_status(pattern: str) -> re.Match:
                left = max(1_000, TIME_CAP_MS - int((time.monotonic() - started) * 1000))
                page.wait_for_function(
                    "([pattern]) => new RegExp(pattern).test(document.querySelector('.stepbox-controls').innerText)",
                    arg=[pattern],
                    timeout=left,
                )
                found = re.search(pattern, status())
                assert found, status()
                return found

            controls.get_by_role("button", name="Reset").click()
            total = int(wait_for_status(r"0/(\d+) done").group(1))
            controls.get_by_role("button", name="Step").click()
            wait_for_status(rf"1/{total} done")
            assert controls.locator(".stepbox-step").count() == 1
            controls.get_by_role("button", name="Run to end").click()
            wait_for_status(rf"{total}/{total} done · finished")
            assert controls.locator(".stepbox-step").count() == total
            assert controls.locator(CLICK_ERROR).count() == 0, controls.locator(
                CLICK_ERROR
            ).first.inner_text()
            assert error_outputs(page) == []
            # "$ROOT/..." twice on a line is not a formula: MathJax left every output of ours alone
            assert (
                page.locator(".jp-OutputArea-output mjx-container, .jp-OutputArea-output .MathJax").count()
                == 0
            )
        except BaseException:
            page.screenshot(path=os.path.join(work, "failure.png"), full_page=True)
            raise
        # Kernel -> Shut Down: the lab closes and its state directory goes
        assert [e for e in os.listdir(work) if e.startswith("stepbox-lab-")] != []
        lab.shut_down_kernels()
        deadline = time.monotonic() + 60
        while [e for e in os.listdir(work) if e.startswith("stepbox-lab-")] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [e for e in os.listdir(work) if e.startswith("stepbox-lab-")] == [], (
            "the lab outlived its kernel"
        )
