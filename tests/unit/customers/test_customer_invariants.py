"""Random sequences of customer commands keep the customer's invariants.

A plain model (status, erased, consent, note count) predicts whether each
command is accepted; the aggregate must agree, record nothing when it refuses,
hold no sealed personal data once erased, and rebuild from its events (through
JSON) to the same state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from commerce_core.customers.customer import Customer, CustomerStatus
from commerce_core.eventstore import EventMapper
from commerce_core.shared.errors import DomainError
from commerce_core.shared.pii import Encrypted

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ID = uuid.UUID(int=7)

tag_lists = st.lists(st.sampled_from(["vip", "b2b", "churn-risk"]), max_size=3, unique=True)


def sealed(n: int) -> Encrypted:
    return Encrypted(ID, f"sealed-{n}")


class CustomerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mapper = EventMapper()
        self.now = T0
        self.customer = Customer.register(ID, "tenant-1", sealed(0), "index", T0)
        self.history: list[Any] = list(self.customer.collect_events())
        self.blocked = False
        self.erased = False
        self.consent = False
        self.notes = 0
        self.seq = 0

    def _run(self, command: Callable[[], object], accepted: bool) -> None:
        self.now += timedelta(minutes=1)
        self.seq += 1
        try:
            command()
        except DomainError:
            assert not accepted, "a command the model accepts was refused"
            assert self.customer.collect_events() == [], "a refused command recorded events"
            return
        assert accepted, "a command the model refuses was accepted"
        self.history.extend(self.customer.collect_events())

    @rule()
    def block(self) -> None:
        self._run(lambda: self.customer.block(self.now), not self.erased and not self.blocked)
        self.blocked = self.blocked or not self.erased

    @rule()
    def unblock(self) -> None:
        self._run(lambda: self.customer.unblock(self.now), not self.erased and self.blocked)
        self.blocked = self.blocked and self.erased

    @rule(granted=st.booleans())
    def set_consent(self, granted: bool) -> None:
        if granted:
            self._run(
                lambda: self.customer.grant_marketing_consent(self.now),
                not self.erased and not self.blocked,
            )
            self.consent = self.consent or not (self.erased or self.blocked)
        else:
            self._run(lambda: self.customer.withdraw_marketing_consent(self.now), not self.erased)
            self.consent = self.consent and self.erased

    @rule()
    def add_note(self) -> None:
        self._run(
            lambda: self.customer.add_note(sealed(self.seq), "staff", self.now), not self.erased
        )
        self.notes += not self.erased

    @rule(tags=tag_lists)
    def set_tags(self, tags: list[str]) -> None:
        sealed_tags = [Encrypted(ID, f"sealed-{tag}") for tag in tags]
        self._run(lambda: self.customer.set_tags(sealed_tags, self.now), not self.erased)

    @rule()
    def change_name(self) -> None:
        self._run(
            lambda: self.customer.change_name(sealed(self.seq), self.now),
            not self.erased and not self.blocked,
        )

    @rule()
    def erase(self) -> None:
        self._run(lambda: self.customer.erase(self.now, "dpo"), not self.erased)
        self.erased = True
        self.consent = False

    @invariant()
    def agrees_with_the_model(self) -> None:
        customer = self.customer
        assert customer.is_erased == self.erased
        assert customer.status is (
            CustomerStatus.ERASED
            if self.erased
            else CustomerStatus.BLOCKED
            if self.blocked
            else CustomerStatus.ACTIVE
        )
        assert customer.marketing_consent.granted == self.consent
        assert [n.number for n in customer.notes] == list(range(1, self.notes + 1))

    @invariant()
    def holds_no_personal_data_once_erased(self) -> None:
        customer = self.customer
        if self.erased:
            assert (customer.email, customer.name, customer.phone) == (None, None, None)
            assert customer.addresses == customer.tags == []
            assert all(n.text is None for n in customer.notes)

    @invariant()
    def rebuilds_from_its_events(self) -> None:
        rebuilt: Any = None
        for event in self.history:
            stored = self.mapper.to_stored_event(event)
            rebuilt = self.mapper.to_domain_event(stored).mutate(rebuilt)  # type: ignore[attr-defined]
        assert vars(rebuilt) | {"_pending_events": []} == vars(self.customer) | {
            "_pending_events": []
        }


TestCustomerInvariants = CustomerMachine.TestCase
