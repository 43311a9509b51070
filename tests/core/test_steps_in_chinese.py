"""Every step of a container's lifecycle has a Chinese title and explanation
(``stepbox step --lang zh``, a Chinese locale, the Chinese notebooks): none falls
back to English unnoticed, and no translation is left over from a text that changed."""

from __future__ import annotations

import re
import signal

from stepbox.core.container import plan
from stepbox.core.container.in_chinese import IN_CHINESE, chinese, text_of
from stepbox.core.container.plan import create, exit, network, pause, remove, start, stop
from stepbox.core.container.steps import Phase, Step
from stepbox.core.language import language

CJK = re.compile(r"[\u4e00-\u9fff]")


def every_step() -> list[Step]:
    """The steps of every phase the container plans are made of (stop and kill with
    other signals and grace periods than their defaults too)."""
    steps: list[Step] = []
    phases = [stop.stop_phase(signal.SIGINT, 3), stop.kill_phase(signal.SIGHUP)]
    for module in (create, start, network, exit, stop, pause, remove, plan):
        for value in vars(module).values():
            if isinstance(value, Phase):
                phases.append(value)
            elif isinstance(value, Step):
                steps.append(value)
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Step) for v in value):
                steps.extend(value)
    for phase in phases:
        steps.extend(phase.steps + phase.on_failure)
    return steps


def test_the_lifecycle_has_the_steps_we_think():
    keys = {step.key for step in every_step()}
    assert {"resolve_image", "init_layer", "spawn", "pivot_root", "exec", "wait", "remove"} <= keys
    assert {"veth", "dns", "stop_signal", "kill", "freeze", "thaw", "start_failed"} <= keys


def test_every_step_has_a_chinese_title_and_explanation():
    missing = [f"{step.key}: {step.title}" for step in every_step() if chinese(step) is None]
    assert missing == [], "steps without Chinese text (add them to core/container/in_chinese.py)"
    for step in every_step():
        title, explain = text_of(step, "zh")
        assert CJK.search(title) and CJK.search(explain), step.key
        assert (title, explain) != (step.title, step.explain)


def test_no_translation_is_left_over():
    used = {step.explain for step in every_step()}
    assert set(IN_CHINESE) - used == set(), "Chinese texts of English ones that no step has any more"


def test_a_changed_english_text_has_no_chinese_until_translated():
    step = next(s for s in every_step() if s.key == "spawn")
    edited = Step(step.key, step.title, step.explain + " More.", step.concept, step.run)
    assert chinese(edited) is None
    assert text_of(edited, "zh") == (edited.title, edited.explain)


def test_titles_with_a_value_carry_it_over():
    titles = {s.key: text_of(s, "zh")[0] for s in stop.stop_phase(signal.SIGINT, 3).steps}
    assert titles == {"stop_signal": "停止：发送 SIGINT", "grace_period": "最多等 3 秒，然后 SIGKILL"}
    assert text_of(stop.kill_phase(signal.SIGHUP).steps[0], "zh")[0] == "发送 SIGHUP"


def test_the_language_follows_the_flag_then_the_locale(monkeypatch):
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    assert language() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert language() == "zh"
    assert language("en") == "en"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL wins over LANG, as in the C library
    assert language() == "en"
    assert language("zh") == "zh"
