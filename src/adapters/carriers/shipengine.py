"""ShipEngine (one account reaching USPS, UPS, FedEx, DHL...) over its REST API v1.

Requests carry the ``API-Key`` header; ``phone`` is the shop's (ShipEngine requires one on
every address). Services are ShipEngine's service codes
(``usps_priority_mail``); the carriers rated are the account's ``carrier_ids``.

- Rates: ``POST /v1/rates``; a quote's price is the rate's shipping, confirmation,
  insurance and other amounts together, and ``rate_id`` is ShipEngine's.
- Labels: exactly once per key. The key is the shipment's ``external_shipment_id``:
  ``GET /v1/labels/external_shipment_id/{key}`` first returns a label bought before; else
  the service is rated (its carrier account and price) and ``POST /v1/labels`` buys it.
  The PDF is fetched from the label's download link.
- Void: ``PUT /v1/labels/{label_id}/void``; ``approved: false`` is ``LabelNotVoidableError``.
- Tracking: ``GET /v1/labels?tracking_number=`` finds the carrier, ``GET /v1/tracking``
  lists the scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote as quote_path
from urllib.parse import urlsplit

import httpx

from adapters.carriers.calls import TIMEOUT, field, json_of, money, send
from commerce_core.fulfilment.ports import (
    AddressRefusedError,
    CarrierError,
    CarrierRefusedError,
    CarrierUnavailableError,
    Label,
    LabelDocument,
    LabelFormat,
    LabelNotVoidableError,
    Parcel,
    Quote,
    TrackingEvent,
    TrackingStatus,
    UnknownTrackingNumberError,
    UnsupportedServiceError,
)
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.values import Address

PRODUCTION = "https://api.shipengine.com"
VENDOR = "ShipEngine"

STATUSES = {
    "un": TrackingStatus.PRE_TRANSIT,  # unknown: nothing scanned yet
    "ny": TrackingStatus.PRE_TRANSIT,  # not yet in the carrier's system
    "ac": TrackingStatus.IN_TRANSIT,  # accepted
    "it": TrackingStatus.IN_TRANSIT,
    "at": TrackingStatus.EXCEPTION,  # delivery attempted: someone has to act
    "ex": TrackingStatus.EXCEPTION,
    "de": TrackingStatus.DELIVERED,
    "sp": TrackingStatus.DELIVERED,  # delivered to a collection point
}
DETAILS = {
    "OUT_FOR_DELIVERY": TrackingStatus.OUT_FOR_DELIVERY,
    "RETURNED_TO_SENDER": TrackingStatus.RETURNED_TO_SENDER,
    "RETURN_TO_SENDER": TrackingStatus.RETURNED_TO_SENDER,
}
ADDRESS_ERRORS = {"invalid_address"}


class ShipEngineCarrier:
    """The ``Carrier`` port on ShipEngine. ``base_url`` points it at a test server."""

    def __init__(
        self,
        *,
        api_key: str,
        carrier_ids: Sequence[str],
        phone: str,
        clock: Clock,
        base_url: str = PRODUCTION,
        name: str = "shipengine",
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._name = name
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._carrier_ids = list(carrier_ids)
        self._phone = phone
        self._clock = clock
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT)

    @property
    def name(self) -> str:
        return self._name

    @property
    def deduplicates(self) -> bool:
        # the key is the shipment's external_shipment_id, looked up before buying
        return True

    async def aclose(self) -> None:
        await self._client.aclose()

    async def quote(
        self, *, ship_from: Address, ship_to: Address, parcel: Parcel, currency: str
    ) -> list[Quote]:
        rates = await self._rates(ship_from, ship_to, parcel, currency, services=None)
        return [self._quote(rate, currency) for rate in rates]

    async def create_label(
        self,
        *,
        ship_from: Address,
        ship_to: Address,
        parcel: Parcel,
        service: str,
        currency: str,
        reference: str,
        idempotency_key: str,
    ) -> Label:
        existing = await self._call(
            "GET", f"/v1/labels/external_shipment_id/{quote_path(idempotency_key, safe='')}"
        )
        if existing.status_code == 200:
            return await self._label(json_of(existing, VENDOR), currency)
        if existing.status_code != 404:
            self._raise_refusal(existing)
        rates = await self._rates(ship_from, ship_to, parcel, currency, services=[service])
        if not rates:
            raise UnsupportedServiceError(f"{VENDOR} offers no {service!r} for this parcel")
        shipment = {
            **self._shipment(ship_from, ship_to, parcel),
            "carrier_id": field(rates[0], "carrier_id"),
            "service_code": service,
            "external_shipment_id": idempotency_key,
            "ship_date": self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            # the spec requires these on a label's shipment; their "nothing extra" values
            "return_to": _address(ship_from, self._phone),
            "confirmation": "none",
            "insurance_provider": "none",
            "advanced_options": {},
            "customs": None,
            "warehouse_id": None,
        }
        body = {"shipment": shipment, "label_format": "pdf", "label_download_type": "url"}
        response = await self._call("POST", "/v1/labels", json=body)
        if response.status_code != 200:
            self._raise_refusal(response)
        label = await self._label(json_of(response, VENDOR), currency)
        quoted = self._quote(rates[0], currency).rate
        return label if label.cost == quoted else _with_cost(label, quoted)

    async def void_label(self, label_id: str) -> None:
        response = await self._call("PUT", f"/v1/labels/{quote_path(label_id, safe='')}/void")
        if response.status_code in (400, 404):
            raise LabelNotVoidableError(self._message(response))
        answer = json_of(response, VENDOR)
        if not field(answer, "approved"):
            raise LabelNotVoidableError(f"{VENDOR} will not void {label_id}: {answer['message']}")

    async def track(self, tracking_number: str) -> list[TrackingEvent]:
        found = await self._call("GET", "/v1/labels", params={"tracking_number": tracking_number})
        if found.status_code != 200:
            self._raise_refusal(found)
        labels = field(json_of(found, VENDOR), "labels")
        if not labels:
            raise UnknownTrackingNumberError(f"{VENDOR} sold no label {tracking_number}")
        params = {
            "carrier_code": field(labels[0], "carrier_code"),
            "tracking_number": tracking_number,
        }
        response = await self._call("GET", "/v1/tracking", params=params)
        if response.status_code == 404:
            raise UnknownTrackingNumberError(self._message(response))
        if response.status_code != 200:
            self._raise_refusal(response)
        events = [_event(event) for event in field(json_of(response, VENDOR), "events")]
        return sorted(events, key=lambda event: event.at)

    async def _rates(
        self,
        ship_from: Address,
        ship_to: Address,
        parcel: Parcel,
        currency: str,
        services: list[str] | None,
    ) -> list[Any]:
        options: dict[str, Any] = {
            "carrier_ids": self._carrier_ids,
            "preferred_currency": currency.lower(),
        }
        if services:
            options["service_codes"] = services
        body = {"rate_options": options, "shipment": self._shipment(ship_from, ship_to, parcel)}
        response = await self._call("POST", "/v1/rates", json=body)
        if response.status_code != 200:
            self._raise_refusal(response)
        rates: list[Any] = field(json_of(response, VENDOR), "rate_response", "rates")
        wanted = [rate for rate in rates if not services or rate.get("service_code") in services]
        return wanted

    def _quote(self, rate: Any, currency: str) -> Quote:
        total = money(0, currency)
        for part in ("shipping_amount", "insurance_amount", "confirmation_amount", "other_amount"):
            amount = rate.get(part)
            if amount is None:
                continue
            value = money(field(amount, "amount"), field(amount, "currency"))
            if value.currency != total.currency:
                raise CarrierRefusedError(f"{VENDOR} rated in {value.currency}, not {currency}")
            total = total + value
        names = (rate.get("carrier_friendly_name"), rate.get("service_type"))
        return Quote(
            carrier=self._name,
            service=field(rate, "service_code"),
            service_name=" ".join(str(name) for name in names if name),
            rate=total,
            delivery_days=rate.get("delivery_days"),
            rate_id=rate.get("rate_id"),
        )

    async def _label(self, answer: Any, currency: str) -> Label:
        links = field(answer, "label_download")
        url = links.get("pdf") or field(links, "href")
        cost = field(answer, "shipment_cost")
        return Label(
            carrier=self._name,
            service=field(answer, "service_code"),
            tracking_number=field(answer, "tracking_number"),
            label_id=field(answer, "label_id"),
            cost=money(field(cost, "amount"), field(cost, "currency") or currency),
            document=LabelDocument(
                format=LabelFormat.PDF, content=await self._download(url), url=url
            ),
        )

    async def _download(self, url: str) -> bytes:
        ours = urlsplit(url).netloc == urlsplit(self._base).netloc
        headers = {"API-Key": self._key} if ours else {}
        request = self._client.build_request("GET", url, headers=headers)
        response = await send(self._client, VENDOR, request)
        if response.status_code != 200 or not response.content:
            raise CarrierUnavailableError(f"{VENDOR}'s label at {url} could not be fetched")
        return response.content

    def _shipment(self, ship_from: Address, ship_to: Address, parcel: Parcel) -> dict[str, Any]:
        package: dict[str, Any] = {"weight": {"value": parcel.weight_grams, "unit": "gram"}}
        if parcel.length_mm and parcel.width_mm and parcel.height_mm:
            package["dimensions"] = {
                "unit": "centimeter",
                "length": parcel.length_mm / 10,
                "width": parcel.width_mm / 10,
                "height": parcel.height_mm / 10,
            }
        return {
            "ship_from": _address(ship_from, self._phone),
            "ship_to": _address(ship_to, self._phone),
            "packages": [package],
        }

    async def _call(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {"API-Key": self._key}
        request = self._client.build_request(
            method, f"{self._base}{path}", headers=headers, **options
        )
        return await send(self._client, VENDOR, request)

    def _message(self, response: httpx.Response) -> str:
        body = json_of(response, VENDOR)
        errors = body.get("errors") if isinstance(body, dict) else None
        if not errors:
            return f"{VENDOR} refused the request ({response.status_code})"
        return "; ".join(str(error.get("message", "")) for error in errors)

    def _raise_refusal(self, response: httpx.Response) -> None:
        body = json_of(response, VENDOR)
        message = self._message(response)
        codes = {str(e.get("error_code")) for e in body.get("errors", []) or []}
        types = {str(e.get("error_type")) for e in body.get("errors", []) or []}
        if codes & ADDRESS_ERRORS and "validation" in types:
            raise AddressRefusedError(message)
        if response.status_code in (401, 403):
            raise CarrierError(f"{VENDOR} refused the API key: {message}")
        raise CarrierRefusedError(message)


def _address(address: Address, phone: str) -> dict[str, Any]:
    """ShipEngine requires a phone on both addresses (ours have none: the shop's is used,
    the number the carrier calls about a parcel) and a state or province."""
    if not address.region:
        raise AddressRefusedError(f"{VENDOR} needs the state or province of {address.city}")
    found = {
        "name": address.name,
        "phone": phone,
        "address_line1": address.line1,
        "city_locality": address.city,
        "state_province": address.region,
        "postal_code": address.postal_code,
        "country_code": address.country,
        "address_residential_indicator": "unknown",
    }
    if address.line2:
        found["address_line2"] = address.line2
    return found


def _event(event: Any) -> TrackingEvent:
    code = str(field(event, "status_code")).lower()
    detail = str(event.get("status_detail_code") or event.get("carrier_detail_code") or "")
    status = DETAILS.get(detail.upper(), STATUSES.get(code, TrackingStatus.IN_TRANSIT))
    occurred = str(field(event, "occurred_at")).replace("Z", "+00:00")
    try:
        at = datetime.fromisoformat(occurred)
    except ValueError as error:
        raise CarrierUnavailableError(f"{VENDOR} sent the time {occurred!r}") from error
    return TrackingEvent(
        status=status,
        carrier_code=str(field(event, "carrier_status_code")),
        at=at,
        description=str(event.get("description") or event.get("status_description") or ""),
    )


def _with_cost(label: Label, cost: Any) -> Label:
    """ShipEngine's ``shipment_cost`` leaves out confirmation and insurance: the label
    costs what its rate said, all parts together."""
    return Label(
        carrier=label.carrier,
        service=label.service,
        tracking_number=label.tracking_number,
        label_id=label.label_id,
        cost=cost,
        document=label.document,
    )
