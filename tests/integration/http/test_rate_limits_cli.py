"""`commerce tenant limits`: an operator changes a tenant's rate limits."""

from __future__ import annotations

from adapters.postgres.tenants import PostgresTenants
from commerce_core.tenancy.rate_limits import RateLimitSettings, RouteLimit
from tests.integration.http.test_cli import Cli, cli, tenants

__all__ = ["cli", "tenants"]  # the fixtures this module uses


async def test_limits_are_set_cleared_stored_and_bad_ones_refused(
    cli: Cli, tenants: PostgresTenants
) -> None:
    await cli.json("tenant", "create", "acme")

    shown = await cli.json(
        "tenant", "limits", "acme", "--reads", "50/80", "--payments", "5",
        "--checkout-per-minute", "10",
    )  # fmt: skip
    assert shown == {
        "reads": {"per_second": 50, "burst": 80},
        "writes": None,
        "payments": {"per_second": 5, "burst": 5},
        "checkout_per_minute": 10,
    }
    cleared = await cli.json(
        "tenant", "limits", "acme", "--reads", "default", "--checkout-per-minute", "off"
    )
    assert cleared == {**shown, "reads": None, "checkout_per_minute": None}

    for bad in (["--reads", "0/10"], ["--checkout-per-minute", "0"]):
        code, _, err = await cli.run("tenant", "limits", "acme", *bad)
        assert code == 2, err
    code, _, err = await cli.run("tenant", "limits", "nobody", "--reads", "5/5")
    assert code == 1
    assert "no tenant 'nobody'" in err

    stored = await tenants.tenant_by_slug("acme")
    assert stored is not None
    assert stored.settings.rate_limits == RateLimitSettings(
        payments=RouteLimit(per_second=5, burst=5)
    )
