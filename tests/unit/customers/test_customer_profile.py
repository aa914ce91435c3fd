"""Customer profile values: what is accepted, and how it is stored and looked up."""

from __future__ import annotations

import pytest

from commerce_core.customers import profile
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.values import Address

HOME = Address(name="Ada", line1="1 Main St", city="London", postal_code="N1", country="GB")


def test_an_email_is_trimmed_and_its_domain_lower_cased() -> None:
    assert profile.normalize_email("  Ada.L@Example.COM ") == "Ada.L@example.com"


def test_every_spelling_of_one_mailbox_has_one_lookup_key() -> None:
    keys = {profile.email_lookup_key(e) for e in ("ada@example.com", " ADA@Example.com")}

    assert keys == {"ada@example.com"}


@pytest.mark.parametrize(
    "email",
    ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada@@example.com",
     "ada@example..com", "x" * 65 + "@example.com", "ada@" + "x" * 250 + ".com"],
)  # fmt: skip
def test_what_is_not_an_email_is_refused(email: str) -> None:
    with pytest.raises(InvalidValueError):
        profile.normalize_email(email)


def test_names_are_trimmed_and_must_be_printable() -> None:
    assert profile.check_name("  Ada Lovelace ") == "Ada Lovelace"
    for bad in ("", "   ", "Ada\x00", "x" * (profile.MAX_NAME + 1)):
        with pytest.raises(InvalidValueError):
            profile.check_name(bad)


def test_phone_numbers_take_common_separators() -> None:
    assert profile.check_phone(" +44 (20) 7946-0958 ") == "+44 (20) 7946-0958"
    for bad in ("", "1234", "call me", "+44 20 7946 0958 0000 0000", "++4420794609"):
        with pytest.raises(InvalidValueError):
            profile.check_phone(bad)


def test_tags_are_lower_cased_and_deduplicated_in_order() -> None:
    assert profile.normalize_tags(["VIP", " wholesale", "vip"]) == ["vip", "wholesale"]
    for bad in (["has space"], [""], ["é"], [f"t{n}" for n in range(profile.MAX_TAGS + 1)]):
        with pytest.raises(InvalidValueError):
            profile.normalize_tags(bad)


def test_an_address_book_has_a_limit() -> None:
    assert profile.check_addresses([HOME]) == [HOME]
    with pytest.raises(InvalidValueError):
        profile.check_addresses([HOME] * (profile.MAX_ADDRESSES + 1))


def test_a_note_has_text() -> None:
    assert profile.check_note_text(" called about a refund ") == "called about a refund"
    for bad in ("", "  ", "x" * (profile.MAX_NOTE + 1)):
        with pytest.raises(InvalidValueError):
            profile.check_note_text(bad)
