"""Validating responses against the official Engine API definition (v1.44).

The file is Swagger 2.0; its schemas are JSON Schema with one extension that
matters: ``x-nullable: true`` means "may also be null", which plain
jsonschema ignores -- so those schemas are rewritten to allow null.
"""

from __future__ import annotations

import functools
import os

import jsonschema
import yaml

# Docker's published Engine API spec (Apache-2.0), kept in the repo so a
# fresh checkout checks against it -- no skip because a file is elsewhere.
SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "docker-engine-api-v1.44.yaml")


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    with open(SPEC_PATH) as f:
        return _nullable(yaml.safe_load(f))


def _nullable(node):
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.get("x-nullable"):
            node = {"anyOf": [{k: v for k, v in node.items() if k != "x-nullable"}, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def response_schema(path: str, method: str, status: int) -> dict:
    responses = spec()["paths"][path][method.lower()]["responses"]
    schema = responses[status]["schema"]
    return {**schema, "definitions": spec()["definitions"]}


def validate(document, path: str, method: str = "get", status: int = 200) -> None:
    """Raise jsonschema.ValidationError if ``document`` does not fit."""
    jsonschema.validate(document, response_schema(path, method, status))
