"""Request body examples of the main commands, shown in the docs and tried by schemathesis.

Use as ``data: Annotated[ProductIn, examples.PRODUCT]``. They name the SKU ``MUG-1``
so that, on a tenant that sells it, each example does what it says.
"""

from __future__ import annotations

from litestar.params import Body

from entrypoints.http.openapi import example_body

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}

PRODUCT = Body(
    examples=example_body(
        (
            "A mug at 12.00 USD, 10 % tax",
            {"name": "Mug", "price": {"amount": 1200, "currency": "USD"}, "tax_rate_bps": 1000},
        ),
    )
)

RECEIPT = Body(
    examples=example_body(
        ("100 units at the default location", {"quantity": 100}),
        ("20 units at a named location", {"quantity": 20, "location_id": "warehouse-2"}),
    )
)

ORDER = Body(
    examples=example_body(
        (
            "Two mugs for a customer known by email",
            {
                "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
                "lines": [{"sku": "MUG-1", "quantity": 2}],
                "currency": "USD",
                "shipping_address": ADDRESS,
                "shipping_method": "standard",
                "payment_method": "card",
                "channel": "web",
                "metadata": {"campaign": "spring"},
            },
        ),
        (
            "The least an order needs",
            {
                "customer": {"email": "grace@example.com"},
                "lines": [{"sku": "MUG-1", "quantity": 1}],
                "currency": "USD",
            },
        ),
    )
)

PAYMENT = Body(
    examples=example_body(
        (
            "A card token",
            {
                "order_id": "0b1e8c52-4f5e-4b7a-9d44-2f0c3c1d9a10",
                "payment_method": {"type": "card", "token": "tok_visa"},
            },
        ),
        (
            "A card that needs 3-D Secure (a test token of the demo gateway)",
            {
                "order_id": "0b1e8c52-4f5e-4b7a-9d44-2f0c3c1d9a10",
                "payment_method": {"type": "card", "token": "tok_3ds"},
            },
        ),
        (
            "For a marketplace seller (paid to its account, less the platform fee)",
            {
                "order_id": "0b1e8c52-4f5e-4b7a-9d44-2f0c3c1d9a10",
                "payment_method": {"type": "card", "token": "tok_visa"},
                "seller_id": "seller-42",
            },
        ),
    )
)

ORDER_REFUND = Body(
    examples=example_body(
        ("All that is refundable", {"reason": "customer request"}),
        ("Part of it, restocking", {"amount": 500, "reason": "damaged", "restock": True}),
    )
)

SELLER_ONBOARDING = Body(
    examples=example_body(
        (
            "A seller in the United Kingdom",
            {
                "country": "GB",
                "email": "seller@example.com",
                "refresh_url": "https://shop.example.com/sellers/onboarding/retry",
                "return_url": "https://shop.example.com/sellers/onboarding/done",
            },
        ),
        (
            "The least it needs",
            {
                "country": "US",
                "refresh_url": "https://shop.example.com/onboarding/retry",
                "return_url": "https://shop.example.com/onboarding/done",
            },
        ),
    )
)

US_ADDRESS = {
    "name": "Grace Hopper",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}

SHIPPING_ZONE = Body(
    examples=example_body(
        (
            "The contiguous US: a flat rate free over 50.00, and UPS Ground at its rate + 1.00",
            {
                "name": "United States",
                "countries": ["US"],
                "methods": [
                    {
                        "code": "standard",
                        "name": "Standard (3-5 days)",
                        "price": {"amount": 599, "currency": "USD"},
                        "free_over": {"amount": 5000, "currency": "USD"},
                        "delivery_days": [3, 5],
                    },
                    {
                        "code": "ground",
                        "name": "Ground",
                        "carrier": "fake",
                        "service": "standard",
                        "handling_fee": {"amount": 100, "currency": "USD"},
                        "max_weight_grams": 30000,
                    },
                ],
                "ship_from": US_ADDRESS,
            },
        ),
        (
            "California, closer than the country zone, express only",
            {
                "name": "California",
                "countries": ["US"],
                "regions": ["CA"],
                "methods": [
                    {
                        "code": "express",
                        "name": "Express (next day)",
                        "price": {"amount": 1299, "currency": "USD"},
                        "min_subtotal": {"amount": 2000, "currency": "USD"},
                        "delivery_days": [1, 1],
                    }
                ],
            },
        ),
    )
)

SHIPPING_QUOTE = Body(
    examples=example_body(
        (
            "Two mugs to San Francisco",
            {
                "lines": [{"sku": "MUG-1", "quantity": 2}],
                "currency": "USD",
                "shipping_address": US_ADDRESS,
            },
        ),
    )
)
