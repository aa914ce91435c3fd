"""A client generated from the served OpenAPI document places and pays an order.

``openapi-python-client`` (the dev extras; ADR 0027) generates a package into the
test's temporary folder from ``/schema/openapi.json`` of the running app; the test
imports it and, through its functions and models only, creates a product, receives
stock, places an order, charges it on the test gateway and reads it back. When the
generator cannot make sense of part of the document, the document is what to fix.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.http.conftest import Api, bearer

GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))
PACKAGE = "commerce_core_client"


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Any]:
    """Imports the package generated into ``tmp_path`` (written by the test first)."""

    def load() -> Any:
        sys.path.insert(0, str(tmp_path))
        return importlib.import_module(PACKAGE)

    yield load
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def generate(document: dict[str, Any], folder: Path) -> None:
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(document))
    config = folder / "generator.yaml"
    # no formatter run on the generated code; a PDF (the packing slip) is bytes to a client
    config.write_text(
        "post_hooks: []\ncontent_type_overrides:\n  application/pdf: application/octet-stream\n"
    )
    done = subprocess.run(
        [
            GENERATOR,
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # a part of the document the generator could not read is left out with a warning
    assert "Warning" not in done.stdout, done.stdout


def module(package: Any, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


async def test_a_generated_client_places_and_pays_an_order(
    api: Api, tmp_path: Path, generated: Any
) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()
    generate(document, tmp_path)
    package = generated()
    models = module(package, "models")
    _, key = await api.tenant("generated-client")
    asgi_app: Any = api.app
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi_app),
        base_url="http://test",
        headers=bearer(key),
    )
    client = package.AuthenticatedClient(base_url="http://test", token=key)
    client.set_async_httpx_client(http)

    async with http:
        product = await module(package, "api.catalog.create_or_change_product").asyncio_detailed(
            sku="MUG-1",
            client=client,
            body=models.ProductIn(name="Mug", price=models.MoneyIn(amount=1200, currency="USD")),
        )
        assert product.status_code == 200, product.content
        assert isinstance(product.parsed, models.ProductOut)

        stock = await module(package, "api.catalog.receive_stock").asyncio_detailed(
            sku="MUG-1", client=client, body=models.ReceiptIn(quantity=5)
        )
        assert stock.status_code == 201, stock.content
        assert stock.parsed.available == 5

        placed = await module(package, "api.orders.place_order").asyncio_detailed(
            client=client,
            body=models.PlaceOrder(
                customer=models.CustomerRef(email="ada@example.com"),
                lines=[models.SkuQuantity(sku="MUG-1", quantity=2)],
                currency="USD",
                payment_method=models.PaymentMethod.CARD,
                channel=models.Channel.WEB,
            ),
            idempotency_key="place-1",
        )
        assert placed.status_code == 201, placed.content
        order = placed.parsed
        assert isinstance(order, models.OrderOut)
        assert order.status is models.OrderStatus.PENDING_PAYMENT
        assert order.totals.total == 2400

        charged = await module(package, "api.payments.charge_card").asyncio_detailed(
            client=client,
            body=models.PaymentIn(
                order_id=order.id, payment_method=models.CardIn(type_="card", token="tok_visa")
            ),
            idempotency_key="charge-1",
        )
        assert charged.status_code == 201, charged.content
        payment = charged.parsed
        assert isinstance(payment, models.PaymentOut)
        assert payment.status is models.PaymentStatus.CAPTURED
        assert payment.captured == 2400

        shown = await module(package, "api.orders.show_order").asyncio_detailed(
            order_id=order.id, client=client
        )
        assert shown.status_code == 200, shown.content
        paid = shown.parsed
        assert isinstance(paid, models.OrderDetailOut)
        assert paid.status is models.OrderStatus.PAID
        assert paid.totals.paid == 2400
        assert [p.id for p in paid.payments] == [payment.id]

        # a problem answer parses too, as the document's Problem
        missing = await module(package, "api.orders.show_order").asyncio_detailed(
            order_id=payment.id, client=client
        )
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem)
        assert missing.parsed.type_.endswith("/not-found")
