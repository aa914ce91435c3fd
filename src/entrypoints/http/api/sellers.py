"""Marketplace sellers (extra to API.md): onboarding at Stripe Connect, their account's
state, their payouts.

- ``POST /sellers/{seller_id}/stripe-onboard``: 201 when the seller's account was opened
  by this call, 200 when it existed; either way a new onboarding link (links work once).
- ``GET /sellers/{seller_id}``; ``POST /sellers/{seller_id}/refresh`` reads the account
  at Stripe again (when webhooks went missing).
- ``GET /sellers/{seller_id}/payouts?limit=``: the latest payouts, newest first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter

from commerce_core.marketplace import services as service
from commerce_core.marketplace.ports import Payout, PayoutStatus
from commerce_core.marketplace.seller import Seller
from commerce_core.shared.context import CommandContext
from commerce_core.shared.retry import retry_on_conflict
from entrypoints.http.api import examples
from entrypoints.http.api.schemas import MoneyOut
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import seller_services
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.services import Services, tenant_marketplace, tenant_of

GATEWAY = "stripe"

SellerIdPath = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$",
        description="The marketplace's own id of the seller",
        examples=["seller-42"],
    ),
]
Country = Annotated[
    str,
    msgspec.Meta(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["GB"]),
]
WebUrl = Annotated[
    str,
    msgspec.Meta(pattern=r"^https?://[^\s/?#]+\S*$", max_length=2048, description="http(s) URL"),
]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]


class OnboardingIn(msgspec.Struct, forbid_unknown_fields=True):
    """``country`` counts when the account is opened (the first call) only."""

    country: Country
    refresh_url: WebUrl
    return_url: WebUrl
    email: Email | None = None


class OnboardingOut(msgspec.Struct):
    seller_id: str
    gateway: str
    account_id: str
    onboarding_url: str
    onboarding_url_expires_at: datetime
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str]


class SellerOut(msgspec.Struct):
    """``state_as_of``: when the gateway said what the flags say (None: not yet)."""

    seller_id: str
    gateway: str
    account_id: str
    country: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str]
    state_as_of: datetime | None
    opened_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, seller: Seller) -> SellerOut:
        return cls(
            seller_id=seller.seller_id,
            gateway=seller.gateway,
            account_id=seller.account_id,
            country=seller.country,
            charges_enabled=seller.charges_enabled,
            payouts_enabled=seller.payouts_enabled,
            details_submitted=seller.details_submitted,
            requirements_due=list(seller.requirements_due),
            state_as_of=seller.state_as_of,
            opened_at=seller.opened_at,
            updated_at=seller.updated_at,
        )


class PayoutOut(msgspec.Struct):
    """``status``: pending, in_transit, paid, failed or canceled."""

    id: str
    amount: MoneyOut
    status: PayoutStatus
    arrival_date: date
    created_at: datetime
    failure_code: str | None

    @classmethod
    def of(cls, payout: Payout) -> PayoutOut:
        return cls(
            id=payout.payout_id,
            amount=MoneyOut.of(payout.amount),
            status=payout.status,
            arrival_date=payout.arrival_date,
            created_at=payout.created_at,
            failure_code=payout.failure_code,
        )


class PayoutsOut(msgspec.Struct):
    seller_id: str
    payouts_enabled: bool
    payouts: list[PayoutOut]


_GATEWAY_PROBLEMS = ("gateway-unavailable", "gateway-error")
_ONBOARD_RESPONSES = {
    **command_problems("concurrency-conflict", *_GATEWAY_PROBLEMS),
    200: ResponseSpec(
        data_container=OnboardingOut,
        generate_examples=False,
        description="The seller's account existed: a new onboarding link for it",
    ),
}


class SellersController(Controller):
    path = "/sellers"
    tags = ["sellers"]

    @post(
        "/{seller_id:str}/stripe-onboard",
        summary="Onboard a seller",
        status_code=201,
        responses=_ONBOARD_RESPONSES,
        description="The account was opened now (201) or existed (200); either way the "
        "response carries a new single-use onboarding URL to send the seller to.",
    )
    async def onboard(
        self,
        seller_id: FromPath[SellerIdPath],
        data: Annotated[OnboardingIn, examples.SELLER_ONBOARDING],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> Response[OnboardingOut]:
        """Opens the seller's Stripe Connect account (Express) if it has none; returns a
        new onboarding link."""
        sellers = await seller_services(services, ctx.tenant_id)
        command = service.OnboardSeller(
            country=data.country,
            refresh_url=data.refresh_url,
            return_url=data.return_url,
            email=data.email,
            gateway=GATEWAY,
        )
        onboarding = await retry_on_conflict(
            lambda: service.onboard_seller(sellers, ctx, seller_id, command)
        )
        seller, link = onboarding.seller, onboarding.link
        body = OnboardingOut(
            seller_id=seller.seller_id,
            gateway=seller.gateway,
            account_id=seller.account_id,
            onboarding_url=link.url,
            onboarding_url_expires_at=link.expires_at,
            charges_enabled=seller.charges_enabled,
            payouts_enabled=seller.payouts_enabled,
            details_submitted=seller.details_submitted,
            requirements_due=list(seller.requirements_due),
        )
        return Response(body, status_code=201 if onboarding.opened else 200)

    @get("/{seller_id:str}", summary="Show a seller", responses=query_problems("not-found"))
    async def get_seller(
        self,
        seller_id: FromPath[SellerIdPath],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SellerOut:
        """The seller's account as the gateway's latest word (webhook or refresh) has it."""
        return SellerOut.of(
            await service.get_seller(services.repo, tenant_of(principal), seller_id)
        )

    @post(
        "/{seller_id:str}/refresh",
        summary="Refresh a seller's account",
        status_code=200,
        responses=command_problems("not-found", "concurrency-conflict", *_GATEWAY_PROBLEMS),
    )
    async def refresh(
        self,
        seller_id: FromPath[SellerIdPath],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> SellerOut:
        """Reads the seller's account at the gateway now and records it."""
        sellers = await seller_services(services, ctx.tenant_id)
        seller = await retry_on_conflict(lambda: service.refresh_seller(sellers, ctx, seller_id))
        return SellerOut.of(seller)

    @get(
        "/{seller_id:str}/payouts",
        summary="List a seller's payouts",
        responses=query_problems("not-found", *_GATEWAY_PROBLEMS),
    )
    async def payouts(
        self,
        seller_id: FromPath[SellerIdPath],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=100)] = 10,
    ) -> PayoutsOut:
        """The seller's latest payouts to their bank, newest first, read from the gateway."""
        tenant = tenant_of(principal)
        marketplace = await tenant_marketplace(services, tenant)
        listed = await service.seller_payouts(services.repo, marketplace, tenant, seller_id, limit)
        return PayoutsOut(
            seller_id=listed.seller.seller_id,
            payouts_enabled=listed.seller.payouts_enabled,
            payouts=[PayoutOut.of(payout) for payout in listed.payouts],
        )
