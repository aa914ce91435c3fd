"""schemathesis against the real server: every documented operation, valid and invalid input.

``commerce serve`` (granian) runs on a free port against a private, migrated schema;
a tenant's admin key authenticates every request, and the tenant sells ``MUG-1``
(the SKU of the documented request examples) with plenty of stock, so that the
examples place real orders.

1. Fuzzing: each operation gets its documented examples, the boundary cases of its
   schema (coverage phase) and ``MAX_EXAMPLES`` generated requests, valid and
   invalid. Generated ids name nothing, so these mostly reach 404 and 422.
2. A journey with real ids (order, payments, shipment, refunds, customer, admin) that
   reaches the success answers and the business problems fuzzing cannot reach.

A response fails either test when it is a 5xx, or its status, content type or body
is not what the document says. Every operation of the document is tested; none is
excluded.

The operations come from the app's OpenAPI document, built in-process at import so
that pytest lists one test per operation; the ``served`` fixture checks that the
running server serves exactly this document. (``schemathesis.pytest.from_fixture``,
which would load it from the server, breaks on pytest 9: it sets ``Function._nodeid``.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from commerce_core.tenancy.ports.tenants import ADMIN_FIELDS, Role
from entrypoints.http.app import create_app
from entrypoints.http.roles import rule_of
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.carriers.vendor_server import serve as serve_vendor
from tests.integration.http.api_contract import CONTRACT, documented_operations, shape
from tests.integration.pos.clover_world import CloverWorld
from tests.integration.pos.square_world import SquareWorld

COMMERCE = str(Path(sys.executable).with_name("commerce"))
MAX_EXAMPLES = 25
STARTUP_TIMEOUT = 60.0
SKU = "MUG-1"
# Operations of the contract the journey does not call (the fuzzing above still does).
NOT_IN_JOURNEY = {
    ("GET", "/health"),
    ("GET", "/ready"),
    # answers only requests signed with the gateway's secret: test_webhooks_api.py
    ("POST", "/api/v1/webhooks/{}"),
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class LiveServer:
    url: str
    api_key: str
    log: Path
    operator_key: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def auth_for(self, method: str, path: str) -> dict[str, str]:
        """The tenant's admin key, or an operator's for the routes only operators may call."""
        group = rule_of(method.upper(), path)
        if group is not None and Role.ADMIN not in group.roles and Role.OPERATOR in group.roles:
            return {"Authorization": f"Bearer {self.operator_key}"}
        return self.auth

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a process we do not control
    raise AssertionError(f"no answer from /health within {STARTUP_TIMEOUT} s")


def _stock_the_shop(server: LiveServer) -> None:
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=server.auth, timeout=10) as c:
        product = {"name": "Mug", "price": {"amount": 1200, "currency": "USD"}}
        assert c.put(f"/products/{SKU}", json=product).status_code == 200
        receipt = c.post(f"/inventory/{SKU}/receipts", json={"quantity": 500_000})
        assert receipt.status_code == 201, receipt.text


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``commerce serve`` on a private schema, with a tenant that sells MUG-1; Square and
    Clover stand-ins answer the POS calls a fuzzed connection makes (a wrong token or
    merchant: refused)."""
    with serve_vendor(SquareWorld()) as square, serve_vendor(CloverWorld()) as clover:  # type: ignore[arg-type]
        yield from _live_server(tmp_path_factory, (square.url, clover.url))


