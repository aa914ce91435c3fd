"""Prometheus text at /metrics: request counts and latency per route template."""

from __future__ import annotations

import pytest

from entrypoints.http.metrics import MetricsRegistry
from tests.integration.http.conftest import Api, bearer


async def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    await api.client.get("/health")
    await api.client.get("/health")
    await api.client.get("/api/v1/_test/whoami")

    response = await api.client.get("/metrics", headers=bearer(await api.operator_key()))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.text.splitlines()
    assert 'http_requests_total{method="GET",path="/health",status="200"} 2.0' in lines
    assert 'http_requests_total{method="GET",path="/api/v1/_test/whoami",status="401"} 1.0' in lines
    assert 'http_request_duration_seconds_count{method="GET",path="/health"} 2' in lines
    assert "# TYPE http_request_duration_seconds histogram" in lines


async def test_a_route_with_a_path_parameter_is_one_series(api: Api) -> None:
    _, admin = await api.tenant("acme")
    for kind in ("missing", "value"):
        await api.client.post(
            f"/api/v1/_test/domain/{kind}", headers={"Authorization": f"Bearer {admin}"}
        )

    text = (await api.client.get("/metrics", headers=bearer(await api.operator_key()))).text

    assert 'path="/api/v1/_test/domain/{kind}",status="404"} 1.0' in text
    assert 'path="/api/v1/_test/domain/{kind}",status="422"} 1.0' in text
    assert "/domain/missing" not in text


async def test_the_registry_renders_counters_gauges_and_histograms() -> None:
    registry = MetricsRegistry()
    events = registry.counter("events_appended_total", "Events appended.", ("tenant",))
    lag = registry.gauge("projection_lag", "Events behind.", ("projection",))
    latency = registry.histogram("work_seconds", "Work.", buckets=(0.1, 1.0))

    async def collect() -> None:
        lag.labels(projection='orders "v2"').set(7)

    registry.on_collect(collect)
    events.labels(tenant="a").inc(3)
    latency.observe(0.05)
    latency.observe(0.5)
    latency.observe(5)

    lines = (await registry.render()).splitlines()

    assert lines == [
        "# HELP events_appended_total Events appended.",
        "# TYPE events_appended_total counter",
        'events_appended_total{tenant="a"} 3.0',
        "# HELP projection_lag Events behind.",
        "# TYPE projection_lag gauge",
        'projection_lag{projection="orders \\"v2\\""} 7.0',
        "# HELP work_seconds Work.",
        "# TYPE work_seconds histogram",
        'work_seconds_bucket{le="0.1"} 1',
        'work_seconds_bucket{le="1.0"} 2',
        'work_seconds_bucket{le="+Inf"} 3',
        "work_seconds_sum 5.55",
        "work_seconds_count 3",
    ]


def test_a_metric_name_is_one_kind_with_one_set_of_labels() -> None:
    registry = MetricsRegistry()
    counter = registry.counter("jobs_total", "Jobs.", ("kind",))

    assert registry.counter("jobs_total", "Jobs.", ("kind",)) is counter
    with pytest.raises(ValueError, match="is a counter"):
        registry.gauge("jobs_total", "Jobs.")
    with pytest.raises(ValueError, match="takes labels"):
        counter.labels(other="x")
    with pytest.raises(ValueError, match="only goes up"):
        counter.labels(kind="x").inc(-1)
