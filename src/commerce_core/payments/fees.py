"""Platform fees: a rate per plan tier, an optional fixed fee, per-tenant overrides.

The rule, applied by ``Payment``:

- The platform fee is charged on the **captured** amount: ``captured x rate``
  (basis points, rounded half to even) plus the fixed fee once, as soon as
  anything is captured; never more than the captured amount. It is computed on
  the payment's captured total each time, so several partial captures cost the
  same as one capture of their sum.
- Fees are **not** given back on refunds (as Stripe keeps its processing fee):
  a refund lowers the merchant's net by the refunded amount only.
- ``net_amount = captured - refunded - charged_back - platform_fee - gateway_fee``
  (``charged_back`` is the amount of a lost dispute). It can be negative, e.g.
  after a full refund the merchant has paid the fees.

A payment records the ``FeeSchedule`` in force when it was created, so changing a
tenant's tier later does not reprice payments already made. The fixed fee is in
minor units of the payment's currency.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money


class PlanTier(StrEnum):
    STARTER = "starter"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


TIER_BASIS_POINTS: dict[PlanTier, int] = {
    PlanTier.STARTER: 300,
    PlanTier.PROFESSIONAL: 150,
    PlanTier.ENTERPRISE: 50,
}


class FeeOverride(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's negotiated terms; a field left ``None`` keeps the tier's value."""

    basis_points: int | None = None
    fixed: int | None = None


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """A percentage in basis points (150 = 1.5%) plus a fixed fee in minor units."""

    basis_points: int
    fixed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.basis_points <= 10_000:
            raise InvalidValueError(f"fee basis points out of range: {self.basis_points}")
        if self.fixed < 0:
            raise InvalidValueError(f"fixed fee cannot be negative: {self.fixed}")

    def fee_on(self, captured: Money) -> Money:
        """The fee for a payment with this captured total (zero when nothing is captured)."""
        if captured.amount <= 0:
            return Money.zero(captured.currency)
        fee = captured.bps(self.basis_points) + Money(self.fixed, captured.currency)
        return fee.min(captured)


def fee_schedule(tier: PlanTier | str, override: FeeOverride | None = None) -> FeeSchedule:
    """The schedule for a tier, with a tenant's override applied."""
    try:
        basis_points = TIER_BASIS_POINTS[PlanTier(tier)]
    except ValueError:
        raise InvalidValueError(f"unknown plan tier {tier!r}") from None
    fixed = 0
    if override is not None:
        if override.basis_points is not None:
            basis_points = override.basis_points
        if override.fixed is not None:
            fixed = override.fixed
    return FeeSchedule(basis_points=basis_points, fixed=fixed)


def platform_fee(amount: Money, tier: PlanTier | str, override: FeeOverride | None = None) -> Money:
    """The platform fee on a captured ``amount`` for a tenant on ``tier``."""
    return fee_schedule(tier, override).fee_on(amount)
