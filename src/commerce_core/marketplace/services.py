"""Marketplace sellers: onboarding at the gateway, their account's state, their payouts.

- ``onboard_seller``: the first call opens the seller's account at the gateway and
  records it (``Seller.open``); every call, first or not, makes a new onboarding link,
  since a link works once. The account is opened with an idempotency key derived from
  (tenant, seller id) only, so a retry after a lost answer, or two first calls at once,
  open one account (the gateway keeps keys for 24 hours). Its metadata names the
  tenant and the seller: the gateway's events of the account carry it back.
- ``record_account_update``: the gateway's word on an account (a webhook, or
  ``refresh_seller`` reading it) is kept on the ``Seller`` unless a newer one is known.
- ``seller_payouts``: the account's latest payouts, read from the gateway.

A seller exists once its account is opened; before that it is unknown
(``SellerNotFoundError``), payouts included. The seller's email goes to the gateway
only: events keep no personal data unencrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import msgspec

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.marketplace.ports import (
    AccountUpdate,
    Marketplace,
    OnboardingLink,
    Payout,
    SellerAccount,
)
from commerce_core.marketplace.seller import (
    Seller,
    SellerNotFoundError,
    check_country,
    check_seller_id,
)
from commerce_core.shared.command_ids import new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock, Ids

READ_EVENT_ID = "gateway-read"
"""The ``event_id`` of a state read from the gateway rather than announced by an event."""


@dataclass(frozen=True, kw_only=True)
class SellerServices:
    """The ports of the seller use cases that call the tenant's marketplace."""

    repo: Repository
    marketplace: Marketplace
    clock: Clock
    ids: Ids


class OnboardSeller(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /sellers/{id}/stripe-onboard``: ``country`` and ``email`` for the account if
    this opens it; where the onboarding link returns the seller to."""

    country: str
    refresh_url: str
    return_url: str
    email: str | None = None
    gateway: str = "stripe"


@dataclass(frozen=True)
class Onboarding:
    """The seller, a fresh onboarding link, and whether this call opened the account."""

    seller: Seller
    link: OnboardingLink
    opened: bool


@dataclass(frozen=True)
class SellerPayouts:
    seller: Seller
    payouts: list[Payout]


class AccountUpdateOutcome(StrEnum):
    RECORDED = "recorded"
    NOT_NEWER = "not_newer"  # a state at least as new is recorded
    UNKNOWN_SELLER = "unknown_seller"  # no such seller (yet)
    OTHER_ACCOUNT = "other_account"  # the seller's account is another one


def account_key(tenant_id: str, seller_id: str) -> str:
    """The gateway idempotency key that opens the seller's account: one per seller."""
    return f"{Seller.id_for(tenant_id, seller_id)}:open-account"


async def get_seller(repo: Repository, tenant_id: str, seller_id: str) -> Seller:
    try:
        return await repo.get(Seller.id_for(tenant_id, seller_id), kind=Seller)
    except AggregateNotFoundError:
        raise SellerNotFoundError(seller_id) from None


async def onboard_seller(
    services: SellerServices, ctx: CommandContext, seller_id: str, command: OnboardSeller
) -> Onboarding:
    """Opens the seller's account if it has none, then makes an onboarding link.

    ``country`` only counts for the first call (an account keeps its country). Two
    first calls at once open one account; the second to save gets a
    ``ConcurrencyError`` and, run again, finds the seller.
    """
    repo, marketplace = services.repo, services.marketplace
    check_seller_id(seller_id)
    opened = False
    try:
        seller = await get_seller(repo, ctx.tenant_id, seller_id)
    except SellerNotFoundError:
        country = check_country(command.country)
        account = await marketplace.create_seller_account(
            account_key(ctx.tenant_id, seller_id),
            country,
            email=command.email,
            metadata={"tenant_id": ctx.tenant_id, "seller_id": seller_id},
        )
        seller = Seller.open(
            ctx.tenant_id,
            seller_id,
            command.gateway,
            account.account_id,
            country,
            services.clock.now(),
            requirements_due=account.currently_due,
        )
        # saved before the link is made: a failing link must not lose the account
        await repo.save(seller, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        opened = True
    link_key = f"{seller.id}:onboarding-link:{new_id(ctx, services.ids, f'{seller.id}:link').hex}"
    link = await marketplace.onboarding_link(
        seller.account_id, command.refresh_url, command.return_url, link_key
    )
    return Onboarding(seller, link, opened)


async def record_account_update(
    repo: Repository, clock: Clock, ctx: CommandContext, update: AccountUpdate
) -> AccountUpdateOutcome:
    """Keeps the gateway's state of the account on the seller ``update.seller_id`` of
    ``ctx.tenant_id`` unless a state at least as new is recorded (any order, any number
    of times: the same end)."""
    if update.seller_id is None:
        return AccountUpdateOutcome.UNKNOWN_SELLER
    try:
        seller = await get_seller(repo, ctx.tenant_id, update.seller_id)
    except SellerNotFoundError:
        return AccountUpdateOutcome.UNKNOWN_SELLER
    if (seller.gateway, seller.account_id) != (update.gateway, update.account.account_id):
        return AccountUpdateOutcome.OTHER_ACCOUNT
    return await _keep(repo, clock, ctx, seller, update.account, update.as_of, update.event_id)


async def refresh_seller(services: SellerServices, ctx: CommandContext, seller_id: str) -> Seller:
    """Reads the account at the gateway and records it, for when webhooks went missing.

    The read counts as of now: an event the gateway created earlier and delivers later
    changes nothing.
    """
    repo, clock = services.repo, services.clock
    seller = await get_seller(repo, ctx.tenant_id, seller_id)
    account = await services.marketplace.seller_account(seller.account_id)
    await _keep(repo, clock, ctx, seller, account, clock.now(), READ_EVENT_ID)
    return seller


async def _keep(
    repo: Repository,
    clock: Clock,
    ctx: CommandContext,
    seller: Seller,
    account: SellerAccount,
    as_of: datetime,
    event_id: str,
) -> AccountUpdateOutcome:
    recorded = seller.record_account_state(
        account.charges_enabled,
        account.payouts_enabled,
        account.details_submitted,
        as_of=as_of,
        event_id=event_id,
        at=clock.now(),
        requirements_due=account.currently_due,
    )
    if not recorded:
        return AccountUpdateOutcome.NOT_NEWER
    await repo.save(seller, metadata=ctx.metadata())
    return AccountUpdateOutcome.RECORDED


async def seller_payouts(
    repo: Repository, marketplace: Marketplace, tenant_id: str, seller_id: str, limit: int = 10
) -> SellerPayouts:
    """The seller's latest payouts to their bank, newest first, as the gateway has them."""
    seller = await get_seller(repo, tenant_id, seller_id)
    payouts = await marketplace.seller_payouts(seller.account_id, limit)
    return SellerPayouts(seller, payouts)
