"""UPS and ShipEngine as the test servers play them: state enough for the carrier contract
(rates by weight, labels, voids, scans), every answer built from the vendor's response
schema (``Spec.example``) with the fields the scenario needs set, and checked by the server.

``fail_next`` makes the next answer a given one (a documented 4xx, a 5xx, a malformed body).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from math import ceil
from typing import Any
from urllib.parse import unquote

from tests.integration.carriers.openapi import Spec
from tests.integration.carriers.vendor_server import Answer, Received

from adapters.memory.carrier import label_pdf

UPS_SPEC = Spec("ups/ups-carrier.json")
SHIPENGINE_SPEC = Spec(
    "shipengine/shipengine-carrier.json",
    # The rates request's shipment is the ``shipment`` schema, which requires a carrier and
    # a service: the very things a rate request asks for (``rate_options.carrier_ids``);
    # ShipEngine's own rate examples in its docs send neither.
    relaxed={("post", "/v1/rates", "request"): {("shipment",): {"carrier_id", "service_code"}}},
)
REFUSED_POSTAL_CODE = "00000"
"""An address both vendors refuse (the test's stand-in for an undeliverable address)."""
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def merged(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: merged(base.get(key), value) for key, value in override.items()}}
    return override


@dataclass(frozen=True)
class Service:
    base_cents: int
    per_kg_cents: int
    days: int
    name: str


def cents(service: Service, grams: int) -> int:
    return service.base_cents + service.per_kg_cents * ceil(grams / 1000)


@dataclass
class VendorState:
    failures: list[Answer] = field(default_factory=list)
    issued: int = 0
    scans: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def fail_next(self, answer: Answer) -> None:
        self.failures.append(answer)

    def next_failure(self, received: Received) -> Answer | None:
        return self.failures.pop(0) if self.failures else None


# UPS


UPS_SERVICES = {
    "03": Service(900, 120, 5, "Ground"),
    "02": Service(1800, 300, 2, "2nd Day Air"),
    "01": Service(3500, 500, 1, "Next Day Air"),
}


