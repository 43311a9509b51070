"""Plots where a picture says more than numbers: memory filling up to its
limit, CPU time under a quota, bytes a push sent, kernel operations per step.

Functions return a :class:`Plot`: a :class:`matplotlib.figure.Figure` made
without pyplot (so nothing depends on a GUI backend or on ``%matplotlib``
being set, and a cell that ends with one shows it exactly once), which
Jupyter displays as a PNG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from itertools import pairwise

from .sampling import Sample

MB = 1 << 20


class Plot:
    def __init__(self, figure):
        self.figure = figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


def _figure(width: float = 7.5, height: float = 3.2, rows: int = 1):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height * rows), layout="constrained")
    axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
    return figure, list(axes)


def memory_plot(
    samples: Sequence[Sample],
    limit: int | None,
    title: str = "memory.current over time",
    oom_killed: bool = False,
):
    """memory.current climbing towards memory.max; where the OOM killer struck."""
    figure, (ax,) = _figure()
    times = [s.t for s in samples]
    ax.plot(times, [s.stats.memory_current / MB for s in samples], marker=".", label="memory.current")
    if limit:
        ax.axhline(limit / MB, color="#cf222e", linestyle="--", label=f"memory.max = {limit / MB:g} MiB")
    if oom_killed and samples:
        ax.annotate(
            "OOM killer: SIGKILL",
            xy=(times[-1], samples[-1].stats.memory_current / MB),
            xytext=(0.55, 0.35),
            textcoords="axes fraction",
            arrowprops={"arrowstyle": "->", "color": "#cf222e"},
            color="#cf222e",
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MiB")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return Plot(figure)


def cpu_plot(
    runs: dict[str, Sequence[Sample]], period_us: int = 100_000, title: str = "CPU time under a quota"
):
    """Top: CPU time used (its slope is the number of CPUs the group gets).
    Bottom: time spent throttled in each sampling interval -- the rest of
    every period once the quota is used up."""
    figure, (used, throttled) = _figure(rows=2, height=2.6)
    count = max(len(runs), 1)
    for index, (label, samples) in enumerate(runs.items()):
        times = [s.t for s in samples]
        used.plot(times, [s.stats.cpu_usage_usec / 1e6 for s in samples], marker=".", label=label)
        totals = [s.stats.cpu_throttled_usec for s in samples]
        increments = [(b - a) / 1000 for a, b in pairwise([0, *totals])]
        if times:
            step = times[1] - times[0] if len(times) > 1 else 0.1
            width = step * 0.8 / count
            offsets = [t - step * 0.4 + width * (index + 0.5) for t in times]
            throttled.bar(offsets, increments, width=width, label=label)
    used.set_ylabel("CPU seconds used")
    used.set_title(title)
    used.legend(loc="upper left")
    throttled.set_ylabel("ms throttled")
    throttled.set_xlabel(f"time (s); one CFS period = {period_us / 1000:g} ms")
    throttled.legend(loc="upper right", ncols=count)
    throttled.margins(y=0.35)
    return Plot(figure)


def bytes_plot(labels: Sequence[str], sent: Sequence[int], title: str = "bytes uploaded per push"):
    """One bar per transfer: how much really travelled."""
    figure, (ax,) = _figure(height=2.8)
    bars = ax.bar(list(labels), [n / 1000 for n in sent], color="#0969da")
    for bar, n in zip(bars, sent, strict=True):
        ax.annotate(
            f"{n:,} B",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_ylabel("kB sent")
    ax.set_title(title)
    ax.margins(y=0.2)
    return Plot(figure)


def ops_plot(views, title: str = "kernel operations per step"):
    """How much each step asked of the kernel (``views``: StepViews)."""
    figure, (ax,) = _figure(height=0.32 * max(len(views), 4) + 0.8)
    titles = [f"{v.number}. {v.result.step.title[:48]}" for v in views]
    counts = [len(v.ops) for v in views]
    ax.barh(titles[::-1], counts[::-1], color="#8250df")
    for index, count in enumerate(counts[::-1]):
        ax.annotate(
            str(count), (count, index), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
        )
    ax.set_xlabel("kernel operations (syscalls, cgroup-file writes)")
    ax.set_title(title)
    ax.margins(x=0.12)
    return Plot(figure)


__all__ = ["bytes_plot", "cpu_plot", "memory_plot", "ops_plot"]
