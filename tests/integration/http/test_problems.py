"""Every error is application/problem+json with a slug from the API contract."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import structlog

from tests.integration.http.conftest import Api, MakeApi, bearer

PROBLEMS = "https://commerce-core.dev/problems/"


def problem_of(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + slug
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    # every problem, wherever it is raised, carries the id the response is logged under
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_malformed_json_is_a_validation_error(api: Api) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.post(
        "/api/v1/_test/items",
        content=b'{"name": "mug", ',
        headers={**bearer(admin), "Content-Type": "application/json"},
    )

    problem_of(response, 422, "validation-error")


async def test_the_nul_character_is_refused_before_it_reaches_the_database(api: Api) -> None:
    _, admin = await api.tenant("acme")
    auth = bearer(admin)
    product = {"price": {"amount": 100, "currency": "USD"}, "tax_rate_bps": 0}

    refused = [
        await api.client.put(
            "/api/v1/products/mug", json={**product, "name": "Mug\x00"}, headers=auth
        ),
        await api.client.get("/api/v1/orders", params={"number": "A\x00"}, headers=auth),
        await api.client.get(
            "/api/v1/analytics/orders/dashboard", params={"currency": "US\x00"}, headers=auth
        ),
    ]
    # a backslash followed by the text u0000 is not a NUL
    literal = await api.client.put(
        "/api/v1/products/mug", json={**product, "name": "Mug \\u0000"}, headers=auth
    )

    for response in refused:
        problem_of(response, 422, "validation-error")
    assert literal.status_code == 200, literal.text
    assert literal.json()["name"] == "Mug \\u0000"
    assert (await api.client.get("/api/v1/products/mug", headers=auth)).status_code == 200


async def test_fields_of_the_wrong_type_are_listed(api: Api) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.post(
        "/api/v1/_test/items", json={"name": "mug", "quantity": "two"}, headers=bearer(admin)
    )

    body = problem_of(response, 422, "validation-error")
    assert body["errors"] == [
        {"message": "Expected `int`, got `str`", "key": "quantity", "source": "body"}
    ]


async def test_a_missing_field_is_a_validation_error(api: Api) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.post(
        "/api/v1/_test/items", json={"name": "mug"}, headers=bearer(admin)
    )

    body = problem_of(response, 422, "validation-error")
    assert "quantity" in body["errors"][0]["message"]


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
async def test_a_body_over_the_limit_is_refused(
    make_api: MakeApi, idempotency_key: str | None
) -> None:
    api = await make_api(request_max_body_size=1024)
    _, admin = await api.tenant("acme")
    headers = bearer(admin) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})

    response = await api.client.post(
        "/api/v1/_test/counter", json={"blob": "x" * 2000}, headers=headers
    )

    problem_of(response, 413, "payload-too-large")
    assert api.probe.calls == 0


async def test_an_unknown_route_is_not_found(api: Api) -> None:
    response = await api.client.get("/api/v1/nothing-here")

    problem_of(response, 404, "not-found")


async def test_a_wrong_method_is_not_allowed(api: Api) -> None:
    response = await api.client.delete("/health")

    problem_of(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_an_unexpected_error_is_a_500_that_leaks_nothing_and_is_logged(api: Api) -> None:
    _, admin = await api.tenant("acme")

    with structlog.testing.capture_logs() as logs:
        response = await api.client.get("/api/v1/_test/boom", headers=bearer(admin))

    body = problem_of(response, 500, "internal-error")
    assert body["request_id"] == response.headers["x-request-id"]
    for secret in ("hunter2", "postgres://", "RuntimeError", "Traceback", "conftest"):
        assert secret not in response.text
    (entry,) = [e for e in logs if e["event"] == "unhandled exception"]
    assert entry["log_level"] == "error"
    assert isinstance(entry["exc_info"], RuntimeError)
    assert entry["path"] == "/api/v1/_test/boom"


@pytest.mark.parametrize(
    ("kind", "status", "slug"),
    [
        ("transition", 409, "invalid-transition"),
        ("value", 422, "validation-error"),
        ("concurrency", 409, "concurrency-conflict"),
        ("missing", 404, "not-found"),
    ],
)
async def test_domain_errors_map_to_their_problems(
    api: Api, kind: str, status: int, slug: str
) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.post(f"/api/v1/_test/domain/{kind}", headers=bearer(admin))

    problem_of(response, status, slug)


async def test_an_invalid_transition_names_both_states(api: Api) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.post("/api/v1/_test/domain/transition", headers=bearer(admin))

    body = problem_of(response, 409, "invalid-transition")
    assert (body["current"], body["target"]) == ("paid", "pending_payment")
    assert body["detail"].startswith(
        "the order is already paid, so it cannot move to pending_payment"
    )
    assert "from here it can move to: cancelled" in body["detail"]
