"""Stepper.finish: run's steps and failure policy, without the per-step results."""

from __future__ import annotations

import pytest
from stepbox.core.container import steps
from stepbox.core.container.steps import Phase, Plan, Step, StepContext, Stepper, UndoChain
from stepbox.core.kernel import Tracer


class _Ctx(StepContext):
    def __init__(self) -> None:
        self.undo = UndoChain()
        self.done: list[str] = []
        self.saves = 0
        self._tracer = Tracer()

    @property
    def tracer(self) -> Tracer:
        return self._tracer

    def save(self) -> None:
        self.saves += 1


def _make(key: str, fail: bool = False) -> Step[_Ctx]:
    def run(ctx: _Ctx) -> None:
        ctx.done.append(key)
        ctx.on_undo(f"undo {key}", lambda: ctx.done.append(f"undo {key}"))
        ctx.tracer.record(key)
        if fail:
            raise RuntimeError(key)

    return Step(key, key, "", "", run)


def _plan(fail: bool) -> Plan[_Ctx]:
    first = Phase("first", (_make("a"), _make("b")))
    second = Phase("second", (_make("c"), _make("d", fail=fail)), on_failure=(_make("cleanup"),))
    return first + second


def _outcome(how: str, fail: bool) -> tuple[list[str], int, list[str], int]:
    ctx = _Ctx()
    told: list[str] = []
    stop = steps.listen(lambda c, step: told.append(step.key if step is not None else "-"))
    stepper = Stepper(ctx, _plan(fail))
    try:
        getattr(stepper, how)()
    except RuntimeError:
        pass
    finally:
        stop()
    return ctx.done, ctx.saves, told, stepper.position


@pytest.mark.parametrize("fail", [False, True])
def test_finish_does_what_run_does(fail):
    assert _outcome("finish", fail) == _outcome("run", fail)
    done, _, _, position = _outcome("finish", fail)
    if fail:  # the failed phase's undos, newest first, then its on_failure steps
        assert done == ["a", "b", "c", "d", "undo d", "undo c", "cleanup"]
    else:
        assert done == ["a", "b", "c", "d"] and position == 4


def test_finish_raises_the_steps_error():
    with pytest.raises(RuntimeError, match="d"):
        Stepper(_Ctx(), _plan(fail=True)).finish()


def test_an_observed_stepper_still_observes():
    seen = []
    Stepper(
        _Ctx(), _plan(fail=False), lambda ctx: seen.append(list(ctx.done)) or {"n": len(ctx.done)}
    ).finish()
    assert seen == [[], ["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]]
