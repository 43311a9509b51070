"""The Go template engine against Docker's outputs.

The table was recorded with the docker CLI 28 against dockerd 20.10:
``docker inspect -f TEMPLATE`` on a running ``busybox sleep 1000`` whose
inspect document is :data:`INSPECTED` (cut to the fields the templates
read).  The Hypothesis test writes templates from a grammar and runs each
through the real docker CLI (``docker context inspect -f``, which formats
locally, no daemon needed) and through stepbox: the same output, or an
error on both sides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stepbox.core.gotemplate import TemplateError, TemplateSyntaxError, render
from stepbox.core.gotemplate.values import GoMap

INSPECTED = {
    "Id": "20930488f098da356ecc2bddcaa1c14b24aee898aecdfece10c916413dc29db7",
    "Args": ["1000"],
    "State": {
        "Status": "running",
        "Running": True,
        "Paused": False,
        "Restarting": False,
        "OOMKilled": False,
        "Dead": False,
        "Pid": 6597,
        "ExitCode": 0,
        "Error": "",
        "StartedAt": "2026-12-04T20:46:24.126753239Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
    },
    "Name": "/t1",
    "HostConfig": {"Memory": 0, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}},
    "Mounts": [],
    "Config": {"Env": [], "Cmd": ["sleep", "1000"], "Labels": {}},
    "NetworkSettings": {"IPAddress": "", "Networks": {}},
}

# (template, what docker printed) -- or (template, (exit status, its message))
RECORDED = [
    ("{{.NetworkSettings.IPAddress}}", ""),
    ("{{.Foo}}", (1, 'template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"')),
    ("{{.State.Foo}}", (1, 'template: :1:8: executing "" at <.State.Foo>: map has no entry for key "Foo"')),
    ("{{.Foo.Bar}}", (1, 'template: :1:6: executing "" at <.Foo.Bar>: map has no entry for key "Foo"')),
    (
        "{{.NoSuch | len}}",
        (1, 'template: :1:2: executing "" at <.NoSuch>: map has no entry for key "NoSuch"'),
    ),
    ("{{.Config.Labels.x}}", "<no value>"),
    ('{{index .Config.Labels "x"}}', ""),
    ('{{.State.Pid | printf "%T"}}', "int"),
    ("{{json .State.Running}}", "true"),
    ("{{len .Config.Env}}", "0"),
    ("{{.Config.Env}}", "[]"),
    ("{{.HostConfig.RestartPolicy}}", "{no 0}"),
    ("{{.Args}}", "[1000]"),
    ("{{range .Config.Env}}[{{.}}]{{end}}", ""),
    ('{{printf "%d-%s" 3 "x"}}', "3-x"),
    ("{{.State.StartedAt | title}}", "2026-12-04T20:46:24.126753239Z"),
    ("{{upper .Name}}", "/T1"),
    ('{{split "a,b" ","}}', "[a b]"),
    ('{{join .Config.Cmd "+"}}', "sleep+1000"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{.Id | truncate 5}}", (1, 'template: :1:17: executing "" at <5>: expected string; found 5')),
    ('{{pad "x" 1 2}}', " x  "),
    ("{{.Config.Labels}}", "map[]"),
    ("{{json .Config.Labels}}", "{}"),
    ("{{.Mounts}}", "[]"),
    ("{{range $i, $e := .Args}}{{$i}}={{$e}} {{end}}", "0=1000 "),
    ("{{with .State}}{{.Status}}{{end}}", "running"),
    ('{{- "a" -}} {{- "b"}}', "ab"),
    ("{{.State.Running | not}}", "false"),
    ('{{eq .State.Status "running"}}', "true"),
    ('{{lower "ABC"}}', "abc"),
    ("{{.Name | len}}", "3"),
    ("{{index .Args 0}}", "1000"),
    (
        "{{index .Args 5}}",
        (1, 'template: :1:2: executing "" at <index .Args 5>: error calling index: index out of range: 5'),
    ),
    ('{{printf "%v %q %5.2f %x" .State.Pid .Name 3.14159 255}}', '6597 "/t1"  3.14 ff'),
    ('{{println "a" "b"}}', "a b\n"),
    ('{{print 1 2 "x" "y" 3}}', "1 2xy3"),
    ("{{and 1 0}}", "0"),
    ('{{or 0 "" "z"}}', "z"),
    ("{{.HostConfig.Memory}}", "0"),
    ('{{.State.ExitCode | printf "%05d"}}', "00000"),
    ("{{json .Config.Cmd}}", '["sleep","1000"]'),
    ("{{.Config.Cmd}}", "[sleep 1000]"),
    ("{{if}}", (64, "template: :1: missing value for if")),
    ("{{.Foo", (64, "template: :1: unclosed action")),
    ("{{nosuch 1}}", (64, 'template: :1: function "nosuch" not defined')),
]


def _stepbox(template: str, value) -> str | tuple[int, str]:
    try:
        return render(template, value)
    except TemplateSyntaxError as e:
        return (64, str(e))
    except TemplateError as e:
        return (1, str(e))


@pytest.mark.parametrize(("template", "docker"), RECORDED, ids=[t for t, _ in RECORDED])
def test_docker_inspect_outputs(template, docker):
    assert _stepbox(template, INSPECTED) == docker


# -- generated templates, against the real docker CLI -------------------------------------

DOCKER = shutil.which("docker")
# The docker CLI's context type: Metadata, Endpoints and TLSMaterial are Go maps.
CONTEXT = {
    "Name": "default",
    "Metadata": GoMap(),
    "Endpoints": GoMap({"docker": {"Host": "unix:///var/run/docker.sock", "SkipTLSVerify": False}}),
    "TLSMaterial": GoMap(),
    "Storage": {"MetadataPath": "<IN MEMORY>", "TLSPath": "<IN MEMORY>"},
}

words = st.sampled_from(["a", "b", "Hello world", "x,y,z", "", "MiXeD", "é", "7"])
ints = st.integers(min_value=-5, max_value=12)


def _string_literal(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


strings = st.one_of(
    words.map(_string_literal),
    st.just(".Name"),
    st.just(".Storage.TLSPath"),
    st.just(".Endpoints.docker.Host"),
    st.just('(index .Endpoints "docker").Host'),
)
numbers = ints.map(str)
scalars = st.one_of(strings, numbers, st.sampled_from(["true", "false", ".Endpoints.docker.SkipTLSVerify"]))


SPLIT_ABC = '(split "a,b,c" ",")'
PLUS = '"+"'


@st.composite
def expressions(draw, depth: int = 2):
    kind = draw(st.integers(0, 9 if depth > 0 else 0))
    if kind == 0:
        return draw(scalars)
    sub = expressions(depth=depth - 1)
    if kind == 1:
        return f"(upper {draw(strings)})" if draw(st.booleans()) else f"(lower {draw(strings)})"
    if kind == 2:
        verb = _string_literal(draw(st.sampled_from(["%v", "%d", "%s|%v", "%5d", "%-4s|", "%q", "%x", "%T"])))
        return f"(printf {verb} {draw(sub)})"
    if kind == 3:
        return "(len " + draw(st.one_of(strings, st.just(SPLIT_ABC))) + ")"
    if kind == 4:
        return (
            f"({draw(st.sampled_from(['eq', 'ne', 'lt', 'le', 'gt', 'ge']))} {draw(scalars)} {draw(scalars)})"
        )
    if kind == 5:
        return f"({draw(st.sampled_from(['and', 'or']))} {draw(sub)} {draw(sub)})"
    if kind == 6:
        return f"(not {draw(sub)})"
    if kind == 7:
        sep = _string_literal(draw(st.sampled_from([",", " ", "l"])))
        return f"(join (split {draw(strings)} {sep}) {PLUS})"
    if kind == 8:
        return f"(print {draw(sub)} {draw(sub)})"
    return f"(json {draw(sub)})"


@st.composite
def templates(draw):
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(st.integers(0, 3))
        expr = draw(expressions())
        if shape == 0:
            parts.append("{{" + expr + "}}")
        elif shape == 1:
            parts.append("{{if " + expr + "}}T{{else}}F{{end}}")
        elif shape == 2:
            parts.append("{{range $i, $w := split " + draw(strings) + ' " "}}[{{$i}}:{{$w}}]{{end}}')
        else:
            parts.append("{{with $v := " + expr + "}}<{{$v}}>{{end}}")
        parts.append(draw(st.sampled_from(["", " ", "-", "\n"])))
    return "".join(parts)


@pytest.fixture(scope="module")
def docker_config():
    if DOCKER is None:
        pytest.skip("the docker CLI is not installed")
    directory = tempfile.mkdtemp(prefix="sbx-tmpl-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=templates())
def test_generated_templates_agree_with_the_docker_cli(docker_config, template):
    env = {**os.environ, "DOCKER_CONFIG": docker_config}
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    real = subprocess.run(
        [DOCKER, "context", "inspect", "-f", template, "default"], capture_output=True, env=env, timeout=30
    )
    ours = _stepbox(template, CONTEXT)
    if real.returncode == 0:
        # docker context inspect prints each result followed by a newline
        assert ours == real.stdout.decode()[:-1], (template, real.stdout)
    else:
        assert isinstance(ours, tuple), (template, ours, real.stderr)
