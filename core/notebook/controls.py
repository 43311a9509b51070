"""Stepping through a lifecycle in a notebook: Step, Run to end, Reset.

A :class:`Walkthrough` wraps the same :class:`~stepbox.core.container.steps.Stepper`
that ``stepbox run`` and ``stepbox step`` drive.  It can be driven two ways,
which share one position in the plan:

* from code -- ``walk.step()`` in a cell shows that step as the cell's
  output (this is what runs when the notebook is executed headless);
* from its buttons -- ``walk.controls()`` shows **Step**, **Run to end** and
  **Reset** (ipywidgets); each click renders into the output area below them.

**Reset** undoes what was done (the Stepper's undo chain for a half-finished
plan, ``docker rm -f`` for a finished one) and starts over with a new container.

The buttons drive a walk of their own, a *twin* of the one the cells drive:
after Run All the cells have stepped their walk to the end (and closed it), and
the buttons must still start from the first step.  A walk starts (makes its
container, its build, ...) only when it is first stepped, so a twin nobody
clicks makes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stepbox.core.container.in_chinese import text_of
from stepbox.core.container.steps import Step, Stepper, StepResult

from .tables import NO_MATH, Html, code_list, esc, html_table

# A step's headings in each language (the buttons and the status line stay English:
# they are the controls' names, the same in both notebooks).
# the operations' heading, and the "what changed" table's three column headings
HEADINGS: dict[str, dict[str, Any]] = {
    "en": {"ops": "kernel operations", "changed": ("what changed", "before", "after")},
    "zh": {"ops": "内核操作", "changed": ("变化了什么", "之前", "之后")},
}

# What to draw after a step: (the plan's context, what the step did) -> SVG or
# HTML, or "" when there is nothing worth a picture after this step.
Picture = Callable[[Any, StepResult], str]


@dataclass
class StepView:
    """One executed step, rendered: title, why, kernel operations, what changed."""

    number: int
    total: int
    result: StepResult
    ops: list[str]
    pictures: list[str]
    changes: list[tuple[str, object, object]]  # (key, before, after), shortened for reading
    lang: str = "en"  # "zh": the step's Chinese title and explanation (core/container/in_chinese.py)

    def _repr_html_(self) -> str:
        step = self.result.step
        title, explain = text_of(step, self.lang)
        words = HEADINGS[self.lang]
        parts = [
            f'<div class="stepbox-step {NO_MATH}" style="border:1px solid #d0d7de;border-radius:8px;padding:8px 12px;'
            'margin:6px 0">',
            f'<div style="font-size:15px;font-weight:600">Step {self.number}/{self.total}: {esc(title)}</div>',
            f'<div style="font-style:italic;margin:4px 0">{esc(explain)}</div>',
            f'<div style="color:#57606a;font-size:12px">seed: {esc(step.concept)}</div>',
        ]
        if self.ops:
            parts.append(code_list(self.ops, words["ops"]))
        if self.changes:
            parts.append(html_table(self.changes, words["changed"], code_columns=(0,)))
        parts += self.pictures
        parts.append("</div>")
        return "".join(parts)

    def __str__(self) -> str:
        return f"Step {self.number}/{self.total}: {text_of(self.result.step, self.lang)[0]}"


class Walkthrough:
    """Step controls over a plan.  ``start()`` makes a fresh Stepper (and
    whatever it needs, e.g. a new container record); ``discard(stepper)``
    undoes everything it did; ``pictures`` draw the state after each step;
    ``shorten`` tidies the kernel operations for reading."""

    def __init__(
        self,
        start: Callable[[], Stepper],
        discard: Callable[[Stepper], None],
        pictures: Sequence[Picture] = (),
        shorten: Callable[[str], str] = str,
    ):
        self._start, self._discard = start, discard
        self.pictures = list(pictures)
        self.shorten = shorten
        self._stepper: Stepper | None = None  # made by start() when first needed
        self.history: list[StepView] = []
        self._widgets: dict[str, Any] | None = None
        # A new walk over the same plan for the buttons (see the module's docstring);
        # the factories that made this walk set it to call themselves again.
        self.twin: Callable[[], Walkthrough] = lambda: Walkthrough(
            self._start, self._discard, self.pictures, self.shorten
        )
        self.button_walks: list[Walkthrough] = []  # the twins controls() made
        self.lang = "en"  # the steps' texts: "zh" in the Chinese notebooks (the lab's language)

    @property
    def stepper(self) -> Stepper:
        if self._stepper is None:
            self._stepper = self._start()
        return self._stepper

    @property
    def started(self) -> bool:
        return self._stepper is not None

    # -- driving ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stepper.done

    @property
    def next_step(self) -> Step | None:
        return self.stepper.next_step

    @property
    def ctx(self):
        """What the plan's steps share (a container's LifecycleContext, a BuildSession)."""
        return self.stepper.ctx

    @property
    def steps(self) -> list[Step]:
        return self.stepper.steps

    def step(self) -> StepView:
        """Execute the next step; its rendering."""
        if self.stepper.done:
            raise RuntimeError("every step has run: call reset() to start over")
        result = self.stepper.step()
        pictures = [picture(self.stepper.ctx, result) for picture in self.pictures]
        view = StepView(
            len(self.history) + 1,
            len(self.stepper.steps),
            result,
            [self.shorten(str(op)) for op in result.ops],
            [p for p in pictures if p],
            [(key, self._tidy(before), self._tidy(after)) for key, before, after in result.changes],
            self.lang,
        )
        self.history.append(view)
        return view  # (a click refreshes the status once the view is shown)

    def _tidy(self, value):
        if isinstance(value, str):
            return self.shorten(value)
        if isinstance(value, (list, tuple)):
            return [self._tidy(v) for v in value]
        return value

    def step_until(self, key: str) -> list[StepView]:
        """Execute steps up to and including the one called ``key``."""
        if key not in [s.key for s in self.stepper.steps[self.stepper.position :]]:
            raise KeyError(
                f"no step {key!r} ahead; the next ones are "
                f"{[s.key for s in self.stepper.steps[self.stepper.position :]]}"
            )
        views = []
        while not self.stepper.done:
            views.append(self.step())
            if views[-1].result.step.key == key:
                break
        return views

    def run_to_end(self) -> list[StepView]:
        views = []
        while not self.stepper.done:
            views.append(self.step())
        return views

    def reset(self) -> None:
        """Undo everything and start again from the first step."""
        try:
            if self._stepper is not None:
                self._discard(self._stepper)
        finally:
            self._stepper = None
            self._stepper = self._start()
            self.history = []
            if self._widgets:
                self._widgets["output"].clear_output()
            self._refresh()

    def close(self) -> None:
        """Undo everything this walk did (the buttons' walks are the lab's to
        undo: the lab removes every container when the kernel ends)."""
        if self._stepper is not None:
            self._discard(self._stepper)

    # -- showing ---------------------------------------------------------------------
    def plan_table(self) -> Html:
        """The plan: every step, what it teaches, and which have run."""
        rows = [
            (
                ("✔" if i < self.stepper.position else ("▶" if i == self.stepper.position else "")),
                i + 1,
                text_of(s, self.lang)[0],
                s.concept,
            )
            for i, s in enumerate(self.stepper.steps)
        ]
        return Html(html_table(rows, ("", "#", "step", "seed concept")))

    def controls(self):
        """Step / Run to end / Reset buttons and an output area (ipywidgets),
        driving a new walk over the same plan (see the module's docstring)."""
        walk = self.twin()
        self.button_walks.append(walk)
        return walk.buttons()

    def buttons(self):
        """The widgets of controls(), driving this very walk."""
        import ipywidgets as widgets
        from IPython.display import display

        step_button = widgets.Button(
            description="Step", icon="step-forward", button_style="primary", tooltip="run the next step"
        )
        run_button = widgets.Button(
            description="Run to end", icon="fast-forward", tooltip="run every remaining step"
        )
        reset_button = widgets.Button(
            description="Reset",
            icon="undo",
            button_style="warning",
            tooltip="undo everything and start again",
        )
        status = widgets.HTML()
        output = widgets.Output()
        self._widgets = {"status": status, "output": output, "step": step_button, "run": run_button}

        def clicked(action):
            def handler(_button):
                with output:
                    try:
                        views = action()
                        for view in views if isinstance(views, list) else [views] if views else []:
                            display(view)
                    except Exception as error:  # shown, not raised: a click has no cell to fail
                        display(
                            Html(
                                f'<pre style="color:#cf222e">{esc(type(error).__name__)}: {esc(error)}</pre>'
                            )
                        )
                self._refresh()

            return handler

        step_button.on_click(clicked(self.step))
        run_button.on_click(clicked(self.run_to_end))
        reset_button.on_click(clicked(self.reset))
        self._refresh()
        box = widgets.VBox([widgets.HBox([step_button, run_button, reset_button, status]), output])
        box.add_class("stepbox-controls")
        return box

    def _refresh(self) -> None:
        if not self._widgets:
            return
        if self._stepper is None:
            self._widgets["status"].value = "&nbsp;not started · <b>Step</b> to run the first step"
            self._widgets["step"].disabled = self._widgets["run"].disabled = False
            return
        position, total = self.stepper.position, len(self.stepper.steps)
        upcoming = self.stepper.next_step
        self._widgets["status"].value = (
            f"&nbsp;{position}/{total} done · next: <b>{esc(text_of(upcoming, self.lang)[0])}</b>"
            if upcoming
            else f"&nbsp;{position}/{total} done · finished (Reset to start over)"
        )
        self._widgets["step"].disabled = self._widgets["run"].disabled = upcoming is None


__all__ = ["StepView", "Walkthrough"]
