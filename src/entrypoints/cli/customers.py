"""`commerce customers seal-tags`: seal the tags stored in plain text before ADR 0021."""

from __future__ import annotations

import asyncio
import json

import click

from entrypoints.cli.runtime import with_container
from entrypoints.container import Container


@click.group()
def customers() -> None:
    """Customers' personal data."""


@customers.command("seal-tags")
def seal_tags() -> None:
    """Seal customer tags recorded in plain text before tags were personal data (ADR 0021).

    Run once after upgrading; prints what changed (JSON). Erased customers' plain tags
    are dropped.
    """

    async def work(c: Container) -> dict[str, int]:
        sealer = c.plain_tag_sealer()
        assert sealer is not None  # with_container refuses to run without PostgreSQL
        return (await sealer.seal_plain_tags())._asdict()

    click.echo(json.dumps(asyncio.run(with_container(work))))
