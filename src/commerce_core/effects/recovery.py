"""Recovery: finishing intents that a crash, a timeout or a lost race left open.

Every few seconds the worker takes the intents older than ``GRACE`` from the
open-effects index and runs them again: the vendor is asked again with the
intent's own key (it answers with the first outcome if the call had happened,
so nothing is done twice), the outcome and the follow-ups are recorded, and the
intent is closed. An intent whose outcome is already recorded only gets its
follow-ups. A vendor still unreachable leaves the intent open for the next round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from commerce_core.effects.open_effects import open_before
from commerce_core.eventstore import ConcurrencyError, Repository
from commerce_core.fulfilment.connections import TenantCarriers
from commerce_core.fulfilment.label_documents import LabelDocuments
from commerce_core.fulfilment.ports import CarrierError
from commerce_core.fulfilment.tracking import TrackedParcels
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import recover_payment
from commerce_core.payments.ports.gateway import GatewayError
from commerce_core.payments.ports.gateway_configs import TenantGateways
from commerce_core.processes.shipping import ShippingServices, buy_label
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring

GRACE = timedelta(seconds=10)
"""How old an open intent must be before recovery takes it: older than any request
that may still be running it."""

ACTOR = "system:recovery"


@dataclass(frozen=True)
class RecoveryServices:
    repo: Repository
    read_models: ReadModelStore
    clock: Clock
    ids: Ids
    gateways: TenantGateways  # tenants may connect their own gateway accounts
    carriers: TenantCarriers  # each tenant's carrier connections
    keyring: Keyring  # opens the shipping address a label is printed with
    labels: LabelDocuments  # where a recovered label's document is kept
    parcels: TrackedParcels | None = None  # where its parcel is watched


@dataclass(frozen=True)
class Recovered:
    """One round of recovery: intents looked at, and those still open after it."""

    looked_at: int
    still_open: int


async def recover_effects(services: RecoveryServices, grace: timedelta = GRACE) -> Recovered:
    """Runs every intent open for longer than ``grace`` again, payment by payment."""
    now = services.clock.now()
    stale = await open_before(services.read_models, now - grace)
    still_open = 0
    streams = {(e.tenant_id, e.stream, e.stream_id): None for e in stale}
    for tenant_id, stream, stream_id in streams:
        ctx = CommandContext(tenant_id=tenant_id, actor=ACTOR)
        try:
            still_open += await _recover(services, ctx, stream, stream_id)
        except (ConcurrencyError, DomainError, GatewayError, CarrierError):
            still_open += 1  # busy, unreachable, or refused by state: next round
    return Recovered(looked_at=len(stale), still_open=still_open)


async def _recover(
    services: RecoveryServices, ctx: CommandContext, stream: str, stream_id: UUID
) -> int:
    """Runs one stream's open intents again; returns how many are still open."""
    if stream == "shipment":
        shipping = ShippingServices(
            repo=services.repo,
            clock=services.clock,
            ids=services.ids,
            carriers=services.carriers,
            keyring=services.keyring,
            labels=services.labels,
            parcels=services.parcels,
        )
        return len((await buy_label(shipping, ctx, stream_id)).open_effects)
    gateway = await services.gateways.for_tenant(ctx.tenant_id)
    payments = PaymentServices(
        repo=services.repo, gateway=gateway, clock=services.clock, ids=services.ids
    )
    return len((await recover_payment(payments, ctx, stream_id)).open_effects)
