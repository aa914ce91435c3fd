"""A vendor's trimmed OpenAPI 3.0 document (tests/fixtures/vendor-specs), as JSON Schema.

``Spec.check_request`` says why the vendor would refuse a request (its body, required
query parameters and headers); ``Spec.check_response`` why an answer is not one the
vendor documents; ``Spec.example`` builds an answer from the response schema, taking the
spec's own ``example`` values where it gives them (these specs document no whole
responses for the operations used), for a test to adjust and check.

OpenAPI 3.0 is not JSON Schema, so schemas are translated the way OpenAPI tools read them:
- ``nullable: true`` also takes ``null``;
- ``readOnly`` properties are not required in requests, ``writeOnly`` not in responses;
- an object whose ``allOf`` members list properties, with ``additionalProperties: false``
  (ShipEngine's shape everywhere), takes the members' properties as its own (plain JSON
  Schema would refuse every property the members define);
- ``oneOf`` members of such an object add their properties too, and a property the parent
  ``required`` lists but only one member requires is left to the member (ShipEngine's
  rates request says ``shipment_id`` and ``shipment`` are both required, and one of them).
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs

FIXTURES = Path(__file__).parents[2] / "fixtures" / "vendor-specs"

Schema = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    pattern: re.Pattern[str]
    spec: Schema


class Spec:
    relaxed: dict[tuple[str, str, str], dict[tuple[str, ...], set[str]]]
    """(method, path, "request") -> where in the body -> required names the spec should not
    require there (each with its reason where the ``Spec`` is made)."""

    def __init__(
        self,
        relative: str,
        relaxed: dict[tuple[str, str, str], dict[tuple[str, ...], set[str]]] | None = None,
    ) -> None:
        self.relaxed = relaxed or {}
        self.document: Schema = json.loads((FIXTURES / relative).read_text())
        self.operations = [
            Operation(
                method,
                path,
                re.compile("^" + _prefix(operation) + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"),
                operation,
            )
            for path, methods in self.document["paths"].items()
            for method, operation in methods.items()
        ]
        self._validators: dict[tuple[str, str, str], Any] = {}

    def operation(self, method: str, path: str) -> Operation:
        for operation in self.operations:
            if operation.method == method.lower() and operation.pattern.match(path):
                return operation
        raise AssertionError(f"{method} {path} is not an operation of the trimmed spec")

    def check_request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> list[str]:
        operation = self.operation(method, path)
        problems = []
        lowered = {name.lower() for name in headers}
        for parameter in operation.spec.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            missing = (where == "query" and name not in query) or (
                where == "header" and name.lower() not in lowered
            )
            if parameter.get("required") and missing:
                problems.append(f"{where} parameter {name} is required")
        content = operation.spec.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            if headers.get("content-type", "").split(";")[0] != "application/json":
                problems.append("the body must be sent as application/json")
            try:
                decoded = json.loads(body)
            except ValueError:
                return [*problems, "the body is not JSON"]
            problems += self._errors(operation, "request", decoded)
        return problems

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        return self._errors(self.operation(method, path), f"response {status}", body)

    def response_schema(self, operation: Operation, status: int) -> Schema:
        response = operation.spec["responses"][str(status)]
        if "$ref" in response:
            response = self._resolve(response["$ref"])
        found: Schema = response["content"]["application/json"]["schema"]
        return found

    def example(self, method: str, path: str, status: int = 200) -> Any:
        """An answer built from the response schema: every required field, and every
        field the spec gives an ``example`` for, with that example."""
        operation = self.operation(method, path)
        return _example(self.schema_for(operation, f"response {status}"), self.components)

    def example_of(self, component: str) -> Any:
        """A component schema's example (an item of a list the answer holds)."""
        return _example(self.components[component], self.components)

    @property
    def components(self) -> Schema:
        return self._components("response")

    @cache  # noqa: B019 (a spec lives as long as the test session)
    def _components(self, direction: str) -> Schema:
        schemas = deepcopy(self.document.get("components", {}).get("schemas", {}))
        return {name: _translate(schema, schemas, direction) for name, schema in schemas.items()}

    def schema_for(self, operation: Operation, what: str) -> Schema:
        direction = "request" if what == "request" else "response"
        if what == "request":
            raw = operation.spec["requestBody"]["content"]["application/json"]["schema"]
        else:
            raw = self.response_schema(operation, int(what.split()[1]))
        components = self._components(direction)
        translated: Schema = _translate(deepcopy(raw), components, direction)
        for where, names in self.relaxed.get((operation.method, operation.path, what), {}).items():
            translated = _relax(translated, where, names, components)
        return translated

    def _errors(self, operation: Operation, what: str, instance: Any) -> list[str]:
        key = (operation.method, operation.path, what)
        if key not in self._validators:
            direction = "request" if what == "request" else "response"
            schema = {
                "allOf": [self.schema_for(operation, what)],
                "components": {"schemas": self._components(direction)},
            }
            self._validators[key] = jsonschema_rs.Draft4Validator(schema)
        return [
            f"{what} {list(error.instance_path)}: {error.message}"
            for error in self._validators[key].iter_errors(instance)
        ]

    def _resolve(self, ref: str) -> Schema:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        resolved: Schema = node
        return resolved


