"""UPS direct, over its REST APIs (OAuth client credentials, Rating, Shipping, Tracking).

- OAuth: ``POST /security/v1/oauth/token`` with the client id and secret (basic auth); the
  token is kept until ``REFRESH_BEFORE`` its expiry, then fetched again; a 401 from an API
  (a token UPS ended early) fetches a new one and asks once more.
- Rating: ``POST /api/rating/v2409/Shop`` rates every service at once.
- Shipping: ``POST /api/shipments/v2409/ship`` (label as PNG, base64 in the answer) and
  ``DELETE /api/shipments/v2409/void/cancel/{id}``.
- Tracking: ``GET /api/track/v1/details/{tracking number}``.

UPS takes no idempotency key: a key is remembered by this adapter for as long as it lives
(a retry in the same process returns the first label); across restarts see ADR 0028.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx

from adapters.carriers.calls import TIMEOUT, as_list, field, json_of, money, send
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

SANDBOX = "https://wwwcie.ups.com"
PRODUCTION = "https://onlinetools.ups.com"
VERSION = "v2409"
VENDOR = "UPS"
REFRESH_BEFORE = timedelta(minutes=5)

SERVICES = {
    "01": "UPS Next Day Air",
    "02": "UPS 2nd Day Air",
    "03": "UPS Ground",
    "07": "UPS Worldwide Express",
    "08": "UPS Worldwide Expedited",
    "11": "UPS Standard",
    "12": "UPS 3 Day Select",
    "13": "UPS Next Day Air Saver",
    "14": "UPS Next Day Air Early",
    "54": "UPS Worldwide Express Plus",
    "59": "UPS 2nd Day Air A.M.",
    "65": "UPS Worldwide Saver",
}
STATUSES = {
    "M": TrackingStatus.PRE_TRANSIT,  # billing information received
    "MV": TrackingStatus.PRE_TRANSIT,
    "P": TrackingStatus.IN_TRANSIT,  # picked up
    "I": TrackingStatus.IN_TRANSIT,
    "W": TrackingStatus.IN_TRANSIT,  # in a warehouse
    "O": TrackingStatus.OUT_FOR_DELIVERY,
    "D": TrackingStatus.DELIVERED,
    "DO": TrackingStatus.DELIVERED,
    "DD": TrackingStatus.DELIVERED,
    "X": TrackingStatus.EXCEPTION,
    "RS": TrackingStatus.RETURNED_TO_SENDER,
}
SERVICE_ERRORS = {"111100", "111210", "111217", "120119"}
"""Service invalid from the origin, unavailable between the places, not for this weight."""
ADDRESS_ERRORS = {"120802", "120803", "120206", "120208", "120209", "120210"}
"""Address validation failed, or a postal code, city or state the country does not have."""


class UpsCarrier:
    """The ``Carrier`` port on UPS. ``base_url`` is the sandbox (``SANDBOX``), production
    (``PRODUCTION``) or a test server; ``clock`` times the token."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        account_number: str,
        clock: Clock,
        base_url: str = SANDBOX,
        name: str = "ups",
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._name = name
        self._base = base_url.rstrip("/")
        pair = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic = f"Basic {pair}"
        self._account = account_number
        self._clock = clock
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT)
        self._token: tuple[str, datetime] | None = None
        self._by_key: dict[str, Label] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def deduplicates(self) -> bool:
        # UPS takes no idempotency key; keys are remembered by this object only
        return False

    async def aclose(self) -> None:
        await self._client.aclose()

    async def quote(
        self, *, ship_from: Address, ship_to: Address, parcel: Parcel, currency: str
    ) -> list[Quote]:
        request = {
            "RateRequest": {
                "Request": {"RequestOption": "Shop"},
                "Shipment": self._shipment(ship_from, ship_to, parcel),
            }
        }
        answer = await self._api("POST", f"/api/rating/{VERSION}/Shop", request)
        rated = as_list(field(answer, "RateResponse", "RatedShipment"))
        return [self._quote(shipment, currency) for shipment in rated]

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
        if (bought := self._by_key.get(idempotency_key)) is not None:
            return bought
        if service not in SERVICES:
            raise UnsupportedServiceError(f"{VENDOR} has no service {service!r}")
        shipment = self._shipment(ship_from, ship_to, parcel)
        shipment["Description"] = reference[:50]
        shipment["Service"] = {"Code": service}
        shipment["PaymentInformation"] = {
            "ShipmentCharge": [{"Type": "01", "BillShipper": {"AccountNumber": self._account}}]
        }
        request = {
            "ShipmentRequest": {
                "Request": {
                    "RequestOption": "nonvalidate",
                    "TransactionReference": {"CustomerContext": reference[:512]},
                },
                "Shipment": shipment,
                "LabelSpecification": {
                    "LabelImageFormat": {"Code": "PNG"},
                    "LabelStockSize": {"Height": "6", "Width": "4"},
                },
            }
        }
        answer = await self._api("POST", f"/api/shipments/{VERSION}/ship", request)
        results = field(answer, "ShipmentResponse", "ShipmentResults")
        package = as_list(field(results, "PackageResults"))[0]
        image = field(package, "ShippingLabel")
        charges = field(results, "ShipmentCharges", "TotalCharges")
        label = Label(
            carrier=self._name,
            service=service,
            tracking_number=field(package, "TrackingNumber"),
            label_id=field(results, "ShipmentIdentificationNumber"),
            cost=money(field(charges, "MonetaryValue"), field(charges, "CurrencyCode")),
            document=LabelDocument(
                format=_format(field(image, "ImageFormat", "Code")),
                content=_decoded(field(image, "GraphicImage")),
            ),
        )
        self._by_key[idempotency_key] = label
        return label

    async def void_label(self, label_id: str) -> None:
        try:
            answer = await self._api("DELETE", f"/api/shipments/{VERSION}/void/cancel/{label_id}")
        except CarrierRefusedError as error:
            raise LabelNotVoidableError(str(error)) from error
        status = field(answer, "VoidShipmentResponse", "SummaryResult", "Status")
        if str(status.get("Code")) != "1":
            raise LabelNotVoidableError(f"{VENDOR} did not void {label_id}: {status}")

    async def track(self, tracking_number: str) -> list[TrackingEvent]:
        try:
            answer = await self._api(
                "GET", f"/api/track/v1/details/{tracking_number}", params={"locale": "en_US"}
            )
        except CarrierRefusedError as error:
            raise UnknownTrackingNumberError(str(error)) from error
        events = []
        for shipment in as_list(field(answer, "trackResponse", "shipment")):
            for package in as_list(shipment.get("package", [])):
                events += [_event(activity) for activity in as_list(package.get("activity", []))]
        return sorted(events, key=lambda event: event.at)

    def _quote(self, rated: Any, currency: str) -> Quote:
        code = str(field(rated, "Service", "Code"))
        charges = field(rated, "TotalCharges")
        rate = money(field(charges, "MonetaryValue"), field(charges, "CurrencyCode"))
        if rate.currency != currency:
            raise CarrierRefusedError(f"{VENDOR} rates this account in {rate.currency}")
        days = (rated.get("GuaranteedDelivery") or {}).get("BusinessDaysInTransit")
        return Quote(
            carrier=self._name,
            service=code,
            service_name=SERVICES.get(code, f"UPS service {code}"),
            rate=rate,
            delivery_days=int(days) if days and str(days).isdigit() else None,
        )

    def _shipment(self, ship_from: Address, ship_to: Address, parcel: Parcel) -> dict[str, Any]:
        package: dict[str, Any] = {
            # the shipper's own box; Rating's schema names it ``Packaging`` too (its examples
            # say ``PackagingType``): the schema wins
            "Packaging": {"Code": "02"},
            "PackageWeight": {
                "UnitOfMeasurement": {"Code": "KGS"},
                "Weight": _decimal(Decimal(parcel.weight_grams) / 1000),
            },
        }
        if parcel.length_mm and parcel.width_mm and parcel.height_mm:
            package["Dimensions"] = {
                "UnitOfMeasurement": {"Code": "CM"},
                # whole centimetres, rounded up: the spec allows 3 characters
                "Length": str(-(-parcel.length_mm // 10)),
                "Width": str(-(-parcel.width_mm // 10)),
                "Height": str(-(-parcel.height_mm // 10)),
            }
        return {
            "Shipper": {
                "Name": ship_from.name[:35],
                "ShipperNumber": self._account,
                "Address": _address(ship_from),
            },
            "ShipFrom": {"Name": ship_from.name[:35], "Address": _address(ship_from)},
            "ShipTo": {"Name": ship_to.name[:35], "Address": _address(ship_to)},
            "Package": [package],
        }

    async def _api(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        for attempt in range(2):
            headers = {
                "Authorization": f"Bearer {await self._access_token()}",
                "transId": uuid4().hex[:32],
                "transactionSrc": "commerce-core",
            }
            request = self._client.build_request(
                method, f"{self._base}{path}", json=body, params=params, headers=headers
            )
            response = await send(self._client, VENDOR, request)
            if response.status_code == 401 and attempt == 0:
                self._token = None  # UPS ended the token early: a new one, once
                continue
            if response.status_code >= 400:
                _raise_refusal(response)
            return json_of(response, VENDOR)
        raise CarrierError(f"{VENDOR} refused a fresh token")

    async def _access_token(self) -> str:
        now = self._clock.now()
        if self._token is not None and now < self._token[1]:
            return self._token[0]
        request = self._client.build_request(
            "POST",
            f"{self._base}/security/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"x-merchant-id": self._account, "Authorization": self._basic},
        )
        response = await send(self._client, VENDOR, request)
        if response.status_code != 200:
            raise CarrierError(f"{VENDOR} refused the credentials: {_message(response)}")
        answer = json_of(response, VENDOR)
        lifetime = str(field(answer, "expires_in"))
        if not lifetime.isdigit():
            raise CarrierUnavailableError(f"{VENDOR} sent a token lifetime of {lifetime!r}")
        expires = now + timedelta(seconds=int(lifetime)) - REFRESH_BEFORE
        self._token = (str(field(answer, "access_token")), expires)
        return self._token[0]


def _address(address: Address) -> dict[str, Any]:
    lines = [address.line1[:35], *([address.line2[:35]] if address.line2 else [])]
    found: dict[str, Any] = {
        "AddressLine": lines,
        "City": address.city[:30],
        "PostalCode": address.postal_code[:9],
        "CountryCode": address.country,
    }
    if address.region:
        found["StateProvinceCode"] = address.region[:5]
    return found


def _decimal(value: Decimal) -> str:
    """UPS weights and sizes: a decimal string, at most one decimal place, rounded up."""
    return str(max(value, Decimal("0.1")).quantize(Decimal("0.1"), rounding="ROUND_CEILING"))


def _format(code: str) -> LabelFormat:
    try:
        return LabelFormat(code.lower())
    except ValueError as error:
        raise CarrierUnavailableError(f"{VENDOR} sent a label as {code!r}") from error


def _decoded(image: str) -> bytes:
    try:
        return base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CarrierUnavailableError(f"{VENDOR} sent a label that is not base64") from error


def _event(activity: Any) -> TrackingEvent:
    status = field(activity, "status")
    kind = str(status.get("type", ""))
    stamp = f"{field(activity, 'gmtDate')}{field(activity, 'gmtTime')}".replace(":", "")
    try:
        at = datetime.strptime(stamp + "+0000", "%Y%m%d%H%M%S%z")
    except ValueError as error:
        raise CarrierUnavailableError(f"{VENDOR} sent the time {stamp!r}") from error
    return TrackingEvent(
        status=STATUSES.get(kind, TrackingStatus.IN_TRANSIT),
        carrier_code=f"{kind}:{status.get('code', '')}",
        at=at,
        description=str(status.get("description", "")).strip(),
    )


def _message(response: httpx.Response) -> str:
    body = json_of(response, VENDOR)
    errors = (body.get("response") or {}).get("errors") if isinstance(body, dict) else None
    if not errors:
        return f"{VENDOR} refused the request ({response.status_code})"
    return "; ".join(f"{error.get('code')}: {error.get('message')}" for error in errors)


def _raise_refusal(response: httpx.Response) -> None:
    body = json_of(response, VENDOR)
    errors = (body.get("response") or {}).get("errors") or [] if isinstance(body, dict) else []
    codes = {str(error.get("code")) for error in errors}
    message = _message(response)
    if response.status_code == 429:
        raise CarrierUnavailableError(f"{VENDOR} is limiting requests: {message}")
    if codes & SERVICE_ERRORS:
        raise UnsupportedServiceError(message)
    if codes & ADDRESS_ERRORS:
        raise AddressRefusedError(message)
    raise CarrierRefusedError(message)
