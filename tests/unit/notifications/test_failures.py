"""What a failed send does to a notification: a permanent refusal fails it at once, any
other failure is retried with backoff until ``MAX_ATTEMPTS``; and which SMTP replies are
permanent (a 5yz to RCPT or DATA, RFC 5321)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aiosmtplib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.notifications.smtp import refused_for_good
from commerce_core.notifications.notification import (
    MAX_ATTEMPTS,
    Kind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    SendFailure,
    after_failure,
)

AT = datetime(2026, 12, 1, tzinfo=UTC)


def notification(attempts: int) -> Notification:
    return Notification(
        id=uuid.uuid4(),
        tenant="acme",
        event_id=uuid.uuid4(),
        kind=Kind.SHIPPED,
        channel=NotificationChannel.SMS,
        customer_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        recipient="+14*******23",
        context={},
        status=NotificationStatus.PENDING,
        attempts=attempts,
        created_at=AT,
        next_attempt_at=AT,
    )


@given(
    st.integers(min_value=0, max_value=MAX_ATTEMPTS - 1),
    st.booleans(),
    st.floats(min_value=0.0, max_value=2.0),
)
def test_a_permanent_failure_fails_at_once_and_others_wait_until_the_last_attempt(
    attempts: int, permanent: bool, jitter: float
) -> None:
    outcome = after_failure(notification(attempts), AT, SendFailure("no", permanent), jitter)
    assert outcome.attempts == attempts + 1
    assert outcome.error == "no"
    if permanent or attempts + 1 == MAX_ATTEMPTS:
        assert (outcome.status, outcome.next_attempt_at) == (NotificationStatus.FAILED, None)
    else:
        assert outcome.status is NotificationStatus.PENDING
        assert outcome.next_attempt_at is not None
        assert outcome.next_attempt_at > AT


def refused(*codes: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(code, "no", "a@example.com") for code in codes]
    )


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (refused(550), True),
        (refused(553, 554), True),
        (refused(550, 450), False),  # one of them may pass later
        (refused(450), False),
        (aiosmtplib.SMTPRecipientRefused(551, "no", "a@example.com"), True),
        (aiosmtplib.SMTPDataError(554, "spam"), True),
        (aiosmtplib.SMTPDataError(451, "later"), False),
        (aiosmtplib.SMTPSenderRefused(550, "no", "shop@example.com"), False),  # our setting
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False),  # our setting
        (aiosmtplib.SMTPConnectError("refused"), False),
        (ConnectionRefusedError(111, "refused"), False),
    ],
)
def test_only_a_5yz_to_rcpt_or_data_is_a_permanent_smtp_refusal(
    error: Exception, permanent: bool
) -> None:
    assert refused_for_good(error) is permanent
