"""Stripe's OpenAPI spec (tests/fixtures/vendor-specs/stripe), to check what the adapter sends.

``check(sent)`` finds the operation of a recorded request, decodes its form-encoded body
(or query) into nested values, typed as the operation's schema says (``amount=5000`` is an
integer, ``confirm=true`` a boolean, ``expand[0]=...`` a list), and validates it with
``jsonschema_rs``; it returns the errors (none: Stripe takes the request).

Two adjustments to the spec, both in ``load``:

- **Parameters newer than the spec** (``NEWER_PARAMETERS``): the spec is API 2023-08-16;
  multicapture's ``final_capture`` and ``payment_method_options[card][request_multicapture]``
  came later. They are added as the stripe-python SDK declares them (a test checks that it
  still does).
- **Unknown nested parameters are refused**, as Stripe refuses them; the spec says so only
  at the top level, so every object schema that lists its properties is closed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from tests.integration.stripe.recording import Sent

SPEC_FILE = (
    Path(__file__).parents[2]
    / "fixtures"
    / "vendor-specs"
    / "stripe"
    / "spec3-gateway-requests.json"
)
FORM = "application/x-www-form-urlencoded"

Schema = dict[str, Any]

NEWER_PARAMETERS: dict[tuple[str, str], dict[tuple[str, ...], Schema]] = {
    ("post", "/v1/payment_intents/{intent}/capture"): {
        ("final_capture",): {"type": "boolean"},
    },
    ("post", "/v1/payment_intents"): {
        ("payment_method_options", "card", "request_multicapture"): {
            "enum": ["if_available", "never"],
            "type": "string",
        },
    },
}
"""Parameters the spec predates: (method, path) -> where in the body -> their schema."""


class Operation:
    def __init__(self, method: str, path: str, spec: Schema) -> None:
        self.method = method
        self.path = path
        self.pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        body = spec.get("requestBody", {}).get("content", {}).get(FORM, {}).get("schema")
        if method == "get":  # its query parameters as one object (its body schema is empty)
            query = [p for p in spec.get("parameters", []) if p["in"] == "query"]
            body = {
                "type": "object",
                "properties": {p["name"]: p["schema"] for p in query},
                "additionalProperties": False,
            }
        self.schema: Schema = body


@cache
def load() -> tuple[Operation, ...]:
    spec = json.loads(SPEC_FILE.read_text())
    operations = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            found = Operation(method, path, operation)
            for where, schema in NEWER_PARAMETERS.get((method, path), {}).items():
                _add(found.schema, where, schema)
            _close(found.schema)
            operations.append(found)
    return tuple(operations)


def operation_of(sent: Sent) -> Operation:
    for operation in load():
        if operation.method == sent.method.lower() and operation.pattern.match(sent.path):
            return operation
    raise AssertionError(f"{sent.method} {sent.path} is not in the trimmed spec")


def check(sent: Sent) -> list[str]:
    """Why Stripe's spec refuses the request (empty: it takes it)."""
    operation = operation_of(sent)
    body = typed(nested(sent.form.items()), operation.schema)
    validator = jsonschema_rs.Draft4Validator(operation.schema)
    return [
        f"{list(error.instance_path)}: {error.message}" for error in validator.iter_errors(body)
    ]


def nested(fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0]=x`` as ``{"a": {"b": ["x"]}}`` (Stripe's form encoding)."""
    root: dict[str, Any] = {}
    for name, value in fields:
        keys = re.findall(r"[^\[\]]+", name)
        node = root
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    decoded: dict[str, Any] = _lists(root)
    return decoded


def _lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _lists(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def typed(value: Any, schema: Schema) -> Any:
    """Form values are strings: each becomes what its schema expects."""
    choices = schema.get("anyOf", [schema])
    if isinstance(value, dict):
        objects = [c for c in choices if c.get("type") == "object" or "properties" in c]
        chosen = objects[0] if objects else {}
        properties = chosen.get("properties", {})
        others = chosen.get("additionalProperties")
        return {
            key: typed(item, properties.get(key, others if isinstance(others, dict) else {}))
            for key, item in value.items()
        }
    if isinstance(value, list):
        arrays = [c for c in choices if c.get("type") == "array"]
        items = arrays[0].get("items", {}) if arrays else {}
        return [typed(item, items) for item in value]
    types = {c.get("type") for c in choices}
    if "integer" in types and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    return value


def _add(schema: Schema, where: tuple[str, ...], definition: Schema) -> None:
    node = schema
    for key in where[:-1]:
        node = _object(node["properties"][key])
    node["properties"][where[-1]] = definition


def _object(schema: Schema) -> Schema:
    """The object alternative of a schema (Stripe's are often ``anyOf`` object or "")."""
    for choice in schema.get("anyOf", [schema]):
        if "properties" in choice:
            found: Schema = choice  # the same object: additions land in the spec
            return found
    raise AssertionError(f"no object in {schema}")


def _close(schema: Any) -> None:
    if isinstance(schema, list):
        for item in schema:
            _close(item)
    elif isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for item in schema.values():
            _close(item)
