"""A tenant's own gateway accounts: configure one, list them (never with their secrets)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from commerce_core.payments.ports.gateway_configs import (
    SUPPORTED_GATEWAYS,
    GatewayConfig,
    GatewayConfigs,
    GatewayCredentials,
    GatewaySummary,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.clock import Clock


class UnsupportedGatewayError(InvalidValueError):
    """A gateway a tenant cannot bring its own account of."""

    def __init__(self, gateway: str) -> None:
        supported = ", ".join(SUPPORTED_GATEWAYS)
        super().__init__(f"no gateway {gateway!r} can be configured (supported: {supported})")
        self.gateway = gateway


class ConfigureGateway(msgspec.Struct, frozen=True, kw_only=True):
    """``PUT /admin/gateways/{gateway}``: the tenant's account at ``gateway``; a disabled
    one is kept, but the platform's gateway is used."""

    gateway: str
    credentials: GatewayCredentials
    publishable_key: str | None = None
    enabled: bool = True


async def configure_gateway(
    configs: GatewayConfigs, clock: Clock, tenant_id: UUID, command: ConfigureGateway
) -> GatewaySummary:
    """``PUT /admin/gateways/{gateway}``: stores (replaces) the tenant's account.

    The caller's ``TenantGateways`` should forget the tenant's cached gateway after this.
    """
    if command.gateway not in SUPPORTED_GATEWAYS:
        raise UnsupportedGatewayError(command.gateway)
    config = GatewayConfig(
        tenant_id=tenant_id,
        gateway=command.gateway,
        enabled=command.enabled,
        configured_at=clock.now(),
        credentials=command.credentials,
        publishable_key=command.publishable_key,
    )
    await configs.put(config)
    return config.summary


async def gateway_summaries(configs: GatewayConfigs, tenant_id: UUID) -> list[GatewaySummary]:
    """``GET /admin/gateways``: the tenant's accounts, without secrets."""
    return await configs.summaries(tenant_id)


async def gateway_summary(
    configs: GatewayConfigs, tenant_id: UUID, gateway: str
) -> GatewaySummary | None:
    """``GET /admin/gateways/{gateway}``: the tenant's account there without its secrets,
    or None if the tenant never configured that gateway."""
    config = await configs.get(tenant_id, gateway)
    return None if config is None else config.summary
