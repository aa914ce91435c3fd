"""Carriers' tracking webhooks: ShipEngine's ``track`` webhook and UPS Track Alert.

Both authenticate with a shared secret, as each vendor documents:

- **ShipEngine**: a webhook is only a URL (``POST /v1/environment/webhooks``
  ``{"event": "track", "url"}`` in its published spec, no signing secret), so the secret
  travels in the URL we register: ``.../webhooks/carriers/shipengine/{tenant}?secret=``.
  The body is ``{"resource_url", "resource_type": "API_TRACK", "data": <tracking
  information>}``; its event id is the body's SHA-256 (ShipEngine sends none).
- **UPS Track Alert**: the subscription's ``destination.credential`` comes back in the
  ``credential`` header of every event (its spec's ``TrackingEvent`` webhook); the body
  is one scan. Its event id is the tracking number, the GMT time and the status.

Secrets are compared in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, TypeVar

import msgspec

from adapters.carriers import shipengine, ups
from commerce_core.fulfilment.ports import TrackingEvent, TrackingStatus
from commerce_core.fulfilment.tracking import ParcelScans, TrackingWebhookError
from commerce_core.payments.ports.webhooks import InvalidSignatureError, ReceivedWebhook

T = TypeVar("T")


def _check(credential: str | None, secrets: Sequence[str]) -> None:
    given = (credential or "").encode()
    if not given or not any(
        secret and hmac.compare_digest(given, secret.encode()) for secret in secrets
    ):
        raise InvalidSignatureError("the request does not carry this carrier's webhook secret")


def _decode(payload: bytes, kind: type[T], vendor: str) -> T:
    try:
        return msgspec.json.decode(payload, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise TrackingWebhookError(f"not a {vendor} tracking event: {error}") from None


def _time(text: str, vendor: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TrackingWebhookError(f"{vendor} sent the time {text!r}") from None
    if at.tzinfo is None:
        raise TrackingWebhookError(f"{vendor} sent the time {text!r} without its zone")
    return at


class _ShipEngineEvent(msgspec.Struct, kw_only=True):
    occurred_at: str
    status_code: str | None = None
    status_detail_code: str | None = None
    carrier_detail_code: str | None = None
    carrier_status_code: str | None = None
    description: str | None = None


class _ShipEngineTracking(msgspec.Struct, kw_only=True):
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    status_code: str | None = None
    status_detail_code: str | None = None
    status_description: str | None = None
    actual_delivery_date: str | None = None
    events: list[_ShipEngineEvent] = msgspec.field(default_factory=list)


class _ShipEngineBody(msgspec.Struct, kw_only=True):
    resource_type: str
    data: _ShipEngineTracking | None = None
    resource_url: str | None = None


TRACK = "API_TRACK"


class ShipEngineTrackingWebhooks:
    carrier: str = "shipengine"
    gateway: str = "carrier:shipengine"
    credential_header: str | None = None
    credential_query: str | None = "secret"

    def verify(
        self, payload: bytes, credential: str | None, secrets: Sequence[str]
    ) -> ReceivedWebhook:
        _check(credential, secrets)
        body = _decode(payload, _ShipEngineBody, "ShipEngine")
        self.translate(payload)  # refuse at once what the worker could never read
        return ReceivedWebhook(
            gateway=self.gateway,
            event_id=hashlib.sha256(payload).hexdigest(),
            type=body.resource_type,
            payload=payload,
        )

    def translate(self, payload: bytes) -> ParcelScans | None:
        body = _decode(payload, _ShipEngineBody, "ShipEngine")
        if body.resource_type != TRACK:
            return None
        if body.data is None:
            raise TrackingWebhookError("a ShipEngine track event needs its data")
        data = body.data
        scans = [_shipengine_scan(event) for event in data.events if event.status_code]
        if data.status_code and data.actual_delivery_date:  # the summary's own delivery
            status = _shipengine_status(data.status_code, data.status_detail_code)
            if status is TrackingStatus.DELIVERED:
                at = _time(data.actual_delivery_date, "ShipEngine")
                scans.append(
                    TrackingEvent(
                        status=status,
                        carrier_code=data.status_code,
                        at=at,
                        description=data.status_description or "",
                    )
                )
        return ParcelScans(
            carrier=self.carrier, tracking_number=data.tracking_number.strip(), scans=scans
        )


def _shipengine_status(code: str, detail: str | None) -> TrackingStatus:
    found = shipengine.DETAILS.get((detail or "").upper())
    return found or shipengine.STATUSES.get(code.lower(), TrackingStatus.IN_TRANSIT)


def _shipengine_scan(event: _ShipEngineEvent) -> TrackingEvent:
    detail = event.status_detail_code or event.carrier_detail_code
    return TrackingEvent(
        status=_shipengine_status(event.status_code or "", detail),
        carrier_code=event.carrier_status_code or event.status_code or "",
        at=_time(event.occurred_at, "ShipEngine"),
        description=event.description or "",
    )


class _UpsStatus(msgspec.Struct, kw_only=True):
    type: str = ""
    code: str = ""
    description: str = ""


class _UpsEvent(msgspec.Struct, kw_only=True, rename="camel"):
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    gmt_activity_date: Annotated[str, msgspec.Meta(pattern=r"^\d{8}$")]  # the spec's YYYYMMDD
    gmt_activity_time: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]  # and HHMMSS
    activity_status: _UpsStatus


OUT_FOR_DELIVERY_CODES = frozenset({"OT", "OF"})
"""UPS status codes of a parcel on the delivery vehicle (type ``I``, "Out for Delivery")."""
RETURN_CODES = frozenset({"RS"})


class UpsTrackAlertWebhooks:
    carrier: str = "ups"
    gateway: str = "carrier:ups"
    credential_header: str | None = "credential"
    credential_query: str | None = None

    def verify(
        self, payload: bytes, credential: str | None, secrets: Sequence[str]
    ) -> ReceivedWebhook:
        _check(credential, secrets)
        event = _decode(payload, _UpsEvent, "UPS Track Alert")
        self.translate(payload)
        status = event.activity_status
        stamp = f"{event.gmt_activity_date}{event.gmt_activity_time}"
        return ReceivedWebhook(
            gateway=self.gateway,
            event_id=f"{event.tracking_number.strip()}:{stamp}:{status.type}:{status.code}"[:200],
            type=f"{status.type}:{status.code}",
            payload=payload,
        )

    def translate(self, payload: bytes) -> ParcelScans | None:
        event = _decode(payload, _UpsEvent, "UPS Track Alert")
        stamp = f"{event.gmt_activity_date}{event.gmt_activity_time}"
        try:
            at = datetime.strptime(stamp + "+0000", "%Y%m%d%H%M%S%z")
        except ValueError:
            raise TrackingWebhookError(f"UPS Track Alert sent the time {stamp!r}") from None
        status = _ups_status(event.activity_status)
        scans = []
        if status is not None:
            scans.append(
                TrackingEvent(
                    status=status,
                    carrier_code=f"{event.activity_status.type}:{event.activity_status.code}",
                    at=at,
                    description=event.activity_status.description.strip(),
                )
            )
        return ParcelScans(
            carrier=self.carrier, tracking_number=event.tracking_number.strip(), scans=scans
        )


def _ups_status(status: _UpsStatus) -> TrackingStatus | None:
    """``U`` (an update of the scheduled delivery) moves nothing."""
    if status.code in OUT_FOR_DELIVERY_CODES:
        return TrackingStatus.OUT_FOR_DELIVERY
    if status.code in RETURN_CODES:
        return TrackingStatus.RETURNED_TO_SENDER
    return ups.STATUSES.get(status.type)
