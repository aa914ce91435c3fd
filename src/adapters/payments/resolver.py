"""Choosing each tenant's gateway: its own Stripe account when configured, else the default.

A tenant's gateway is built once from its stored configuration and kept; the
configuration is looked up again after ``ttl`` seconds, so a change made through
another process takes effect within ``ttl`` (``invalidate`` makes one made here take
effect at once). A gateway replaced by a newer configuration is closed at ``close``
(requests may still be using it until then).

A tenant's marketplace (sellers' accounts) is its gateway's: Stripe Connect on a
tenant's own Stripe account, else the default marketplace (the default Stripe
gateway's Connect, or the fake one in demo mode).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from adapters.memory.marketplace import FakeMarketplace
from adapters.payments.stripe import StripeGateway
from commerce_core.marketplace.ports import Marketplace
from commerce_core.payments.ports.gateway import PaymentGateway
from commerce_core.payments.ports.gateway_configs import GatewayConfig, GatewayConfigs

GatewayFactory = Callable[[GatewayConfig], PaymentGateway]

DEFAULT_TTL = 30.0


def stripe_factory(api_base: str | None = None, redirect_free: bool = True) -> GatewayFactory:
    """Builds a ``StripeGateway`` on a tenant's secret key (``STRIPE_API_BASE`` applies)."""

    def build(config: GatewayConfig) -> PaymentGateway:
        return StripeGateway(
            config.credentials.secret_key, api_base=api_base, redirect_free=redirect_free
        )

    return build


@dataclass
class _Entry:
    expires: float
    configured_at: datetime | None  # None: the default gateway
    gateway: PaymentGateway


class GatewayResolver:
    """``TenantGateways`` over stored configurations, caching one gateway per tenant."""

    def __init__(
        self,
        configs: GatewayConfigs,
        default: PaymentGateway,
        *,
        factory: GatewayFactory | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        marketplace: Marketplace | None = None,
    ) -> None:
        self._configs = configs
        self.default = default
        self.marketplace = marketplace or default_marketplace(default)
        self._factory = factory or stripe_factory()
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._retired: list[PaymentGateway] = []

    async def for_tenant(self, tenant_id: str | UUID) -> PaymentGateway:
        key = str(tenant_id)
        now = self._clock()
        entry = self._cache.get(key)
        if entry is not None and entry.expires > now:
            return entry.gateway
        config = await self._configs.get(UUID(key), "stripe")
        if config is None or not config.enabled:
            self._replace(key, _Entry(now + self._ttl, None, self.default))
            return self.default
        if entry is not None and entry.configured_at == config.configured_at:
            entry.expires = now + self._ttl
            return entry.gateway
        gateway = self._factory(config)
        self._replace(key, _Entry(now + self._ttl, config.configured_at, gateway))
        return gateway

    async def marketplace_for(self, tenant_id: str | UUID) -> Marketplace:
        """The marketplace of the tenant's gateway (see the module's docstring)."""
        gateway = await self.for_tenant(tenant_id)
        if gateway is not self.default and isinstance(gateway, StripeGateway):
            return gateway.connect
        return self.marketplace

    async def webhook_secret(self, tenant_id: str | UUID, gateway: str = "stripe") -> str | None:
        """The tenant's own webhook secret, if it has an enabled account (else None: use the
        default one)."""
        config = await self._configs.get(UUID(str(tenant_id)), gateway)
        if config is None or not config.enabled:
            return None
        return config.credentials.webhook_secret

    def invalidate(self, tenant_id: str | UUID) -> None:
        """Forgets the tenant's gateway: the next request reads its configuration again."""
        entry = self._cache.pop(str(tenant_id), None)
        if entry is not None:
            self._retire(entry)

    async def close(self) -> None:
        """Closes the tenants' gateways this resolver built (not the default)."""
        for entry in self._cache.values():
            self._retire(entry)
        self._cache.clear()
        retired, self._retired = self._retired, []
        for gateway in retired:
            close = getattr(gateway, "close", None)
            if close is not None:
                await close()

    def _replace(self, key: str, entry: _Entry) -> None:
        old = self._cache.get(key)
        if old is not None and old.gateway is not entry.gateway:
            self._retire(old)
        self._cache[key] = entry

    def _retire(self, entry: _Entry) -> None:
        if entry.gateway is not self.default and entry.gateway not in self._retired:
            self._retired.append(entry.gateway)


def default_marketplace(gateway: PaymentGateway) -> Marketplace:
    """Stripe Connect on a Stripe gateway; otherwise (the fake gateway, the demo mode) a fake
    marketplace whose sellers are onboarded once they get their link."""
    if isinstance(gateway, StripeGateway):
        return gateway.connect
    return FakeMarketplace(onboard_on_link=True, id_tag=secrets.token_hex(3))