@dataclass
class UpsWorld(VendorState):
    spec: Spec = UPS_SPEC
    client_id: str = "client-1"
    client_secret: str = "secret-1"
    tokens: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    shipments: dict[str, str] = field(default_factory=dict)  # shipment id -> tracking no
    voided: set[str] = field(default_factory=set)

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def error(self, status: int, code: str, message: str) -> Answer:
        return Answer(status, {"response": {"errors": [{"code": code, "message": message}]}})

    def answer(self, received: Received) -> Answer:
        if received.path == "/security/v1/oauth/token":
            return self.token(received)
        if received.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return self.error(401, "250002", "Invalid Authentication Information.")
        if (failure := self.next_failure(received)) is not None:
            return failure
        if received.path.startswith("/api/rating/"):
            return self.rate(received.json()["RateRequest"]["Shipment"])
        if received.path.startswith("/api/shipments/") and received.method == "POST":
            return self.ship(received.json()["ShipmentRequest"]["Shipment"])
        if "/void/cancel/" in received.path:
            return self.void(received.path.rsplit("/", 1)[1])
        return self.track(received.path.rsplit("/", 1)[1])

    def token(self, received: Received) -> Answer:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if received.headers.get("authorization") != f"Basic {expected}":
            return self.error(401, "10401", "ClientId is Invalid")
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        self.tokens.add(token)
        body = self.spec.example("post", "/security/v1/oauth/token")
        body |= {"access_token": token, "expires_in": "14399", "token_type": "Bearer"}
        return Answer(200, body)

    def refused_address(self, shipment: Any) -> bool:
        return bool(shipment["ShipTo"]["Address"]["PostalCode"] == REFUSED_POSTAL_CODE)

    def grams(self, shipment: Any) -> int:
        package = shipment["Package"][0]
        return round(float(package["PackageWeight"]["Weight"]) * 1000)

    def charges(self, service: Service, grams: int) -> dict[str, str]:
        return {"CurrencyCode": "USD", "MonetaryValue": f"{cents(service, grams) / 100:.2f}"}

    def rate(self, shipment: Any) -> Answer:
        if self.refused_address(shipment):
            return self.error(400, "111285", "The postal code 00000 is invalid for US.")
        item = self.spec.example_of("RateResponse_RatedShipment")
        body = self.spec.example("post", "/api/rating/v2409/Shop")
        body["RateResponse"]["RatedShipment"] = [
            merged(
                item,
                {
                    "Service": {"Code": code},
                    "TotalCharges": self.charges(service, self.grams(shipment)),
                    "GuaranteedDelivery": {"BusinessDaysInTransit": str(service.days)},
                },
            )
            for code, service in UPS_SERVICES.items()
        ]
        return Answer(200, body)

    def ship(self, shipment: Any) -> Answer:
        if self.refused_address(shipment):
            return self.error(400, "120802", "Address Validation Error on ShipTo address")
        service = UPS_SERVICES.get(shipment["Service"]["Code"])
        if service is None:
            return self.error(400, "111210", "The requested service is unavailable.")
        self.issued += 1
        tracking = f"1Z999AA1{self.issued:010d}"
        self.shipments[tracking] = tracking
        self.scans[tracking] = []
        charges = self.charges(service, self.grams(shipment))
        body = merged(
            self.spec.example("post", "/api/shipments/v2409/ship"),
            {
                "ShipmentResponse": {
                    "ShipmentResults": {
                        "ShipmentIdentificationNumber": tracking,
                        "ShipmentCharges": merged(
                            self.spec.example_of("ShipmentResults_ShipmentCharges"),
                            {"TotalCharges": charges},
                        ),
                        "PackageResults": [
                            self.spec.example_of("ShipmentResults_PackageResults")
                            | {
                                "TrackingNumber": tracking,
                                "ShippingLabel": {
                                    "ImageFormat": {"Code": "PNG"},
                                    "GraphicImage": base64.b64encode(PNG).decode(),
                                },
                            }
                        ],
                    }
                }
            },
        )
        return Answer(200, body)

    def void(self, shipment_id: str) -> Answer:
        if shipment_id not in self.shipments:
            return self.error(400, "190102", "No shipment found within the allowed void period.")
        if self.scans[shipment_id]:
            return self.error(400, "190117", "Void period has expired.")
        self.voided.add(shipment_id)
        body = merged(
            self.spec.example("delete", "/api/shipments/v2409/void/cancel/x"),
            {"VoidShipmentResponse": {"SummaryResult": {"Status": {"Code": "1"}}}},
        )
        return Answer(200, body)

    def track(self, number: str) -> Answer:
        if number not in self.scans:
            body: dict[str, Any] = {
                "response": {
                    "errors": [{"code": "TW0001", "message": "Tracking Information Not Found"}]
                }
            }
            return Answer(404, body)
        activity = [
            {
                "gmtDate": "20260105",
                "gmtTime": f"{10 + n:02d}:00:00",
                "status": {"type": kind, "code": code, "description": f"scan {code}"},
            }
            for n, (kind, code) in enumerate(self.scans[number])
        ]
        body = {
            "trackResponse": {
                "shipment": [
                    {
                        "inquiryNumber": number,
                        "package": [{"trackingNumber": number, "activity": activity}],
                    }
                ]
            }
        }
        return Answer(200, body)


# ShipEngine


SHIPENGINE_SERVICES = {
    "usps_priority_mail": Service(790, 150, 2, "Priority Mail"),
    "usps_ground_advantage": Service(520, 90, 5, "Ground Advantage"),
}


