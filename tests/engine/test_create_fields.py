"""The create-body table (core/engine/create_fields.py): complete, in step
with its doc, quiet about the empty fields clients send, loud about the set
ones it does not honour."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from stepbox.core.engine import create_fields
from stepbox.core.engine.create_body import config_from_body
from stepbox.core.engine.create_fields import HONOURED, REFUSED, SECTIONS, check_fields
from stepbox.core.engine.errors import BadParameter, status_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(os.path.dirname(__file__), "data", "docker-engine-api-v1.44.yaml")
CLI_BODIES = os.path.join(os.path.dirname(__file__), "data", "docker-cli-create-bodies.json")


def _definitions() -> dict:
    with open(SPEC) as f:
        return yaml.safe_load(f)["definitions"]


def _properties(definitions: dict, name: str) -> dict:
    schema = definitions[name]
    found: dict = {}
    for part in schema.get("allOf", [schema]):
        if "$ref" in part:
            found.update(_properties(definitions, part["$ref"].rsplit("/", 1)[-1]))
        else:
            found.update(part.get("properties", {}))
    return found


SCHEMAS = {
    "Config": "ContainerConfig",
    "HostConfig": "HostConfig",
    "NetworkingConfig": "NetworkingConfig",
}


def test_every_field_of_the_v144_body_has_a_row():
    definitions = _definitions()
    for section, schema in SCHEMAS.items():
        in_spec = set(_properties(definitions, schema))
        in_table = {row.name for row in SECTIONS[section]}
        assert in_spec == in_table, (section, in_spec ^ in_table)


def test_the_doc_is_generated_from_the_table():
    with open(os.path.join(ROOT, "docs", "engine-api-fields.md")) as f:
        assert f.read() == create_fields.markdown(), "regenerate: python -m stepbox.core.engine.create_fields"


def test_the_bodies_docker_clis_send_pass():
    """Nearly every field, all empty: nothing to refuse."""
    with open(CLI_BODIES) as f:
        bodies = json.load(f)
    for what, body in bodies.items():
        config, _notes = config_from_body(body)
        assert config.image == "busybox" and config.cmd == ("true",), what


def _example(schema: dict):
    """A value that is not the field's zero value, of the schema's type."""
    kind = schema.get("type")
    if kind == "boolean":
        return True
    if kind == "integer":
        return 7
    if kind == "string":
        return schema.get("enum", ["x"])[-1]
    if kind == "array":
        return [_example(schema.get("items", {"type": "string"})) or "x"]
    if kind == "object":
        props = schema.get("properties")
        if props:
            name, sub = next(iter(props.items()))
            return {name: _example(sub)}
        return {"x": "y"}
    return "x"


def test_each_refused_field_is_refused_by_name_when_set():
    definitions = _definitions()
    for section, schema in SCHEMAS.items():
        props = _properties(definitions, schema)
        for row in SECTIONS[section]:
            if row.status != REFUSED:
                continue
            schema_of = props.get(row.name, {})
            value = _example(schema_of)
            for choice in schema_of.get("enum", []):  # an enum's non-default value
                if not row.is_default(choice):
                    value = choice
            body = {
                "Image": "busybox",
                **({row.name: value} if section == "Config" else {section: {row.name: value}}),
            }
            with pytest.raises(BadParameter) as info:
                check_fields(body)
            assert f"stepbox does not support {section}.{row.name}" in str(info.value)
            if row.owner:
                assert f"tracker issue {row.owner}" in str(info.value)


def test_defaults_that_are_not_zero_pass():
    check_fields(
        {
            "Image": "busybox",
            "HostConfig": {
                "MemorySwappiness": -1,
                "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
                "LogConfig": {"Type": "json-file", "Config": {}},
                "IpcMode": "private",
                "CgroupnsMode": "private",
                "ConsoleSize": [0, 0],
            },
            "NetworkingConfig": {"EndpointsConfig": {"none": {"Aliases": None, "IPAMConfig": None}}},
        }
    )


def test_honoured_fields_are_what_the_body_parser_reads():
    """A row says honoured only if create_body.py (or the engine) uses it."""
    sources = ""
    for name in ("create_body.py", "engine.py", "containers.py"):
        with open(os.path.join(ROOT, "core", "engine", name)) as f:
            sources += f.read()
    # the client's business (docker run -i attaches stdin itself, with the attach call)
    client_side = {"AttachStdin", "AttachStdout", "AttachStderr", "ContainerIDFile"}
    for section, rows in SECTIONS.items():
        for row in rows:
            if row.status == HONOURED and row.name not in client_side:
                assert f'"{row.name}"' in sources, (
                    f"{section}.{row.name} is said to be honoured but never read"
                )


def test_field_names_match_ignoring_case():
    with pytest.raises(BadParameter, match="HostConfig.ReadonlyRootfs"):
        config_from_body({"image": "busybox", "hostconfig": {"readonlyrootfs": True}})
    config, _ = config_from_body({"image": "busybox", "hostconfig": {"capadd": ["NET_ADMIN"]}})
    assert config.security.cap_add == ("NET_ADMIN",)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 40), 1 << 40) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
HOST_NAMES = [row.name for row in SECTIONS["HostConfig"]]
CONFIG_NAMES = [row.name for row in SECTIONS["Config"] if row.name != "Image"]


@settings(max_examples=400)
@given(
    config=st.dictionaries(st.sampled_from(CONFIG_NAMES), json_values, max_size=4),
    host=st.dictionaries(st.sampled_from(HOST_NAMES), json_values, max_size=4),
)
def test_any_values_give_a_config_or_a_400(config, host):
    body = {"Image": "busybox", **config, "HostConfig": host}
    try:
        config_from_body(body)
    except Exception as e:  # noqa: BLE001 - which errors the daemon answers 400 is the question
        # BadParameter, and the network module's errors (BadPortSpec, BadHostEntry) the daemon maps
        assert 400 <= (status_of(e) or 500) < 500, repr(e)
        assert str(e)
