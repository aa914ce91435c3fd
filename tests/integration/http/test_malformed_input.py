"""No input gets a 5xx: malformed bodies on every JSON route the app has, strict bodies.

The routes are enumerated from the app (``input_fuzz.json_routes``), not listed here.
Each gets deep nesting, bytes that are not UTF-8, NUL characters, huge numbers, wrong
content types; and a plausible body of its own type spoiled one way at a time (a string
for a number, a float for an int, an unknown field at some depth), which must be refused
with 422 naming exactly the spoiled field: proof that the strict check ran, and ran first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import msgspec
import pytest
from litestar.exceptions import ValidationException

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.json_body import MAX_DEPTH, _BodyType
from entrypoints.http.roles import rule_of
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.input_fuzz import (
    HOSTILE_QUERY_VALUES,
    MALFORMED,
    WRONG_CONTENT_TYPES,
    JsonRoute,
    json_routes,
    query_routes,
    sample_body,
    spoiled_bodies,
    write_routes,
)
from tests.integration.http.test_problems import PROBLEMS

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    """The app with rate limits far above what the fuzzing sends: its answers must be
    about the input, never 429."""
    return await make_api(rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000)


def assert_problem(response: httpx.Response, what: str) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/problem+json", what
    body: dict[str, Any] = response.json()
    assert body["type"].startswith(PROBLEMS), what
    assert body["status"] == response.status_code, what
    return body


async def _send(
    api: Api, route: JsonRoute, key: str, content: bytes, headers: dict[str, str]
) -> httpx.Response:
    rule = rule_of(route.method, route.template)
    if rule is not None and Role.ADMIN not in rule.roles:  # a platform route
        key = await api.operator_key()
    return await api.client.request(
        route.method, route.path, content=content, headers={**bearer(key), **headers}
    )


async def test_the_fuzzed_routes_are_every_json_route_of_the_app(api: Api) -> None:
    routes = {str(r).split(" ")[0] + " " + r.path.split("/")[3] for r in json_routes(api.app)}

    # a few known ones, to show the enumeration finds them; new routes join by themselves
    for expected in ("PUT products", "POST orders", "PATCH customers", "POST payments"):
        assert expected in routes, routes
    assert len(json_routes(api.app)) >= 20


async def test_malformed_bodies_on_every_changing_route_get_4xx_problems(
    api: Api,
) -> None:
    _, admin = await api.tenant("acme")
    routes = write_routes(api.app)
    assert {r.path.split("/")[3] for r in routes} >= {"webhooks", "orders", "products"}
    for route in routes:
        for what, content in MALFORMED.items():
            response = await _send(api, route, admin, content, JSON)
            if route.body_type is None and response.status_code < 300:
                continue  # a route that takes no body may ignore it
            assert_problem(response, f"{route}, {what}")


async def test_every_json_route_refuses_other_content_types_with_415(api: Api) -> None:
    _, admin = await api.tenant("acme")
    for route in json_routes(api.app):
        content = msgspec.json.encode(sample_body(route))
        for content_type in WRONG_CONTENT_TYPES:
            response = await _send(api, route, admin, content, {"Content-Type": content_type})
            body = assert_problem(response, f"{route}, {content_type}")
            assert body["type"] == PROBLEMS + "unsupported-media-type", (route, content_type)
        missing = await _send(api, route, admin, content, {})
        assert assert_problem(missing, f"{route}, no type")["status"] == 415


async def test_every_json_route_refuses_spoiled_bodies_naming_the_field(api: Api) -> None:
    _, admin = await api.tenant("acme")
    named = 0
    for route in json_routes(api.app):
        sample = sample_body(route)
        # a sample the type refuses on its own (a rule the builder cannot guess) still
        # shows the refusals, but not which field they name
        plausible = _passes_the_check(route, sample)
        for spoiled in spoiled_bodies(sample):
            content = msgspec.json.encode(spoiled.body)
            response = await _send(api, route, admin, content, JSON)
            what = f"{route}, {spoiled.what}"
            body = assert_problem(response, what)
            assert response.status_code == 422, what
            if plausible:
                assert [e["key"] for e in body["errors"]] == [spoiled.key], f"{what}: {body}"
                named += 1
    assert named > 50


def _passes_the_check(route: JsonRoute, sample: Any) -> bool:
    try:
        _BodyType(route.body_type).check(msgspec.json.encode(sample))
    except ValidationException:
        return False
    return True


async def test_json_media_types_with_a_suffix_or_utf8_charset_are_accepted(api: Api) -> None:
    _, admin = await api.tenant("acme")
    product = b'{"name": "Mug", "price": {"amount": 1200, "currency": "USD"}}'

    for content_type in (
        "application/json",
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "Application/JSON;charset=UTF-8",
    ):
        response = await api.client.put(
            "/api/v1/products/MUG-1",
            content=product,
            headers={**bearer(admin), "Content-Type": content_type},
        )
        assert response.status_code == 200, (content_type, response.text)


async def test_nesting_up_to_the_documented_depth_is_read_and_deeper_is_refused(
    api: Api,
) -> None:
    _, admin = await api.tenant("acme")
    # metadata is a map of strings: nesting there is a type error, not a depth error
    at_limit = b'{"x": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    too_deep = b'{"x": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}"
    headers = {**bearer(admin), **JSON}

    read = await api.client.post("/api/v1/customers", content=at_limit, headers=headers)
    refused = await api.client.post("/api/v1/customers", content=too_deep, headers=headers)

    assert_problem(read, "at the limit")
    assert "deeper" not in read.json()["detail"]
    assert_problem(refused, "too deep")
    assert refused.status_code == 422
    assert f"deeper than {MAX_DEPTH}" in refused.json()["detail"]


@pytest.mark.parametrize("cursor", [str(2**70), str(2**63), "-1", "1e9", "٣"])
async def test_an_overflowing_webhook_cursor_is_a_validation_error(api: Api, cursor: str) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.get(
        "/api/v1/admin/webhooks", params={"cursor": cursor}, headers=bearer(admin)
    )

    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROBLEMS + "validation-error"


async def test_the_largest_webhook_cursor_is_read(api: Api) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.get(
        "/api/v1/admin/webhooks", params={"cursor": str(2**63 - 1)}, headers=bearer(admin)
    )

    assert response.status_code == 200, response.text


async def test_hostile_query_values_on_every_query_parameter_get_no_5xx(api: Api) -> None:
    _, admin = await api.tenant("acme")
    routes = query_routes(api.app)
    assert {q for r in routes for q in r.query} >= {"cursor", "limit", "status"}
    for route in routes:
        for name in route.query:
            for value in HOSTILE_QUERY_VALUES:
                raw = value if value.startswith("%") else quote(value, safe="")
                response = await api.client.request(
                    route.method, f"{route.path}?{name}={raw}", headers=bearer(admin)
                )
                what = f"{route} ?{name}={value[:40]!r}"
                if response.status_code >= 400:
                    assert_problem(response, what)
                else:
                    assert response.status_code == 200, what


@pytest.mark.parametrize("request_id", [b"a\x00b", b"tab\there", b"caf\xe9"])
async def test_a_request_id_with_control_or_non_ascii_characters_is_replaced(
    api: Api, request_id: bytes
) -> None:
    _, admin = await api.tenant("acme")
    product = {"name": "Mug", "price": {"amount": 100, "currency": "USD"}}

    response = await api.client.put(
        "/api/v1/products/MUG-1",
        json=product,
        headers=[
            (b"authorization", bearer(admin)["Authorization"].encode()),
            (b"x-request-id", request_id),
        ],
    )

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] != request_id.decode("latin-1")
    assert response.headers["X-Request-ID"].isalnum()


async def test_the_document_lists_415_for_bodies_and_503_for_every_api_operation(
    api: Api,
) -> None:
    document = api.app.openapi_schema.to_schema()
    checked = 0
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1") or "/_test" in path:
            continue
        for method, operation in item.items():
            responses = operation["responses"]
            if "requestBody" in operation and "webhooks/" not in path:
                assert "415" in responses, (method, path)
            assert "503" in responses, (method, path)
            checked += 1
    assert checked > 30
