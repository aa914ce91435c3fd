"""Carriers' tracking webhooks: the shared secret each vendor documents, and their bodies.

The UPS bodies are the examples of the ``TrackingEvent`` webhook in UPS's published
``UPSTrackAlert.yaml`` (UPS-API/api-documentation), kept as the spec gives them (one
has a leading space in its tracking number). ShipEngine's body is the shape its
``track`` webhook sends: ``resource_type`` ``API_TRACK`` and the spec's
``tracking_information`` as ``data``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from adapters.carriers.tracking_webhooks import ShipEngineTrackingWebhooks, UpsTrackAlertWebhooks
from commerce_core.fulfilment.ports import TrackingStatus
from commerce_core.fulfilment.tracking import TrackingWebhookError
from commerce_core.payments.ports.webhooks import InvalidSignatureError

SECRET = "a-long-webhook-secret-0123456789"
UPS = UpsTrackAlertWebhooks()
SHIPENGINE = ShipEngineTrackingWebhooks()

UPS_MANIFEST = {
    "activityLocation": {"city": "", "country": "US", "postalCode": "", "stateProvince": ""},
    "activityStatus": {
        "code": "MP",
        "description": "Shipment Ready for UPS",
        "descriptionCode": "003",
        "type": "M",
    },
    "actualDeliveryDate": "",
    "actualDeliveryTime": "",
    "deliveryEndTime": "",
    "deliveryPhoto": "",
    "deliveryStartTime": "",
    "deliveryTimeDescription": "",
    "gmtActivityDate": "20240422",
    "gmtActivityTime": "041230",
    "localActivityDate": "20240422",
    "localActivityTime": "091230",
    "scheduledDeliveryDate": "",
    "trackingNumber": " 1ZABCXYZ0112346789",
}
UPS_OUT_FOR_DELIVERY = {
    "trackingNumber": "1Z204W4R0308071865",
    "localActivityDate": "20240423",
    "localActivityTime": "091519",
    "activityLocation": {
        "city": "Charlotte",
        "stateProvince": "NC",
        "postalCode": "",
        "country": "US",
    },
    "activityStatus": {
        "type": "I",
        "code": "OT",
        "description": "Out for Delivery",
        "descriptionCode": "021",
    },
    "scheduledDeliveryDate": "20240423",
    "actualDeliveryDate": "",
    "actualDeliveryTime": "",
    "gmtActivityDate": "20240423",
    "gmtActivityTime": "131519",
    "deliveryStartTime": "",
    "deliveryEndTime": "",
    "deliveryTimeDescription": "end of day",
}
UPS_DELIVERED = {
    **UPS_OUT_FOR_DELIVERY,
    "activityStatus": {
        "type": "D",
        "code": "FS",
        "description": "Delivered",
        "descriptionCode": "011",
    },
    "gmtActivityTime": "135004",
}
SHIPENGINE_TRACK = {
    "resource_url": "https://api.shipengine.com/v1/tracking?carrier_code=usps&tracking_number=9405511899223197428490",
    "resource_type": "API_TRACK",
    "data": {
        "tracking_number": "9405511899223197428490",
        "status_code": "DE",
        "status_description": "Delivered",
        "carrier_status_code": "1",
        "actual_delivery_date": "2026-12-03T15:10:00Z",
        "events": [
            {
                "occurred_at": "2026-12-02T08:00:00Z",
                "status_code": "IT",
                "carrier_status_code": "10",
                "description": "Departed USPS facility",
            },
            {
                "occurred_at": "2026-12-03T07:05:00Z",
                "status_code": "IT",
                "status_detail_code": "OUT_FOR_DELIVERY",
                "carrier_status_code": "OF",
                "description": "Out for delivery",
            },
            {
                "occurred_at": "2026-12-03T15:10:00Z",
                "status_code": "DE",
                "carrier_status_code": "01",
                "description": "Delivered, In/At Mailbox",
            },
        ],
    },
}


def body(value: object) -> bytes:
    return msgspec.json.encode(value)


def test_ups_events_carry_the_subscriptions_credential_header() -> None:
    event = UPS.verify(body(UPS_DELIVERED), SECRET, [SECRET])

    assert (event.gateway, event.event_id, event.type) == (
        "carrier:ups",
        "1Z204W4R0308071865:20240423135004:D:FS",
        "D:FS",
    )
    assert UPS.credential_header == "credential"


@pytest.mark.parametrize("credential", [None, "", "wrong", SECRET[:-1]])
def test_a_missing_or_wrong_credential_is_refused(credential: str | None) -> None:
    with pytest.raises(InvalidSignatureError):
        UPS.verify(body(UPS_DELIVERED), credential, [SECRET])


def test_nothing_is_accepted_without_a_secret_configured() -> None:
    with pytest.raises(InvalidSignatureError):
        SHIPENGINE.verify(body(SHIPENGINE_TRACK), "", [])


def test_ups_examples_translate_to_our_statuses() -> None:
    manifest = UPS.translate(body(UPS_MANIFEST))
    out = UPS.translate(body(UPS_OUT_FOR_DELIVERY))
    delivered = UPS.translate(body(UPS_DELIVERED))

    assert manifest is not None
    assert out is not None
    assert delivered is not None
    assert manifest.tracking_number == "1ZABCXYZ0112346789"
    assert [s.status for s in manifest.scans] == [TrackingStatus.PRE_TRANSIT]
    assert [s.status for s in out.scans] == [TrackingStatus.OUT_FOR_DELIVERY]
    assert [(s.status, s.at) for s in delivered.scans] == [
        (TrackingStatus.DELIVERED, datetime(2024, 4, 23, 13, 50, 4, tzinfo=UTC))
    ]


def test_a_ups_schedule_update_moves_nothing() -> None:
    update = {**UPS_DELIVERED, "activityStatus": {"type": "U", "code": "SD", "description": "x"}}

    news = UPS.translate(body(update))

    assert news is not None
    assert news.scans == []


def test_shipengine_track_events_become_scans_in_its_statuses() -> None:
    event = SHIPENGINE.verify(body(SHIPENGINE_TRACK), SECRET, [SECRET])
    news = SHIPENGINE.translate(event.payload)

    assert news is not None
    assert news.tracking_number == "9405511899223197428490"
    assert [s.status for s in news.scans] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
        TrackingStatus.DELIVERED,  # the summary's delivery: the same scan, recorded once
    ]
    assert SHIPENGINE.credential_query == "secret"


def test_other_shipengine_webhooks_are_not_tracking() -> None:
    assert SHIPENGINE.translate(body({"resource_type": "API_BATCH", "resource_url": "x"})) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        body({"resource_type": "API_TRACK"}),
        body({"resource_type": "API_TRACK", "data": {"tracking_number": "1", "events": [{}]}}),
        body(
            {
                "resource_type": "API_TRACK",
                "data": {
                    "tracking_number": "1",
                    "events": [{"occurred_at": "yesterday", "status_code": "IT"}],
                },
            }
        ),
        body(
            {
                "resource_type": "API_TRACK",
                "data": {
                    "tracking_number": "1",
                    "events": [{"occurred_at": "2026-12-02T08:00:00", "status_code": "IT"}],
                },
            }
        ),
    ],
)
def test_unreadable_shipengine_bodies_are_refused_once_signed(payload: bytes) -> None:
    with pytest.raises(TrackingWebhookError):
        SHIPENGINE.verify(payload, SECRET, [SECRET])


@pytest.mark.parametrize(
    "changes",
    [{"gmtActivityDate": "2024-04-23"}, {"gmtActivityTime": "99"}, {"trackingNumber": 5}],
)
def test_unreadable_ups_bodies_are_refused_once_signed(changes: dict[str, object]) -> None:
    with pytest.raises(TrackingWebhookError):
        UPS.verify(body({**UPS_DELIVERED, **changes}), SECRET, [SECRET])
