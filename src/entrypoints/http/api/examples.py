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
                "attribution": {
                    "source": "google",
                    "medium": "cpc",
                    "campaign": "spring-mugs",
                    "term": "ceramic mug",
                    "referrer": "https://www.google.com/",
                    "landing_page": "https://shop.example/mugs?utm_source=google",
                },
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

CUSTOMER = Body(
    examples=example_body(
        (
            "A customer with an address and a tag",
            {
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "phone": "+44 20 7946 0000",
                "addresses": [ADDRESS],
                "tags": ["vip"],
                "consent": {"email": True, "sms": True},
            },
        ),
        ("The least it needs", {"email": "grace@example.com"}),
    )
)

CUSTOMER_PATCH = Body(
    examples=example_body(
        ("A new phone number", {"phone": "+44 20 7946 0001"}),
        ("Replace the tags", {"tags": ["wholesale", "newsletter"]}),
        ("No more order emails, texts instead", {"consent": {"email": False, "sms": True}}),
    )
)

NOTE = Body(examples=example_body(("A note for staff", {"text": "prefers email"})))

STATUS_CHANGE = Body(
    examples=example_body(
        ("Start fulfilment of a paid order", {"status": "processing"}),
        ("Cancel, with the reason", {"status": "cancelled", "reason": "customer request"}),
    )
)

CANCEL = Body(
    examples=example_body(
        ("With a reason", {"reason": "customer changed their mind"}),
        ("Without one", {}),
    )
)

SHIPMENT = Body(
    examples=example_body(
        (
            "Part of the order, with tracking",
            {
                "carrier": "ups",
                "service": "ground",
                "tracking_number": "1Z999AA10123456784",
                "lines": [{"sku": "MUG-1", "quantity": 1}],
            },
        ),
        ("All that is left to ship", {"carrier": "royal-mail"}),
    )
)

SHIPMENT_EVENT = Body(
    examples=example_body(
        ("Delivered", {"status": "delivered"}),
        (
            "On its way, at a given time",
            {"status": "in_transit", "at": "2026-03-15T08:00:00Z", "detail": "left the depot"},
        ),
    )
)

CAPTURE = Body(
    examples=example_body(
        ("All that is authorized", {}),
        ("Part of it (more captures may follow)", {"amount": 1000}),
    )
)

PAYMENT_REFUND = Body(
    examples=example_body(("12.00 back, with the reason", {"amount": 1200, "reason": "damaged"}))
)

REJECTION = Body(
    examples=example_body(("With the reason", {"reason": "the goods were never returned"}))
)

CHANNEL_ORDER = Body(
    examples=example_body(
        (
            "An Etsy order, paid on Etsy",
            {
                "external_id": "3141592653",
                "lines": [{"sku": "MUG-1", "quantity": 2}],
                "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
                "shipping_address": ADDRESS,
                "paid": {"amount": 2640, "currency": "USD"},
                "placed_at": "2026-03-14T09:12:00Z",
                "attribution": {"source": "etsy", "medium": "marketplace"},
            },
        ),
        (
            "A Google Business Profile order, attributed to its location",
            {
                "external_id": "gbp-7781",
                "lines": [{"sku": "MUG-1", "quantity": 1}],
                "customer": {"email": "grace@example.com"},
                "placed_at": "2026-03-14T09:30:00Z",
                "attribution": {"gbp_location_id": "locations/4471120983"},
            },
        ),
    )
)

MANUAL_PAYMENT = Body(
    examples=example_body(
        ("A bank transfer arrived", {"method": "bank_transfer", "reference": "BANK-REF-2026-0042"}),
        (
            "Cash collected on delivery of a shipment",
            {
                "method": "cash_on_delivery",
                "shipment_id": "c4d5e6f7-1a2b-4c3d-9e8f-7a6b5c4d3e2f",
            },
        ),
    )
)

MANUAL_REFUND = Body(
    examples=example_body(
        (
            "Money sent back by bank transfer",
            {"amount": 1200, "reason": "damaged", "reference": "BANK-REF-2026-0057"},
        ),
    )
)

GATEWAY = Body(
    examples=example_body(
        (
            "The tenant's own Stripe account, stored but not used yet",
            {
                "secret_key": "sk_test_51PqR8sT2uV4wX6yZ",
                "webhook_secret": "whsec_5f2d7c1e9a8b4c3d",
                "publishable_key": "pk_test_51PqR8sT2uV4wX6yZ",
                "enabled": False,
            },
        ),
    )
)

FEE_TERMS = Body(
    examples=example_body(
        ("Move the tenant to another tier", {"tier": "professional"}),
        ("A negotiated fee", {"override": {"basis_points": 150, "fixed": 10}}),
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

LOCATION = Body(
    examples=example_body(
        (
            "A warehouse that ships, ranked first among equally near locations",
            {
                "name": "San Francisco warehouse",
                "address": {
                    "name": "Acme SF",
                    "line1": "500 Terry Francois St",
                    "city": "San Francisco",
                    "region": "CA",
                    "postal_code": "94158",
                    "country": "US",
                },
                "ships": True,
                "priority": 1,
            },
        ),
        (
            "A shop floor whose stock is sold over the counter, never shipped",
            {
                "name": "London shop",
                "address": ADDRESS,
                "ships": False,
            },
        ),
    )
)

OVERSELL_RESOLUTION = Body(
    examples=example_body(
        (
            "Stock found in the back room and counted",
            {"note": "2 units found in the back room; counted and received"},
        ),
        ("Written off", {"note": "sale honoured; the unit is written off"}),
    )
)
