"""Properties every operation of the OpenAPI document must have, so that a client can be
generated from it and a person can use it: a description that names the roles (as the
role matrix has them), a summary and operationId of its own, examples of its request
body and success answers that are valid against their schemas, problem responses, and
enums for status-like fields. Each test lists every operation that breaks its rule."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from entrypoints.http.app import create_app
from entrypoints.http.auth import needs_auth
from entrypoints.http.operation_docs import WHO, who_may_call
from entrypoints.http.roles import rule_of
from entrypoints.settings import Settings

PROBLEM_JSON = "application/problem+json"
# fields that name a state or a choice among a fixed few: their values must be listed
STATUS_LIKE = frozenset({"status", "method", "payment_method", "channel", "kind"})
# ...except where the name means something else
NOT_STATUS_LIKE = {
    ("Problem", "status"),  # the HTTP status code, an integer (RFC 9457)
    ("QuoteOut", "method"),  # the code of a tenant's own shipping method (ADR 0029)
}

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = dataclasses.replace(Settings.from_env(), event_store="memory")
    result: dict[str, Any] = create_app(settings).openapi_schema.to_schema()
    return result


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def examples_of(media: dict[str, Any]) -> list[Any]:
    """The example values of a media type: its own and its schema's."""
    found = [e["value"] for e in media.get("examples", {}).values() if "value" in e]
    if "example" in media:
        found.append(media["example"])
    return found + list(media.get("schema", {}).get("examples", []))


def invalid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` does not match ``schema`` (references resolved in the document)."""
    root = {**schema, "components": document["components"]}
    validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)
    ]


def test_every_operation_says_what_it_does_and_who_may_call_it(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in operations(document):
        description = operation.get("description", "")
        what = description.split(WHO)[0].strip()
        who = who_may_call(method, path, rule_of(method, path))
        if not what or not description.endswith(who):
            wrong.append((method, path))

    assert wrong == []


def test_the_roles_named_are_those_of_the_role_matrix(document: dict[str, Any]) -> None:
    charge = document["paths"]["/api/v1/payments/charge"]["post"]["description"]
    approve = document["paths"]["/api/v1/refunds/{refund_id}/approve"]["post"]["description"]
    webhook = document["paths"]["/api/v1/webhooks/{gateway}"]["post"]["description"]
    health = document["paths"]["/api/v1/webhooks/health"]["get"]["description"]

    assert "`admin`, `service` or `staff`" in charge
    assert "role `admin` (" in approve
    assert "the payment gateway; no API key" in webhook
    assert "anyone; no API key" in health


def test_summaries_and_operation_ids_are_there_and_distinct(document: dict[str, Any]) -> None:
    found = operations(document)
    summaries = Counter(op.get("summary") for _, _, op in found)
    ids = Counter(op.get("operationId") for _, _, op in found)

    assert {s: n for s, n in summaries.items() if n > 1 or not s} == {}
    assert {i: n for i, n in ids.items() if n > 1 or not i} == {}


def test_every_request_body_has_examples_valid_against_its_schema(
    document: dict[str, Any],
) -> None:
    missing, wrong = [], []
    for method, path, operation in operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            values = examples_of(media)
            if not values:
                missing.append((method, path, media_type))
            wrong += [
                (method, path, problem)
                for value in values
                for problem in invalid(document, media["schema"], value)
            ]

    assert missing == []
    assert wrong == []


def test_every_example_of_a_component_schema_is_valid_against_it(
    document: dict[str, Any],
) -> None:
    wrong = [
        (name, problem)
        for name, schema in document["components"]["schemas"].items()
        for value in schema.get("examples", [])
        for problem in invalid(document, schema, value)
    ]

    assert wrong == []


def _success_media(document: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for media_type, media in response.get("content", {}).items():
                    if media_type.endswith("json"):  # documents (PDF, labels) show no example
                        yield method, path, status, media


def test_every_success_answer_has_an_example_valid_against_its_schema(
    document: dict[str, Any],
) -> None:
    missing, wrong = [], []
    for method, path, status, media in _success_media(document):
        values = examples_of(media)
        if not values:
            missing.append((method, path, status))
        wrong += [
            (method, path, status, problem)
            for value in values
            for problem in invalid(document, media["schema"], value)
        ]

    assert missing == []
    assert wrong == []


def test_every_operation_of_the_api_lists_its_problems_with_valid_examples(
    document: dict[str, Any],
) -> None:
    without, wrong = [], []
    for method, path, operation in operations(document):
        problems = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        if needs_auth(path) and not problems:
            without.append((method, path))
        for status, response in problems.items():
            media = response["content"][PROBLEM_JSON]
            for value in examples_of(media):
                wrong += [
                    (method, path, status, p) for p in invalid(document, media["schema"], value)
                ]
                if value["status"] != int(status):
                    wrong.append((method, path, status, value["type"]))

    assert without == []
    assert wrong == []


def _properties(schema: dict[str, Any], where: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield where, name, prop
        yield from _properties(prop, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _properties(schema[key], where)
    for key in ("oneOf", "anyOf", "allOf"):
        for part in schema.get(key, []):
            yield from _properties(part, where)


def _plain_string(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether the schema lets any string by (an enum, a const or an object does not)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _plain_string(document, document["components"]["schemas"][name])
    if "enum" in schema or "const" in schema:
        return False
    if any(_plain_string(document, p) for p in schema.get("oneOf", []) + schema.get("anyOf", [])):
        return True
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def test_status_and_method_fields_list_their_values(document: dict[str, Any]) -> None:
    plain = sorted(
        (where, name)
        for where, name, prop in _all_properties(document)
        if name in STATUS_LIKE
        and (where.split(".")[0], name) not in NOT_STATUS_LIKE
        and _plain_string(document, prop)
    )

    assert plain == []


def _all_properties(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, schema in document["components"]["schemas"].items():
        yield from _properties(schema, name)
    for method, path, operation in operations(document):
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                yield from _properties(media.get("schema", {}), f"{method} {path}")


def test_the_document_is_plain_json(document: dict[str, Any]) -> None:
    # a struct default (e.g. a body field defaulting to a value object) would reach the
    # document as a Python object: clients and schemathesis cannot read it
    assert json.loads(json.dumps(document)) == document


def test_every_schema_has_a_name_of_its_own(document: dict[str, Any]) -> None:
    # two structs of one name get module-prefixed names (``catalog_LocationOut``), which
    # client generators cannot resolve: each type the document shows needs its own name
    prefixed = [name for name in document["components"]["schemas"] if "_" in name]

    assert prefixed == []
