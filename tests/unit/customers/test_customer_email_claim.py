"""EmailClaim: one customer per email (by blind index) per tenant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from commerce_core.customers.email_claim import EmailClaim, EmailTakenError, email_claim_id
from tests.unit.gwt import given

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ADA = uuid.UUID(int=1)
BOB = uuid.UUID(int=2)


def test_the_claim_id_derives_from_tenant_and_index() -> None:
    claim = EmailClaim.claim_new("t1", "idx", ADA, T0)

    assert claim.id == email_claim_id("t1", "idx")
    assert email_claim_id("t1", "idx") != email_claim_id("t2", "idx")
    assert email_claim_id("t1", "idx") != email_claim_id("t1", "idx2")


def test_a_held_email_is_refused_to_another_customer() -> None:
    spec = given(EmailClaim.claim_new("t1", "idx", ADA, T0))

    spec.when(lambda c: c.claim(BOB, T0)).then_error(EmailTakenError)
    spec.when(lambda c: c.claim(ADA, T0)).then()


def test_a_released_email_can_be_claimed_again() -> None:
    spec = given(EmailClaim.claim_new("t1", "idx", ADA, T0))

    spec.when(lambda c: c.release(BOB, T0)).then()
    spec.when(lambda c: c.release(ADA, T0)).then("Released")
    assert spec.rebuilt().customer_id is None
    spec.when(lambda c: c.claim(BOB, T0)).then("Reclaimed")
    assert spec.rebuilt().customer_id == BOB
