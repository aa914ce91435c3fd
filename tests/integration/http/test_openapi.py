"""The OpenAPI document and docs UI: the whole API.md contract, problems, keys, examples."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from commerce_core.ordering.services import PlaceOrder
from entrypoints.http.api.catalog import ProductIn, ReceiptIn
from entrypoints.http.api.orders import RefundIn
from entrypoints.http.api.payments import PaymentIn
from entrypoints.http.app import create_app
from entrypoints.http.auth import needs_auth
from entrypoints.settings import Settings
from tests.integration.http.api_contract import CONTRACT, documented_operations

PROBLEM_JSON = "application/problem+json"
CHANGING = frozenset({"post", "put", "patch", "delete"})

# The main commands, the request type each example must decode to.
EXAMPLES = {
    ("put", "/api/v1/products/{sku}"): ProductIn,
    ("post", "/api/v1/inventory/{sku}/receipts"): ReceiptIn,
    ("post", "/api/v1/orders"): PlaceOrder,
    ("post", "/api/v1/payments/authorize"): PaymentIn,
    ("post", "/api/v1/payments/charge"): PaymentIn,
    ("post", "/api/v1/orders/{order_id}/refund"): RefundIn,
}


@pytest.fixture(scope="module")
def app() -> Litestar:
    # the documents and pages here need no database: no lifespan is run
    return create_app(dataclasses.replace(Settings.from_env(), event_store="memory"))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    asgi_app: Any = app
    transport = httpx.ASGITransport(app=asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/schema/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    result: dict[str, Any] = answer.json()
    return result


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def _api_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Operations that take an API key: all of /api/v1 but the gateways' signed webhooks."""
    return [op for op in _operations(document) if needs_auth(op[1])]


@pytest.mark.parametrize("operation", CONTRACT, ids=" ".join)
async def test_every_operation_of_the_contract_is_documented(
    document: dict[str, Any], operation: tuple[str, str]
) -> None:
    assert operation in documented_operations(document)


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_the_docs_ui_is_served(client: httpx.AsyncClient, page: str) -> None:
    answer = await client.get(page)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "commerce-core" in answer.text
    assert "SwaggerUIBundle" in answer.text


# what a page loads: <script src>, <link href>, <img src> and CSS url(...)
LOADED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_the_docs_ui_loads_nothing_from_outside_and_its_files_load(
    client: httpx.AsyncClient, page: str
) -> None:
    html = (await client.get(page)).text
    loaded = [a or b for a, b in LOADED.findall(html)]

    assert loaded, "the page loads its script and styles"
    # data: URIs are part of the page; anything else must come from this server
    assert [url for url in loaded if not url.startswith(("/", "data:"))] == []
    for url in (url for url in loaded if url.startswith("/")):
        answer = await client.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url
    css = (await client.get("/schema/static/swagger-ui.css")).text
    from_css = [a or b for a, b in LOADED.findall(css)]
    assert [url for url in from_css if not url.startswith(("/", "data:", "#"))] == []


async def test_the_docs_ui_files_carry_their_licence(client: httpx.AsyncClient) -> None:
    licence = await client.get("/schema/static/LICENSE")

    assert licence.status_code == 200
    assert "Apache License" in licence.text


async def test_a_file_outside_the_docs_ui_files_is_not_served(client: httpx.AsyncClient) -> None:
    for path in ("/schema/static/../openapi.py", "/schema/static/%2e%2e/openapi.py"):
        answer = await client.get(path)
        assert answer.status_code == 404, path


async def test_every_error_answer_is_documented_as_a_problem(document: dict[str, Any]) -> None:
    not_problems = [
        (method, path, status, sorted(response.get("content", {})))
        for method, path, operation in _operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400 and set(response.get("content", {})) != {PROBLEM_JSON}
    ]

    assert not_problems == []
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


async def test_every_api_operation_documents_a_bad_key_and_an_invalid_request(
    document: dict[str, Any],
) -> None:
    missing = [
        (method, path)
        for method, path, operation in _api_operations(document)
        if not {"401", "422"} <= set(operation["responses"])
    ]

    assert missing == []


async def test_problem_responses_name_their_slugs_with_an_example_each(
    document: dict[str, Any],
) -> None:
    conflict = document["paths"]["/api/v1/orders"]["post"]["responses"]["409"]
    examples = conflict["content"][PROBLEM_JSON]["examples"]

    assert "`insufficient-stock`" in conflict["description"]
    assert examples["insufficient-stock"]["value"]["type"] == (
        "https://commerce-core.dev/problems/insufficient-stock"
    )
    assert examples["insufficient-stock"]["value"]["status"] == 409


async def test_changes_and_only_changes_document_the_idempotency_key(
    document: dict[str, Any],
) -> None:
    def takes_key(operation: dict[str, Any]) -> bool:
        return any(
            p["in"] == "header" and p["name"] == "Idempotency-Key"
            for p in operation.get("parameters", [])
        )

    wrong = [
        (method, path)
        for method, path, operation in _api_operations(document)
        if takes_key(operation) != (method in CHANGING)
    ]

    assert wrong == []


async def test_every_api_operation_requires_an_api_key(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    open_operations = [
        (method, path)
        for method, path, operation in _api_operations(document)
        if operation.get("security") != [{"ApiKey": []}]
    ]

    assert open_operations == []


@pytest.mark.parametrize(("method", "path"), list(EXAMPLES))
async def test_the_main_requests_have_examples_that_are_valid_requests(
    document: dict[str, Any], method: str, path: str
) -> None:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    examples = body["schema"]["examples"]

    assert examples
    for example in examples:
        msgspec.convert(example, EXAMPLES[(method, path)])  # raises if the example is invalid
