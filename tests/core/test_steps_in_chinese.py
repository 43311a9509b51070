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


# -- the other walks: a Dockerfile build, the OCI runtime's own steps --------------------------

DOCKERFILE = """\
ARG BASE=busybox
FROM $BASE AS base
ARG VERSION=1
ENV GREETING=hi
LABEL org.example.version=$VERSION
RUN echo $GREETING > /greeting
COPY app.txt /app/
ADD app.txt /added/
WORKDIR /app
EXPOSE 8080
USER nobody
CMD ["cat", "/greeting"]
"""


def build_steps(tmp_path) -> list[Step]:
    """The steps of a build plan that has every kind of build step (planned, not run)."""
    from stepbox.core.dockerfile.builder import Builder, BuildOptions
    from stepbox.core.image.store import ImageStore

    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "app.txt").write_text("app\n")
    _session, steps = Builder(ImageStore(str(tmp_path / "images")), None, None, lambda line: None).plan(
        BuildOptions(str(tmp_path), tags=("t",))
    )
    return steps


def runtime_steps() -> list[Step]:
    """Every step of every verb of stepbox-runc (core/runtime/plan.py)."""
    from stepbox.core.runtime import plan as oci

    def nothing(ctx) -> None:
        pass

    phases = [oci.create_phase(), oci.START_PHASE, oci.KILL, oci.PAUSE, oci.RESUME, oci.delete_phase(True)]
    phases += [oci.exec_phase(nothing), oci.update_phase(nothing)]
    return [step for phase in phases for step in phase.steps + phase.on_failure]


def test_every_step_of_a_build_has_a_chinese_explanation(tmp_path):
    from stepbox.core.dockerfile.builder import DEFAULT_EXPLAIN, EXPLAIN

    steps = build_steps(tmp_path)
    assert {s.explain for s in steps} >= {*EXPLAIN.values(), DEFAULT_EXPLAIN}  # the plan has them all
    missing = [f"{step.key}: {step.title}" for step in steps if chinese(step) is None]
    assert missing == [], "build steps without Chinese text (add them to core/dockerfile/in_chinese.py)"
    for step in steps:
        title, explain = text_of(step, "zh")
        assert CJK.search(explain), step.key
        # an instruction's step is titled with the instruction itself, in any language
        assert title == step.title if step.key != "tag" else title == "给镜像打标签"


def test_every_step_of_the_oci_runtime_has_a_chinese_title_and_explanation():
    steps = runtime_steps()
    assert {"state_dir", "exec", "start", "kill", "freeze", "thaw", "forget", "exec_in", "limits"} <= {
        s.key for s in steps
    }
    missing = [f"{step.key}: {step.title}" for step in steps if chinese(step) is None]
    assert missing == [], "runtime steps without Chinese text (add them to core/runtime/in_chinese.py)"
    for step in steps:
        title, explain = text_of(step, "zh")
        assert CJK.search(title) and CJK.search(explain), step.key


def test_no_translation_of_another_walk_is_left_over(tmp_path):
    from stepbox.core.dockerfile.in_chinese import IN_CHINESE as BUILD
    from stepbox.core.runtime.in_chinese import IN_CHINESE as RUNTIME

    assert set(BUILD) - {s.explain for s in build_steps(tmp_path)} == set()
    assert set(RUNTIME) - {s.explain for s in runtime_steps()} == set()
