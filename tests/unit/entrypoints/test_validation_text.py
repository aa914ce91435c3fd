"""A refused body is described in the client's words: the field by its JSON path, what
to send instead, never the validator's own phrasing."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.exceptions import ValidationException

from commerce_core.ordering.services import PlaceOrder
from entrypoints.http.json_body import _BodyType
from entrypoints.http.validation_text import errors_detail, field_sentence

ORDER = _BodyType(PlaceOrder)
VALID = {
    "customer": {"email": "ada@example.com"},
    "lines": [{"sku": "MUG-1", "quantity": 1}],
    "currency": "USD",
}
VALIDATOR_WORDS = ("Expected `", "Object missing", "msgspec", "Invalid enum", "$.", "`")


def refusal(body: bytes) -> ValidationException:
    with pytest.raises(ValidationException) as refused:
        ORDER.check(body)
    return refused.value


def test_a_field_of_the_wrong_type_is_named_by_its_json_path() -> None:
    body = {**VALID, "lines": [{"sku": "MUG-1", "quantity": "2"}]}

    refused = refusal(msgspec.json.encode(body))

    assert refused.detail == "lines[0].quantity must be an integer, not a string"
    # the validator's own message stays in the list, for clients matching on it
    assert refused.extra == [
        {"message": "Expected `int`, got `str`", "key": "lines[0].quantity", "source": "body"}
    ]


def test_a_missing_field_is_named_with_its_parent() -> None:
    refused = refusal(msgspec.json.encode({"customer": {}, "currency": "USD"}))

    assert refused.detail == "lines is required"


def test_an_enum_lists_the_values_it_takes() -> None:
    refused = refusal(msgspec.json.encode({**VALID, "payment_method": "cheque"}))

    assert refused.detail.startswith("payment_method 'cheque' is not one of the allowed values")
    assert "card, bank_transfer, cash_on_delivery" in refused.detail


@pytest.mark.parametrize("body", [b"", b"  \n", b"hello", b'{"lines": ', b"[]", b"3"])
def test_a_body_that_is_no_object_says_which_fields_to_send(body: bytes) -> None:
    refused = refusal(body)

    assert "JSON object with the fields customer (required), lines (required)" in refused.detail


def test_bounds_say_the_limit() -> None:
    assert (
        field_sentence("Expected `int` >= 1", "quantity")
        == "quantity must be an integer of at least 1"
    )
    assert field_sentence("Expected `str` of length <= 3", "currency") == (
        "currency must have at most 3 characters"
    )
    assert (
        field_sentence("a quantity is positive", "lines[0]") == "lines[0]: a quantity is positive"
    )


def test_query_parameters_are_text_so_their_type_is_not_named() -> None:
    errors = [{"message": "Expected `int`, got `str`", "key": "limit", "source": "query"}]

    assert errors_detail(errors) == "query parameter limit must be an integer"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = st.sampled_from(
    ["customer", "lines", "currency", "payment_method", "channel", "metadata"]
)


@given(st.dictionaries(_FIELDS, _JSON, max_size=4).map(lambda spoiled: {**VALID, **spoiled}))
def test_no_refusal_speaks_the_validators_language(body: dict[str, Any]) -> None:
    refused = _refusal_or_none(msgspec.json.encode(body))
    if refused is None:
        return
    key = refused.extra[0]["key"]  # type: ignore[index]
    assert refused.detail.startswith(key or "the body"), (key, refused.detail)
    said = refused.detail.removeprefix(key)  # the client's own names may hold anything
    assert not [w for w in VALIDATOR_WORDS if w in said], refused.detail


def _refusal_or_none(body: bytes) -> ValidationException | None:
    try:
        ORDER.check(body)
    except ValidationException as refused:
        return refused
    return None
