"""`commerce tenant settings`: an operator reads and changes a tenant's settings."""

from __future__ import annotations

from adapters.postgres.tenants import PostgresTenants
from tests.integration.http.test_cli import Cli, cli, tenants

__all__ = ["cli", "tenants"]  # the fixtures this module uses


async def test_settings_are_shown_by_slug_or_id_and_changed_as_the_cli(
    cli: Cli, tenants: PostgresTenants
) -> None:
    created = await cli.json("tenant", "create", "acme")

    shown = await cli.json("tenant", "settings", "acme")
    assert (shown["reservation_minutes"], shown["version"], shown["updated_by"]) == (30, 0, None)

    changed = await cli.json(
        "tenant", "settings", created["tenant_id"],
        "--set", "reservation_minutes=45", "--set", "segment_rules.vip_min_orders=5",
        "--set", "default_currency=EUR",
    )  # fmt: skip
    assert changed["reservation_minutes"] == 45
    assert changed["segment_rules"]["vip_min_orders"] == 5
    assert changed["default_currency"] == "EUR"
    assert changed["updated_by"] == "cli"
    assert await cli.json("tenant", "settings", "acme") == changed

    stored = await tenants.tenant_by_slug("acme")
    assert stored is not None
    assert stored.settings.reservation_minutes == 45
    assert stored.settings_version == changed["version"]


async def test_an_invalid_value_is_one_line_a_non_zero_exit_and_nothing_recorded(
    cli: Cli, tenants: PostgresTenants
) -> None:
    await cli.json("tenant", "create", "acme")

    for bad in (
        "reservation_minutes=0",
        "reservation_minutes=soon",
        "segment_rules.colour=1",
        "fee_tier=enterprise",
        "accepted_currencies=EUR",
    ):
        code, out, err = await cli.run("tenant", "settings", "acme", "--set", bad)
        assert code == 1, (bad, err)
        assert out == ""
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    code, _, err = await cli.run("tenant", "settings", "acme", "--set", "novalue")
    assert code == 2, err
    code, _, err = await cli.run("tenant", "settings", "nobody")
    assert (code, err.strip()) == (1, "Error: no tenant 'nobody'")

    stored = await tenants.tenant_by_slug("acme")
    assert stored is not None
    assert stored.settings_version == 0
    assert (await cli.json("tenant", "settings", "acme"))["version"] == 0
