import pytest
from stepbox.core.cli.errors import CommandFailed
from stepbox.core.cli.format import go_template
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.flags import InvalidConfig, parse_cpus, parse_env, parse_size
from stepbox.core.units import human_duration


@pytest.mark.parametrize(
    "text, value",
    [
        ("8m", 8 << 20),
        ("1g", 1 << 30),
        ("512k", 512 << 10),
        ("100", 100),
        ("1.5m", int(1.5 * (1 << 20))),
        ("8MB", 8 << 20),
    ],
)
def test_sizes_like_docker(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["12q", "", "m", "-1m", "1 2"])
def test_bad_sizes_name_the_flag(text):
    with pytest.raises(InvalidConfig, match=r'for "-m, --memory" flag: invalid size'):
        parse_size(text)


def test_memory_minimum():
    with pytest.raises(InvalidConfig, match="Minimum memory limit allowed is 6MB"):
        ContainerConfig(image="busybox", memory=1 << 20)


def test_cpus():
    assert parse_cpus("0.5") == 0.5
    assert parse_cpus("0") == 0  # docker: --cpus 0 is no limit (the range is the daemon's to check)
    with pytest.raises(InvalidConfig, match="rational"):
        parse_cpus("lots")
    limits = ContainerConfig(image="b", cpus=0.5).limits
    assert (limits.cpu_quota_us, limits.cpu_period_us) == (50_000, 100_000)


def test_env():
    assert parse_env(["A=1", "B=", "C"]) == {"A": "1", "B": "", "C": ""}
    with pytest.raises(InvalidConfig):
        parse_env(["=x"])


def test_relative_workdir_refused():
    with pytest.raises(InvalidConfig, match="absolute path"):
        ContainerConfig(image="b", workdir="tmp")


def test_go_template_subset():
    doc = {"State": {"ExitCode": 137, "OOMKilled": True}, "Config": {"Env": ["A=1"]}}
    assert go_template("{{.State.ExitCode}} {{.State.OOMKilled}}", doc) == "137 true"
    # docker's json: compact, as Go's encoder writes it (tests/core/test_gotemplate.py has the rest)
    assert go_template("{{json .Config}}", doc) == '{"Env":["A=1"]}'
    with pytest.raises(CommandFailed, match="map has no entry") as failure:
        go_template("{{.Nope}}", doc)
    assert failure.value.status == 1


def test_human_duration():
    assert human_duration(0.5) == "Less than a second"
    assert human_duration(5) == "5 seconds"
    assert human_duration(90) == "About a minute"
    # go-units' steps, as `docker images` shows them
    hour, day = 3600, 86400
    assert [
        human_duration(s) for s in (59 * 60, 90 * 60, 47 * hour, 13 * day, 59 * day, 700 * day, 1100 * day)
    ] == ["59 minutes", "2 hours", "47 hours", "13 days", "8 weeks", "23 months", "3 years"]
