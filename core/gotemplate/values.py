"""JSON values as Go's fmt prints them and text/template judges them.

The docker CLI runs ``--format`` templates on Go values: structs print as
``{v1 v2}`` (fields in declaration order), maps as ``map[k:v ...]`` (keys
sorted), slices as ``[a b]``, nil as ``<nil>``, a missing map entry as
``<no value>``.  stepbox's client has the API's JSON, whose objects keep
Docker's field order: an object is a *struct* unless Docker declares that
field as a map (labels, options, networks, ports ...) -- :data:`MAP_FIELDS`.
"""

from __future__ import annotations

import json
import math


class GoMap(dict):
    """A JSON object that is a Go map in Docker's types."""


class Missing:
    """A map lookup of a key that is not there: prints ``<no value>``."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = Missing()

# Fields whose JSON objects are Go maps in Docker's API types.
MAP_FIELDS = frozenset(
    {
        "Labels",
        "Options",
        "DriverOpts",
        "Networks",
        "Ports",
        "ExposedPorts",
        "Volumes",
        "Annotations",
        "Sysctls",
        "StorageOpt",
        "Tmpfs",
        "Data",
        "Config",  # IPAM.Config is a list; LogConfig.Config is a map (handled by the parent)
        "Attributes",
        "Plugins",
        "IndexConfigs",
        "Runtimes",
    }
)
_STRUCT_CONFIG_PARENTS = frozenset({"", "ContainerConfig"})  # .Config of a container/image: a struct


def typed(value, name: str = "", parent: str = ""):
    """Mark the JSON objects that are Go maps (recursively)."""
    if isinstance(value, dict):
        is_map = isinstance(value, GoMap) or (
            name in MAP_FIELDS and not (name == "Config" and parent in _STRUCT_CONFIG_PARENTS)
        )
        cls = GoMap if is_map else dict
        return cls((k, typed(v, k if not is_map else "", name)) for k, v in value.items())
    if isinstance(value, list):
        return [typed(v, "", name) for v in value]
    return value


def truth(value) -> bool:
    """Go's template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, list, GoMap)):
        return len(value) > 0
    return True  # a struct


def go_type(value) -> str:
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, GoMap):
        return "map[string]interface {}"
    return "struct"


def go_float(f: float) -> str:
    """%v of a float64: the shortest repr, in %e form when the exponent is
    below -4 or at least 21 (strconv's 'g' with fmt's %v threshold)."""
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    if f == 0:
        return "0"
    text = repr(f)
    mantissa, _, exp_text = text.partition("e")
    digits = mantissa.replace("-", "").replace(".", "").lstrip("0").rstrip("0") or "0"
    exponent = (
        int(exp_text) if exp_text else len(mantissa.replace("-", "").split(".")[0].lstrip("0") or "") - 1
    )
    if not exp_text and abs(f) < 1:
        exponent = -len(mantissa.split(".")[1]) + len(mantissa.split(".")[1].lstrip("0")) - 1
    if exponent < -4 or exponent >= 21:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        sign = "-" if f < 0 else ""
        return f"{sign}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if f.is_integer():
        return str(int(f))
    return text


def go_str(value) -> str:
    """fmt's %v."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, GoMap):
        return "map[" + " ".join(f"{k}:{go_str(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, dict):
        return "{" + " ".join(go_str(v) for v in value.values()) + "}"
    return str(value)


def go_json(value) -> str:
    """Docker's ``json`` function: encoding/json without HTML escaping."""
    if value is MISSING:
        value = None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def go_quote(text: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch in "\a\b\f\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