@dataclass
class ShipEngineWorld(VendorState):
    spec: Spec = SHIPENGINE_SPEC
    api_key: str = "TEST_key"
    base_url: str = ""
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # by label id
    by_external_id: dict[str, str] = field(default_factory=dict)

    def error(self, status: int, kind: str, code: str, message: str) -> Answer:
        error = {
            "error_source": "shipengine",
            "error_type": kind,
            "error_code": code,
            "message": message,
        }
        return Answer(
            status, {"request_id": "aa3d8e8e-462b-4476-9618-72db7f7b7009", "errors": [error]}
        )

    def answer(self, received: Received) -> Answer:
        if received.path.startswith("/downloads/"):
            return Answer(
                200, raw=label_pdf(received.path), content_type="application/pdf", checked=False
            )
        if received.headers.get("api-key") != self.api_key:
            return self.error(401, "security", "unauthorized", "The API key is invalid.")
        if (failure := self.next_failure(received)) is not None:
            return failure
        path, method = received.path, received.method
        if path == "/v1/rates":
            return self.rates(received.json())
        if path.startswith("/v1/labels/external_shipment_id/"):
            label_id = self.by_external_id.get(unquote(path.rsplit("/", 1)[1]))
            if label_id is None:
                return self.error(404, "system", "invalid_identifier", "Label not found.")
            return Answer(200, self.labels[label_id])
        if path == "/v1/labels" and method == "POST":
            return self.buy(received.json())
        if path.endswith("/void"):
            return self.void(path.split("/")[3])
        if path == "/v1/labels":
            return self.find(received.query.get("tracking_number", ""))
        return self.track(received.query.get("tracking_number", ""))

    def grams(self, shipment: Any) -> int:
        weight = shipment["packages"][0]["weight"]
        factor = {"gram": 1, "kilogram": 1000, "ounce": 28.35, "pound": 453.6}[weight["unit"]]
        return round(float(weight["value"]) * factor)

    def amount(self, value_cents: int) -> dict[str, Any]:
        return {"amount": value_cents / 100, "currency": "usd"}

    def rates(self, body: Any) -> Answer:
        shipment = body["shipment"]
        if shipment["ship_to"]["postal_code"] == REFUSED_POSTAL_CODE:
            return self.error(400, "validation", "invalid_address", "Invalid postal_code: 00000")
        wanted = body["rate_options"].get("service_codes") or list(SHIPENGINE_SERVICES)
        template = self.spec.example("post", "/v1/rates")
        rate_template = self.spec.example_of("rate")
        rates = [
            merged(
                rate_template,
                {
                    "rate_id": f"se-{1000 + n}",
                    "carrier_id": "se-161650",
                    "carrier_code": "stamps_com",
                    "carrier_friendly_name": "Stamps.com",
                    "service_code": code,
                    "service_type": SHIPENGINE_SERVICES[code].name,
                    "shipping_amount": self.amount(
                        cents(SHIPENGINE_SERVICES[code], self.grams(shipment))
                    ),
                    "insurance_amount": self.amount(0),
                    "confirmation_amount": self.amount(0),
                    "other_amount": self.amount(0),
                    "delivery_days": SHIPENGINE_SERVICES[code].days,
                },
            )
            for n, code in enumerate(wanted)
            if code in SHIPENGINE_SERVICES
        ]
        template["rate_response"] = {
            "rates": rates,
            "invalid_rates": [],
            "errors": [],
            "status": "completed",
            "rate_request_id": "se-9001",
            "shipment_id": "se-9002",
        }
        template["packages"] = [self.spec.example_of("package")]
        return Answer(200, template)

    def buy(self, body: Any) -> Answer:
        shipment = body["shipment"]
        code = shipment["service_code"]
        if code not in SHIPENGINE_SERVICES:
            return self.error(
                400, "validation", "invalid_field_value", f"Invalid service_code {code}"
            )
        self.issued += 1
        label_id = f"se-{50000 + self.issued}"
        tracking = f"9400111899{self.issued:012d}"
        link = f"{self.base_url}/downloads/{label_id}.pdf"
        label = merged(
            self.spec.example("post", "/v1/labels"),
            {
                "label_id": label_id,
                "tracking_number": tracking,
                "carrier_code": "stamps_com",
                "carrier_id": shipment["carrier_id"],
                "service_code": code,
                "shipment_cost": self.amount(
                    cents(SHIPENGINE_SERVICES[code], self.grams(shipment))
                ),
                "label_download": {"href": link, "pdf": link},
                "label_format": "pdf",
                "status": "completed",
                "voided": False,
            },
        )
        self.labels[label_id] = label
        self.by_external_id[shipment["external_shipment_id"]] = label_id
        self.scans[tracking] = []
        return Answer(200, label)

    def void(self, label_id: str) -> Answer:
        label = self.labels.get(label_id)
        if label is None:
            return self.error(404, "system", "invalid_identifier", "Label not found.")
        approved = not self.scans[label["tracking_number"]]
        message = (
            "This label has been voided."
            if approved
            else "The label was used: it cannot be voided."
        )
        return Answer(200, {"approved": approved, "message": message})

    def find(self, tracking_number: str) -> Answer:
        found = [
            label for label in self.labels.values() if label["tracking_number"] == tracking_number
        ]
        body = merged(
            self.spec.example("get", "/v1/labels"),
            {"labels": found, "total": len(found), "page": 1, "pages": 1},
        )
        return Answer(200, body)

    def track(self, tracking_number: str) -> Answer:
        if tracking_number not in self.scans:
            return self.error(404, "system", "invalid_identifier", "Tracking number not found.")
        event_template = self.spec.example_of("track_event")
        events = [
            merged(
                event_template,
                {
                    "occurred_at": f"2026-01-05T{10 + n:02d}:00:00Z",
                    "status_code": code,
                    "carrier_status_code": detail,
                    "carrier_detail_code": detail,
                    "description": f"scan {detail}",
                },
            )
            for n, (code, detail) in enumerate(self.scans[tracking_number])
        ]
        body = merged(
            self.spec.example("get", "/v1/tracking"),
            {"tracking_number": tracking_number, "events": events},
        )
        return Answer(200, body)


def malformed() -> Answer:
    return Answer(200, raw=b"{not json")


def raw_json(status: int, body: Any) -> Answer:
    return Answer(status, raw=json.dumps(body).encode())
