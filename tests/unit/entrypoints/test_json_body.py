"""The strict body check on its own: depth on the bytes, integers, unknown fields anywhere."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.exceptions import ValidationException

from entrypoints.http.json_body import (
    MAX_DEPTH,
    MAX_INTEGER,
    _BodyType,
    is_json_media_type,
    nesting_depth,
)


class Line(msgspec.Struct):  # tolerant on purpose: the check must not rely on the struct
    sku: str
    quantity: int


class Card(msgspec.Struct, tag_field="type", tag="card"):
    token: str


class Transfer(msgspec.Struct, tag_field="type", tag="transfer"):
    reference: str


class Body(msgspec.Struct):
    lines: list[Line]
    method: Card | Transfer | None = None
    metadata: dict[str, str] = {}
    limit: Annotated[int, msgspec.Meta(le=10)] = 1


def refusal(body: bytes) -> dict[str, Any]:
    with pytest.raises(ValidationException) as refused:
        _BodyType(Body).check(body)
    [error] = refused.value.extra  # type: ignore[misc]
    assert isinstance(error, dict)
    return error


def test_a_strict_body_passes() -> None:
    body = b'{"lines": [{"sku": "A", "quantity": 1}], "method": {"type": "transfer", '
    body += b'"reference": "r"}, "metadata": {"any": "key"}}'
    _BodyType(Body).check(body)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"lines": [{"sku": "A", "quantity": "1"}]}', "lines[0].quantity"),
        (b'{"lines": [{"sku": "A", "quantity": 1.0}]}', "lines[0].quantity"),
        (b'{"lines": [{"sku": "A", "quantity": 1, "x": 1}]}', "lines[0].x"),
        (b'{"lines": [], "method": {"type": "card", "token": "t", "x": 1}}', "method.x"),
        (
            b'{"lines": [], "method": {"type": "card", "token": "t", "reference": "r"}}',
            "method.reference",
        ),
        (b'{"lines": [], "x": {"deep": 1}}', "x"),
        (b'{"lines": [{"sku": "A", "quantity": 9007199254740992}]}', "lines[0].quantity"),
        (b'{"lines": [], "metadata": {"k": 1}}', "metadata[...]"),  # msgspec's spelling
    ],
)
def test_refusals_name_the_field(body: bytes, key: str) -> None:
    assert refusal(body)["key"] == key


def test_integers_anywhere_are_bounded_even_where_the_type_allows_any() -> None:
    class Loose(msgspec.Struct):
        extra: Any = None

    _BodyType(Loose).check(b'{"extra": [%d]}' % MAX_INTEGER)
    with pytest.raises(ValidationException):
        _BodyType(Loose).check(b'{"extra": [%d]}' % (MAX_INTEGER + 1))


def test_not_utf8_and_too_deep_are_refused_before_decoding() -> None:
    assert "UTF-8" in refusal(b'{"lines": [{"sku": "\xff", "quantity": 1}]}')["message"]
    assert "deeper" in refusal(b"[" * 100_000 + b"]" * 100_000)["message"]


@given(
    st.recursive(
        st.none() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_nesting_depth_matches_the_decoded_value(value: Any) -> None:
    def depth(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert nesting_depth(msgspec.json.encode(value), stop_above=10_000) == depth(value)


def test_brackets_inside_strings_do_not_count() -> None:
    assert nesting_depth(b'{"a": "[[[[\\"[[[", "b": ["]]]"]}') == 2
    assert nesting_depth(b"[" * (MAX_DEPTH + 5)) == MAX_DEPTH + 1  # stops counting early


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ('application/json; charset="UTF-8"', True),
        ("application/problem+json", True),
        ("application/json; charset=latin-1", False),
        ("text/plain", False),
        ("", False),
        ("+json", False),
        ("application/jsonx", False),
    ],
)
def test_json_media_types(content_type: str, accepted: bool) -> None:
    assert is_json_media_type(content_type) is accepted
