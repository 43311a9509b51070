"""Plan.for_config: the steps whose condition holds for the config, asked anew each time.

A plan is made once and filtered per lifecycle (issue 18); what is kept
between calls maps a phase's answers to its steps -- never a config to
them -- so a condition that now says otherwise changes the plan at once.
"""

from __future__ import annotations

from stepbox.core.confinement.policy import ConfinementFlags
from stepbox.core.container import plan
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.steps import Phase, Plan, Step, Stepper


def _step(key: str, when=None) -> Step:
    return Step(key, key, "", "", lambda ctx: None, when=when)


def _naive(whole: Plan, config: object) -> list[list[str]]:
    """What for_config gives, written out: every step's condition asked."""
    return [[s.key for s in phase.steps if s.applies_to(config)] for phase in whole.phases]


def _keys(whole: Plan) -> list[list[str]]:
    return [[s.key for s in phase.steps] for phase in whole.phases]


def test_each_call_asks_the_conditions_again():
    asked = []
    wanted = {"value": True}

    def flag(config):
        asked.append(config)
        return wanted["value"]

    phase = Phase("p", (_step("a"), _step("b", flag), _step("c", flag)), on_failure=(_step("f", flag),))
    whole = Plan((phase, Phase("q", (_step("d"),))))
    assert _keys(whole.for_config("x")) == [["a", "b", "c"], ["d"]]
    assert whole.for_config("x").phases[0].on_failure[0].key == "f"
    wanted["value"] = False  # the same config, another answer: another plan
    assert _keys(whole.for_config("x")) == [["a"], ["d"]]
    assert whole.for_config("x").phases[0].on_failure == ()
    assert len(asked) == 4  # once per call: one condition, shared by three steps


def test_the_same_answers_give_the_same_plan_and_layout():
    whole = plan.run_plan(ContainerConfig(image="busybox", auto_remove=True))
    assert whole is plan.run_plan(ContainerConfig(image="busybox", auto_remove=True))
    none, host = (ContainerConfig(image="busybox", network=n) for n in ("none", "host"))
    assert whole.for_config(none) is whole.for_config(ContainerConfig(image="busybox", network="none"))
    assert whole.for_config(none) is not whole.for_config(host)
    first, second = (Stepper(None, whole.for_config(none)) for _ in range(2))
    first.steps.append(_step("mine"))  # the Stepper's own list: the plan's stays as it was
    assert [s.key for s in second.steps] == [key for keys in _naive(whole, none) for key in keys]


def test_every_config_gets_the_steps_written_out():
    configs = [
        ContainerConfig(
            image="busybox", network=network, tty=tty, init=init, ulimits=ulimits, security=security
        )
        for network in ("none", "host", "default", "container:other")
        for tty in (False, True)
        for init in (False, True)
        for ulimits in ((), (("nofile", 10, 20),))
        for security in (
            ConfinementFlags(),
            ConfinementFlags(security_opt=("no-new-privileges",)),
            ConfinementFlags(privileged=True),
        )
    ]
    for remove in (False, True):
        whole = plan.run_plan(configs[0], remove=remove)
        for config in configs:
            assert _keys(whole.for_config(config)) == _naive(whole, config), config
            filtered = whole.for_config(config)
            start = next(p for p in filtered.phases if p.name == "start")
            full_start = next(p for p in whole.phases if p.name == "start")
            assert [s.key for s in start.on_failure] == [
                s.key for s in full_start.on_failure if s.applies_to(config)
            ]
