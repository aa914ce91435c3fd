"""The pure rules of merchant webhooks: URLs, event patterns, signatures, backoff."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.merchant_webhooks.endpoints import SigningSecrets
from commerce_core.merchant_webhooks.events import EVENT_TYPES, check_patterns, matches
from commerce_core.merchant_webhooks.schedule import (
    FIRST_DELAY,
    GIVE_UP_AFTER,
    LONGEST_DELAY,
    backoff,
    next_attempt_at,
)
from commerce_core.merchant_webhooks.signing import signature, signature_header
from commerce_core.merchant_webhooks.urls import (
    AddressRefusedError,
    UrlRules,
    check_address,
    parse_url,
)
from commerce_core.shared.errors import InvalidValueError
from tests.integration.merchant_webhooks.receiver import verify

STRICT = UrlRules()
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "0.0.0.0",
        "::ffff:10.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_private_link_local_and_metadata_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressRefusedError):
        check_address(ipaddress.ip_address(address), STRICT)


def test_a_setting_allows_private_addresses_but_never_multicast_or_unspecified() -> None:
    rules = UrlRules(allow_private=True)
    check_address(ipaddress.ip_address("10.0.0.1"), rules)
    check_address(ipaddress.ip_address("127.0.0.1"), rules)
    for address in ("0.0.0.0", "224.0.0.1"):
        with pytest.raises(AddressRefusedError):
            check_address(ipaddress.ip_address(address), rules)


def test_public_https_urls_are_accepted_and_http_only_on_loopback_or_when_allowed() -> None:
    assert parse_url("https://shop.example.com:8443/in?x=1", STRICT).port == 8443
    assert parse_url("https://93.184.216.34/in", STRICT).host == "93.184.216.34"
    with pytest.raises(InvalidValueError, match="https"):
        parse_url("http://shop.example.com/in", STRICT)
    assert parse_url("http://shop.example.com/in", UrlRules(allow_http=True)).port == 80
    loopback = UrlRules(allow_private=True)
    assert parse_url("http://127.0.0.1:9000/in", loopback).port == 9000


@given(st.text(max_size=300))
def test_any_text_is_either_a_parsed_url_or_a_validation_error(text: str) -> None:
    try:
        parsed = parse_url(text, STRICT)
    except InvalidValueError:
        return
    assert parsed.scheme == "https"
    assert 0 < parsed.port < 65536


def test_patterns_name_known_types_and_families() -> None:
    assert check_patterns(["order.*", "order.*", "payment.failed"]) == ["order.*", "payment.failed"]
    assert matches("*", "customer.erased")
    assert matches("order.*", "order.paid")
    assert not matches("order.*", "orders.paid")
    assert not matches("order.paid", "order.placed")
    for bad in (["order.exploded"], ["refund.*"], []):
        with pytest.raises(InvalidValueError, match="events"):
            check_patterns(bad)


@given(st.sampled_from(sorted(EVENT_TYPES)))
def test_each_known_type_is_matched_by_its_family_and_itself(event_type: str) -> None:
    family = event_type.split(".")[0] + ".*"
    assert check_patterns([family, event_type]) == [family, event_type]
    assert matches(family, event_type)
    assert matches(event_type, event_type)


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=2**33))
def test_the_documented_snippet_verifies_what_the_service_signs(body: bytes, t: int) -> None:
    header = signature_header(["whsec_a"], t, body)
    assert verify("whsec_a", header, body, now=t)
    assert not verify("whsec_b", header, body, now=t)
    assert not verify("whsec_a", header, body + b" ", now=t)
    assert not verify("whsec_a", header, body, now=t + 301)  # stale: a replay


def test_during_a_rotation_both_secrets_sign() -> None:
    secrets = SigningSecrets(current="old").rotated("new", T0)
    assert secrets.signing(T0) == ["new", "old"]
    assert secrets.signing(T0 + timedelta(hours=24)) == ["new"]
    header = signature_header(secrets.signing(T0), 1700000000, b"{}")
    assert header.split(",")[1:] == [
        f"v1={signature('new', 1700000000, b'{}')}",
        f"v1={signature('old', 1700000000, b'{}')}",
    ]
    assert verify("old", header, b"{}", now=1700000000)
    assert "old" not in repr(secrets)
    assert "new" not in str(secrets)


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0.0, max_value=2.0))
def test_backoff_grows_and_stays_within_its_bounds(attempts: int, jitter: float) -> None:
    delay = backoff(attempts, jitter)
    assert FIRST_DELAY / 2 <= delay <= LONGEST_DELAY
    assert backoff(attempts + 1, 1.0) >= backoff(attempts, 1.0)


def test_retries_stop_three_days_after_the_first_attempt() -> None:
    at, attempts = T0, 0
    while True:
        attempts += 1
        upcoming = next_attempt_at(T0, attempts, at, lambda: 1.0)
        if upcoming is None:
            break
        assert upcoming - T0 <= GIVE_UP_AFTER
        at = upcoming
    assert attempts > 10  # many tries first
    assert T0 + GIVE_UP_AFTER - at < LONGEST_DELAY
