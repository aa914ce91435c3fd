"""Each tenant's gateway: its own account when configured and enabled, else the default."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.gateway_configs import MemoryGatewayConfigs
from adapters.memory.marketplace import FakeMarketplace
from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.payments.resolver import GatewayResolver, stripe_factory
from adapters.payments.stripe import StripeGateway
from commerce_core.payments.ports.gateway_configs import GatewayConfig, GatewayCredentials

TENANT = uuid.uuid4()
AT = datetime(2026, 2, 1, tzinfo=UTC)


class ClosingGateway(FakePaymentGateway):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class World:
    """A resolver over memory configurations, a hand-moved monotonic clock and a factory
    that records the gateways it built."""

    def __init__(self) -> None:
        self.now = 0.0
        self.configs = MemoryGatewayConfigs(bytes(32))
        self.default = FakePaymentGateway()
        self.built: list[ClosingGateway] = []
        self.resolver = GatewayResolver(
            self.configs, self.default, factory=self.build, ttl=30, clock=lambda: self.now
        )

    def build(self, config: GatewayConfig) -> ClosingGateway:
        gateway = ClosingGateway(config.credentials.secret_key)
        self.built.append(gateway)
        return gateway

    async def configure(self, key: str, *, enabled: bool = True, minutes: int = 0) -> None:
        await self.configs.put(
            GatewayConfig(
                tenant_id=TENANT,
                gateway="stripe",
                enabled=enabled,
                configured_at=AT + timedelta(minutes=minutes),
                credentials=GatewayCredentials(secret_key=key, webhook_secret=f"whsec_{key}"),
            )
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_a_tenant_without_an_account_uses_the_default(world: World) -> None:
    assert await world.resolver.for_tenant(TENANT) is world.default
    assert await world.resolver.webhook_secret(TENANT) is None


async def test_a_tenant_with_an_account_gets_a_gateway_on_its_key_built_once(
    world: World,
) -> None:
    await world.configure("sk_test_a")

    first = await world.resolver.for_tenant(str(TENANT))
    world.now += 60  # past the ttl, the configuration is unchanged
    again = await world.resolver.for_tenant(TENANT)

    assert first is again
    assert [g.key for g in world.built] == ["sk_test_a"]
    assert await world.resolver.webhook_secret(TENANT) == "whsec_sk_test_a"


async def test_a_disabled_account_falls_back_to_the_default(world: World) -> None:
    await world.configure("sk_test_a", enabled=False)

    assert await world.resolver.for_tenant(TENANT) is world.default
    assert await world.resolver.webhook_secret(TENANT) is None


async def test_a_new_configuration_is_used_after_the_ttl_and_the_old_gateway_closed(
    world: World,
) -> None:
    await world.configure("sk_test_a")
    old = await world.resolver.for_tenant(TENANT)
    await world.configure("sk_test_b", minutes=1)

    assert await world.resolver.for_tenant(TENANT) is old  # trusted for the ttl
    world.now += 31
    new = await world.resolver.for_tenant(TENANT)

    assert [g.key for g in world.built] == ["sk_test_a", "sk_test_b"]
    assert new is world.built[1]
    await world.resolver.close()
    assert [g.closed for g in world.built] == [True, True]


async def test_invalidating_takes_a_change_made_here_at_once(world: World) -> None:
    await world.configure("sk_test_a")
    await world.resolver.for_tenant(TENANT)
    await world.configure("sk_test_a", enabled=False, minutes=1)

    world.resolver.invalidate(TENANT)

    assert await world.resolver.for_tenant(TENANT) is world.default


async def test_the_default_factory_builds_a_stripe_gateway_on_the_tenants_key() -> None:
    config = GatewayConfig(
        tenant_id=TENANT,
        gateway="stripe",
        enabled=True,
        configured_at=AT,
        credentials=GatewayCredentials(secret_key="sk_test_x", webhook_secret="whsec_x"),
    )

    gateway = stripe_factory("http://127.0.0.1:1")(config)

    assert isinstance(gateway, StripeGateway)
    await gateway.close()


async def test_a_tenant_s_marketplace_is_its_gateway_s() -> None:
    configs = MemoryGatewayConfigs(bytes(32))
    resolver = GatewayResolver(configs, FakePaymentGateway(), factory=stripe_factory())
    other = uuid.uuid4()
    await configs.put(
        GatewayConfig(
            tenant_id=TENANT,
            gateway="stripe",
            enabled=True,
            configured_at=AT,
            credentials=GatewayCredentials(secret_key="sk_test_own", webhook_secret="whsec_own"),
        )
    )

    own = await resolver.marketplace_for(TENANT)
    default = await resolver.marketplace_for(other)

    gateway = await resolver.for_tenant(TENANT)
    assert isinstance(gateway, StripeGateway)
    assert own is gateway.connect
    assert isinstance(default, FakeMarketplace)  # the default gateway is the fake
    assert default is await resolver.marketplace_for(uuid.uuid4())
    await resolver.close()


async def test_a_stripe_default_gateway_lends_its_connect_to_tenants_without_an_account() -> None:
    default = StripeGateway("sk_test_platform")
    resolver = GatewayResolver(MemoryGatewayConfigs(bytes(32)), default)

    assert await resolver.marketplace_for(TENANT) is default.connect
    await default.close()


async def test_in_the_demo_mode_a_seller_given_a_link_is_onboarded() -> None:
    resolver = GatewayResolver(MemoryGatewayConfigs(bytes(32)), FakePaymentGateway())
    marketplace = await resolver.marketplace_for(TENANT)
    opened = await marketplace.create_seller_account("open-1", "GB")
    assert not opened.charges_enabled

    await marketplace.onboarding_link(opened.account_id, "https://a.test", "https://b.test", "k1")

    account = await marketplace.seller_account(opened.account_id)
    assert (account.charges_enabled, account.payouts_enabled) == (True, True)
