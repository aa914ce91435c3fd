"""Per-tenant payment gateway configuration, and choosing a tenant's gateway.

A tenant may bring its own gateway account (``PUT /admin/gateways/{gateway}``):
its secret key and webhook secret are kept encrypted at rest by the store and
are never returned over the API. A tenant without one, or with its own
disabled, uses the platform's default gateway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.payments.ports.gateway import PaymentGateway

SUPPORTED_GATEWAYS = ("stripe",)
"""Gateways a tenant can configure its own account of."""


class GatewayCredentials(msgspec.Struct, frozen=True, kw_only=True):
    """The secrets of a gateway account; ``repr`` hides them so logs never show them."""

    secret_key: str
    webhook_secret: str

    def __repr__(self) -> str:
        return "GatewayCredentials(secret_key=***, webhook_secret=***)"


class GatewaySummary(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown of a configuration: everything but the secrets."""

    gateway: str
    enabled: bool
    configured_at: datetime
    publishable_key: str | None = None


class GatewayConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's account at one gateway."""

    tenant_id: UUID
    gateway: str
    enabled: bool
    configured_at: datetime
    credentials: GatewayCredentials
    publishable_key: str | None = None

    @property
    def summary(self) -> GatewaySummary:
        return GatewaySummary(
            gateway=self.gateway,
            enabled=self.enabled,
            configured_at=self.configured_at,
            publishable_key=self.publishable_key,
        )


class GatewayConfigs(Protocol):
    """Storage of tenants' gateway configurations; secrets are encrypted at rest.

    - ``put`` stores (or replaces) the tenant's configuration of ``config.gateway``.
    - ``get`` returns it with its secrets decrypted, or None.
    - ``summaries`` lists the tenant's configurations without secrets (nothing is
      decrypted), by gateway name.
    """

    async def put(self, config: GatewayConfig) -> None: ...

    async def get(self, tenant_id: UUID, gateway: str) -> GatewayConfig | None: ...

    async def summaries(self, tenant_id: UUID) -> list[GatewaySummary]: ...


class TenantGateways(Protocol):
    """The gateway to use for a tenant: its own account if configured and enabled,
    else the platform's default."""

    async def for_tenant(self, tenant_id: str | UUID) -> PaymentGateway: ...