def _live_server(
    tmp_path_factory: pytest.TempPathFactory, pos_urls: tuple[str, str]
) -> Iterator[LiveServer]:
    schema = asyncio.run(PgSchema.create())
    data_dir = tmp_path_factory.mktemp("schemathesis")
    log = data_dir / "server.log"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL,
        "DATABASE_SCHEMA": schema.name,
        "EVENT_STORE": "postgres",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "DATA_DIR": str(data_dir),
        "PII_MASTER_KEY": os.urandom(32).hex(),
        "PAYMENT_GATEWAY": "fake",
        "LOG_LEVEL": "warning",
        "SQUARE_API_BASE": pos_urls[0],
        "CLOVER_API_BASE": pos_urls[1],
    }
    created = subprocess.run(
        [COMMERCE, "tenant", "create", "schemathesis"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    api_key = json.loads(created.stdout)["api_key"]
    operator = subprocess.run(
        [COMMERCE, "key", "create", "--role", "operator"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    operator_key = json.loads(operator.stdout)["api_key"]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen([COMMERCE, "serve"], env=env, stdout=out, stderr=out)
    try:
        _wait_until_healthy(url, process, log)
        server = LiveServer(url, api_key, log, operator_key)
        _stock_the_shop(server)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        asyncio.run(schema.drop())


def _document() -> dict[str, Any]:
    """The app's OpenAPI document; building the app does no I/O."""
    settings = dataclasses.replace(Settings.from_env(), event_store="memory")
    return create_app(settings).openapi_schema.to_schema()


DOCUMENT = _document()


def _schemathesis_schema() -> schemathesis.BaseSchema:
    config = schemathesis.Config()
    project = config.projects.default
    # the real key is sent with each call, not generated tokens (their 401s say nothing)
    # CI replays one fixed sequence, so a red run is reproducible and never a coin toss;
    # developers' runs draw new inputs each time, which is how new failures are found
    project.generation.update(
        max_examples=MAX_EXAMPLES,
        with_security_parameters=False,
        deterministic=os.environ.get("CI") == "true",
    )
    project.phases.update(phases=["examples", "coverage", "fuzzing"])
    return schemathesis.openapi.from_dict(DOCUMENT, config=config)


schema = _schemathesis_schema()


@pytest.fixture(scope="module")
def served(live_server: LiveServer) -> LiveServer:
    """The live server, once it is known to serve the document under test."""
    answer = httpx.get(f"{live_server.url}/schema/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == json.loads(json.dumps(DOCUMENT))
    return live_server


def _call(server: LiveServer, case: schemathesis.Case[Any]) -> Any:
    try:
        headers = server.auth_for(case.method, case.path)
        return case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)
    except Exception as failure:
        failure.add_note(f"server log ({server.log}):\n{server.log_tail()}")
        raise


@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], served: LiveServer
) -> None:
    _call(served, case)


class Journey:
    """Documented calls with real ids; each answer is checked against the document."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.operations: set[tuple[str, str]] = set()

    def __call__(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        query: dict[str, Any] | None = None,
        **path_parameters: Any,
    ) -> Any:
        operation = schema[f"/api/v1{path}"][method]
        extra = {} if body is None else {"body": body}
        case = operation.Case(path_parameters=path_parameters, query=query, **extra)
        response = _call(self.server, case)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        self.operations.add((method, f"/api/v1{path}"))
        return response.json() if response.content else None


def _order(journey: Journey, quantity: int = 1, status: int = 201) -> dict[str, Any]:
    body = {
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "lines": [{"sku": SKU, "quantity": quantity}],
        "currency": "USD",
    }
    order: dict[str, Any] = journey("POST", "/orders", status, body)
    return order


def _card(order: dict[str, Any], token: str = "tok_visa") -> dict[str, Any]:
    return {"order_id": order["id"], "payment_method": {"type": "card", "token": token}}


def test_a_journey_with_real_ids_answers_as_documented(served: LiveServer) -> None:
    go = Journey(served)
    # the fuzzing may have changed the tenant's settings (currencies, reservation time): reset
    go("PATCH", "/admin/settings", 200, dict.fromkeys(ADMIN_FIELDS))
    go("GET", "/admin/settings", 200)
    go("GET", "/admin/settings/history", 200)
    go(
        "PUT",
        "/products/{sku}",
        200,
        {"name": "Mug", "price": {"amount": 1200, "currency": "USD"}},
        sku=SKU,
    )
    go("GET", "/products/{sku}", 200, sku=SKU)
    go("POST", "/inventory/{sku}/receipts", 201, {"quantity": 10, "location_id": "w2"}, sku=SKU)
    go("GET", "/inventory/{sku}", 200, sku=SKU)
    _order(go, quantity=1_000_000, status=409)  # insufficient-stock (at the largest quantity)

    # paid, shipped, delivered, refunded in part through the order and the payment
    order = _order(go, quantity=3)
    oid = order["id"]
    go("GET", "/orders/{order_id}", 200, order_id=oid)
    go("PATCH", "/orders/{order_id}", 409, {"status": "delivered"}, order_id=oid)
    payment = go("POST", "/payments/authorize", 201, _card(order))
    pid = payment["id"]
    go("POST", "/payments/{payment_id}/capture", 200, {}, payment_id=pid)
    go("GET", "/payments/{payment_id}", 200, payment_id=pid)
    shipment = go("POST", "/orders/{order_id}/shipments", 201, {"carrier": "ups"}, order_id=oid)
    go(
        "POST",
        "/shipments/{shipment_id}/events",
        201,
        {"status": "delivered"},
        shipment_id=shipment["id"],
    )
    go("GET", "/shipments/{shipment_id}", 200, shipment_id=shipment["id"])
    go("POST", "/orders/{order_id}/refund", 201, {"amount": 100, "reason": "scratch"}, order_id=oid)
    go("POST", "/payments/{payment_id}/refund", 201, {"amount": 100}, payment_id=pid)
    go("POST", "/payments/{payment_id}/refund", 409, {"amount": 10_000_000}, payment_id=pid)
    go("GET", "/orders/{order_id}/payments", 200, order_id=oid)
    go("GET", "/orders/{order_id}/history", 200, order_id=oid)
    go("GET", "/orders/{order_id}/history", 200, query={"as_of": "2"}, order_id=oid)
    go("GET", "/payments/{payment_id}/history", 200, payment_id=pid)

    # declined, 3-D Secure, cancelled; authorized and voided
    declined = _order(go)
    go("POST", "/payments/charge", 402, _card(declined, "tok_declined"))
    go("POST", "/payments/charge", 201, _card(declined, "tok_3ds"))
    go(
        "POST",
        "/orders/{order_id}/cancel",
        200,
        {"reason": "changed mind"},
        order_id=declined["id"],
    )
    go("POST", "/orders/{order_id}/cancel", 409, {"reason": "twice"}, order_id=declined["id"])
    voided = _order(go)
    held = go("POST", "/payments/authorize", 201, _card(voided))
    go("POST", "/payments/{payment_id}/void", 200, payment_id=held["id"])

    # a customer, to the end of their personal data
    email = f"grace-{uuid.uuid4().hex[:12]}@example.com"  # the fuzzing may register any other
    customer = go("POST", "/customers", 201, {"email": email, "name": "Grace"})
    cid = customer["id"]
    go("POST", "/customers", 409, {"email": email})  # email-taken
    go("GET", "/customers/{customer_id}", 200, customer_id=cid)
    go("PATCH", "/customers/{customer_id}", 200, {"phone": "+44 20 7946 0000"}, customer_id=cid)
    go("POST", "/customers/{customer_id}/notes", 201, {"text": "prefers email"}, customer_id=cid)
    go("GET", "/customers/{customer_id}/orders", 200, customer_id=cid)
    go("GET", "/customers/{customer_id}/analytics", 200, customer_id=cid)
    go("GET", "/customers/{customer_id}/export", 200, customer_id=cid)
    go("DELETE", "/customers/{customer_id}", 204, customer_id=cid)
    go("GET", "/customers/{customer_id}/export", 200, customer_id=cid)

    # a marketplace seller, on the fake marketplace
    seller = f"journey-{uuid.uuid4().hex[:12]}"  # the fuzzing may onboard any other
    links = {"refresh_url": "https://shop.test/retry", "return_url": "https://shop.test/done"}
    onboarding = {"country": "GB", **links}
    go("POST", "/sellers/{seller_id}/stripe-onboard", 201, onboarding, seller_id=seller)
    go("POST", "/sellers/{seller_id}/stripe-onboard", 200, onboarding, seller_id=seller)
    unknown = f"{seller}-unknown"
    go(
        "POST",
        "/sellers/{seller_id}/stripe-onboard",
        422,
        {**links, "country": "ZZ"},
        seller_id=unknown,
    )
    go("GET", "/sellers/{seller_id}", 200, seller_id=seller)
    go("POST", "/sellers/{seller_id}/refresh", 200, seller_id=seller)
    go("GET", "/sellers/{seller_id}/payouts", 200, query={"limit": 5}, seller_id=seller)
    go("GET", "/sellers/{seller_id}/payouts", 404, seller_id=unknown)

    # read models and operations
    go("GET", "/orders", 200, query={"status": "pending_payment", "limit": 1})
    for instant in ("0001-01-01T00:00:00+00:12", "9999-12-31T23:59:59-01:00"):  # found by fuzzing
        go("GET", "/orders", 422, query={"created_from": instant})
    go("GET", "/analytics/orders/dashboard", 200)
    for day in ("0001-01-01", "9999-12-31"):  # found by fuzzing: date arithmetic overflowed
        go("GET", "/analytics/orders/dashboard", 422, query={"to": day})
    for path in ("/analytics/orders/dashboard", "/analytics/customers/dashboard"):
        go("GET", path, 422, query={"currency": "\x00"})  # found by fuzzing: a NUL reached SQL
    go("GET", "/analytics/customers/dashboard", 200)
    projections = go("GET", "/admin/projections", 200)
    go("POST", "/admin/projections/{name}/rebuild", 202, name=projections[0]["name"])
    go("GET", "/webhooks/health", 200)
    # the tenant's own Stripe account, disabled: its payments stay on the test gateway
    account = {"secret_key": "sk_test_journey", "webhook_secret": "whsec_journey", "enabled": False}
    go("PUT", "/admin/gateways/{gateway}", 200, account, gateway="stripe")

    # every operation of the contract that is routed, but those the journey cannot call
    wanted = (set(CONTRACT) & documented_operations(DOCUMENT)) - NOT_IN_JOURNEY
    assert wanted - {(m, shape(p)) for m, p in go.operations} == set()
