"""What a served request writes to the log: JSON lines only, the request line with its
tenant, route template, status and request id, a failure's traceback inside its line.

The app's lines go to a buffer of the test's: ``configure_logging`` redirects every
logger, those made before it too."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.logs import configure_logging
from tests.integration.http.conftest import Api, bearer


@pytest.fixture
def log(api: Api) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("info", "json", stream=buffer)
    yield buffer
    configure_logging("info", "json")


def read(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def lines_of(out: str) -> list[dict[str, Any]]:
    """Every line of ``out`` parsed as JSON (fails on any other line)."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def requests_in(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("event") == "request"]


async def test_a_request_line_names_the_tenant_route_status_and_request_id(
    api: Api, log: io.StringIO
) -> None:
    tenant, key = await api.tenant("logged")
    read(log)

    missing = "00000000-0000-0000-0000-00000000abcd"
    answer = await api.client.get(f"/api/v1/orders/{missing}", headers=bearer(key))
    await api.client.get("/health")

    entries = lines_of(read(log))
    order_line, health_line = requests_in(entries)[-2:]
    assert order_line["route"] == "/api/v1/orders/{order_id}"
    assert missing not in json.dumps(order_line)  # the template, not the raw path
    assert order_line["method"] == "GET"
    assert order_line["status"] == answer.status_code == 404
    assert order_line["tenant_id"] == str(tenant.id)
    assert order_line["request_id"] == answer.headers["x-request-id"]
    assert isinstance(order_line["duration_ms"], float)
    assert order_line["level"] == "info"
    assert order_line["timestamp"]
    assert health_line["route"] == "/health"
    assert health_line["tenant_id"] is None


async def test_a_failing_handler_logs_one_json_line_with_the_traceback_inside(
    api: Api, log: io.StringIO
) -> None:
    _, key = await api.tenant("failing")
    read(log)

    answer = await api.client.get("/api/v1/_test/boom", headers=bearer(key))

    entries = lines_of(read(log))
    failures = [e for e in entries if e.get("event") == "unhandled exception"]
    assert answer.status_code == 500
    assert len(failures) == 1
    assert failures[0]["exception"].startswith("Traceback")
    assert "RuntimeError" in failures[0]["exception"]
    assert failures[0]["request_id"] == answer.headers["x-request-id"]
    assert requests_in(entries)[-1]["status"] == 500


async def test_standard_library_records_are_json_lines_too(api: Api, log: io.StringIO) -> None:
    read(log)

    logging.getLogger("asyncpg.pool").warning("connection %s lost", 3)
    logging.getLogger("litestar").info("from litestar")
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("_granian").exception("worker failed")

    entries = lines_of(read(log))
    by_logger = {e["logger"]: e for e in entries}
    assert by_logger["asyncpg.pool"]["event"] == "connection 3 lost"
    assert by_logger["asyncpg.pool"]["level"] == "warning"
    assert by_logger["litestar"]["event"] == "from litestar"
    assert "ValueError: broken" in by_logger["_granian"]["exception"]
