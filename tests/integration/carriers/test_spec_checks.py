"""The spec checks themselves refuse what the vendors' specs refuse (else the adapters'
tests would pass on anything)."""

from __future__ import annotations

import json

from tests.integration.carriers.worlds import SHIPENGINE_SPEC, UPS_SPEC

JSON = {"content-type": "application/json", "api-key": "k"}


def test_a_shipengine_label_without_a_shipment_is_refused() -> None:
    problems = SHIPENGINE_SPEC.check_request(
        "POST", "/v1/labels", {}, JSON, b'{"label_format": "pdf"}'
    )

    assert any('"shipment" is a required property' in problem for problem in problems)


def test_an_unknown_shipengine_field_is_refused() -> None:
    body = json.dumps({"shipment_id": "se-1", "teleport": True}).encode()

    assert SHIPENGINE_SPEC.check_request("POST", "/v1/rates", {}, JSON, body)


def test_a_ups_package_size_longer_than_the_spec_allows_is_refused() -> None:
    body = {
        "RateRequest": {
            "Request": {},
            "Shipment": {"Package": [{"Dimensions": {"Length": "60.0"}}]},
        }
    }
    headers = {"content-type": "application/json", "transid": "1", "transactionsrc": "t"}

    problems = UPS_SPEC.check_request(
        "POST", "/api/rating/v2409/Shop", {}, headers, json.dumps(body).encode()
    )

    assert any("longer than 3 characters" in problem for problem in problems)


def test_ups_tracking_without_its_required_headers_is_refused() -> None:
    problems = UPS_SPEC.check_request("GET", "/api/track/v1/details/1Z", {}, {}, b"")

    assert "header parameter transId is required" in problems


def test_an_answer_missing_a_required_field_is_reported() -> None:
    answer = SHIPENGINE_SPEC.example("put", "/v1/labels/se-1/void")
    del answer["approved"]

    assert SHIPENGINE_SPEC.check_response("PUT", "/v1/labels/se-1/void", 200, answer)