def _prefix(operation: Schema) -> str:
    """The path of the operation's server (UPS: ``https://wwwcie.ups.com/api``)."""
    servers = operation.get("servers") or [{"url": "/"}]
    return re.escape(urlsplit(str(servers[0]["url"])).path.rstrip("/"))


def _translate(schema: Any, components: Schema, direction: str) -> Any:
    if isinstance(schema, list):
        return [_translate(item, components, direction) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _translate(value, components, direction) for key, value in schema.items()}
    if schema.pop("nullable", False):
        schema = {"anyOf": [schema, {"type": "null"}]}
        return schema
    if schema.get("additionalProperties") is False:
        _merge_members(schema, components, direction)
    hidden = "readOnly" if direction == "request" else "writeOnly"
    properties = schema.get("properties", {})
    if "required" in schema:
        schema["required"] = [
            name for name in schema["required"] if not _flag(properties.get(name), hidden)
        ]
        if not schema["required"]:
            del schema["required"]
    return schema


def _relax(schema: Schema, where: tuple[str, ...], names: set[str], components: Schema) -> Schema:
    """``schema`` with ``names`` no longer required at ``where`` (a copy of what it
    references there, so other operations keep the spec's own rule)."""
    schema = _unwrapped(schema, components)
    node = schema
    for step in where:
        node["properties"][step] = _unwrapped(node["properties"][step], components)
        node = node["properties"][step]
    node["required"] = [name for name in node.get("required", []) if name not in names]
    if not node["required"]:
        del node["required"]
    return schema


def _unwrapped(schema: Schema, components: Schema) -> Schema:
    """A copy of what ``schema`` stands for: through ``$ref`` and one-member ``allOf``."""
    found = deepcopy(_deref(schema, components))
    while len(found.get("allOf", [])) == 1 and "properties" not in found:
        found = deepcopy(_deref(found["allOf"][0], components))
    return found


def _flag(schema: Any, flag: str) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get(flag):
        return True
    return any(_flag(member, flag) for member in schema.get("allOf", []))


def _merge_members(schema: Schema, components: Schema, direction: str) -> None:
    for member in schema.pop("allOf", []):
        found = _translate(deepcopy(_deref(member, components)), components, direction)
        schema["properties"] = {**found.get("properties", {}), **schema.get("properties", {})}
        schema["required"] = sorted({*schema.get("required", []), *found.get("required", [])})
    for keyword in ("oneOf", "anyOf"):
        members = [
            _translate(deepcopy(_deref(member, components)), components, direction)
            for member in schema.get(keyword, [])
        ]
        for found in members:
            schema["properties"] = {**found.get("properties", {}), **schema.get("properties", {})}
        # a member that requires nothing stands for its properties (ShipEngine's rates
        # request: one of ``shipment_id_request`` and ``shipment_request``)
        needs = [found.get("required") or sorted(found.get("properties", {})) for found in members]
        alternatives = {name for names in needs for name in names}
        if members and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in alternatives]
        if members:
            schema[keyword] = [{"required": names} if names else {} for names in needs]


def _deref(schema: Schema, components: Schema) -> Schema:
    if "$ref" in schema:
        found: Schema = components[schema["$ref"].split("/")[-1]]
        return _deref(found, components) if "$ref" in found else found
    return schema


def _example(schema: Any, components: Schema) -> Any:
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components)
    if "example" in schema and _fits(schema["example"], schema):
        return deepcopy(schema["example"])
    if "enum" in schema:
        return schema["enum"][0]
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            return _example(schema[keyword][0], components)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object":
        properties = schema.get("properties", {})
        chosen = [
            name
            for name, prop in properties.items()
            if name in schema.get("required", []) or _has_example(prop)
        ]
        return {name: _example(properties[name], components) for name in chosen}
    if kind == "array":
        return []
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    defaults: dict[str, Any] = {"integer": 1, "number": 1, "boolean": False}
    return defaults.get(str(kind))


def _fits(example: Any, schema: Schema) -> bool:
    """Some examples contradict their own schema (ShipEngine's ``carrier_status_code``
    example is the number 1 where the schema says string): those are not used."""
    kinds: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
    }
    expected = kinds.get(schema.get("type", ""))
    return expected is None or isinstance(example, expected)


def _has_example(schema: Any) -> bool:
    return isinstance(schema, dict) and "example" in schema
