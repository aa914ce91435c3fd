"""GET /admin/relay and the relay running in the app's background work, on PostgreSQL and
the real NATS JetStream at 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from commerce_core.eventstore import Repository
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.unit.order_story import Clock, tell_story

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")
ROUTE = "/api/v1/admin/relay"


@pytest.fixture
async def js() -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(NATS_URL)
    yield nc.jetstream()
    await nc.close()


async def published(js: JetStreamContext, stream: str) -> int:
    try:
        return (await js.stream_info(stream)).state.messages
    except NotFoundError:  # the relay creates it on its first publish
        return 0


async def relay_state(api: Api, key: str) -> dict[str, Any]:
    response = await api.client.get(ROUTE, headers=bearer(key))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_background_relay_publishes_an_orders_life_and_reports_no_lag(
    make_api: MakeApi, js: JetStreamContext
) -> None:
    stream, prefix = f"TEST_{uuid.uuid4().hex[:10].upper()}", f"t{uuid.uuid4().hex[:8]}"
    api = await make_api(nats_url=NATS_URL, nats_stream=stream, nats_subject_prefix=prefix)
    tenant, _ = await api.tenant("relayshop")
    operator = await api.operator_key()
    story = await tell_story(Repository(api.container.event_store()), Clock(), str(tenant.id))
    try:
        async with asyncio.timeout(20):
            while True:  # a transaction open elsewhere on the server may hold events back
                state = await relay_state(api, operator)
                if state["lag"] == 0 and await published(js, stream) == 11:
                    break
                await asyncio.sleep(0.05)
        info = await js.stream_info(stream)
        subjects = await js.stream_info(stream, subjects_filter=">")
    finally:
        await js.delete_stream(stream)
    assert state["enabled"] is True
    assert state["stream"] == stream
    assert state["last_error"] is None
    assert info.state.messages == 11  # the story's integration events, each once
    assert subjects.state.subjects is not None
    assert set(subjects.state.subjects) >= {
        f"{prefix}.{tenant.id}.order.placed",
        f"{prefix}.{tenant.id}.order.paid",
        f"{prefix}.{tenant.id}.order.refunded",
        f"{prefix}.{tenant.id}.order.shipped",
        f"{prefix}.{tenant.id}.payment.captured",
    }
    assert story.order_id


async def test_without_nats_url_the_relay_is_off_and_says_so(make_api: MakeApi) -> None:
    api = await make_api(nats_url=None)
    state = await relay_state(api, await api.operator_key())
    assert state["enabled"] is False
    assert state["stream"] is None
    assert state["last_error"] is None


async def test_a_tenant_admin_may_not_see_the_relay(api: Api) -> None:
    _, admin = await api.tenant("shop")
    response = await api.client.get(ROUTE, headers=bearer(admin))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")
