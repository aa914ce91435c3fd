"""Prometheus metrics: a tiny registry and request metrics (text format 0.0.4); who may
read them is ``metrics_access``.

Written here because ``prometheus_client`` (which litestar's prometheus plugin needs)
is not a dependency yet; the metric classes mirror its API (``metric.labels(...).inc()``,
``.observe()``, ``.set()``) so that moving to it later is mechanical. Values live in
the process: with several workers each answers for itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4"  # litestar appends the charset


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _series(name: str, names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return name
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return f"{name}{{{pairs}}}"


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)

    def _key(self, labels: dict[str, Any]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class _Value:
    def __init__(self) -> None:
        self.value = 0.0


class CounterChild(_Value):
    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.value += amount


class GaugeChild(_Value):
    def set(self, value: float) -> None:
        self.value = float(value)

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._children: dict[tuple[str, ...], CounterChild] = {}

    def labels(self, **labels: Any) -> CounterChild:
        key = self._key(labels)
        child = self._children.get(key)
        if child is None:  # built only the first time (not setdefault's every time)
            child = self._children[key] = CounterChild()
        return child

    def inc(self, amount: float = 1.0) -> None:
        self.labels().inc(amount)

    def render(self) -> list[str]:
        return self.header() + [
            f"{_series(self.name, self.labelnames, k)} {_number(c.value)}"
            for k, c in self._children.items()
        ]


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._children: dict[tuple[str, ...], GaugeChild] = {}

    def labels(self, **labels: Any) -> GaugeChild:
        return self._children.setdefault(self._key(labels), GaugeChild())

    def set(self, value: float) -> None:
        self.labels().set(value)

    def render(self) -> list[str]:
        return self.header() + [
            f"{_series(self.name, self.labelnames, k)} {_number(g.value)}"
            for k, g in self._children.items()
        ]


class HistogramChild:
    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.sum += value
        self.count += 1
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self.buckets = (*sorted(buckets), math.inf)
        self._children: dict[tuple[str, ...], HistogramChild] = {}

    def labels(self, **labels: Any) -> HistogramChild:
        key = self._key(labels)
        child = self._children.get(key)
        if child is None:  # not setdefault: that built a child (two lists) per request
            child = self._children[key] = HistogramChild(self.buckets)
        return child

    def observe(self, value: float) -> None:
        self.labels().observe(value)

    def render(self) -> list[str]:
        lines = self.header()
        names = (*self.labelnames, "le")
        for key, child in self._children.items():
            cumulative = 0
            for bound, count in zip(self.buckets, child.counts, strict=True):
                cumulative += count
                series = _series(f"{self.name}_bucket", names, (*key, _number(bound)))
                lines.append(f"{series} {cumulative}")
            lines.append(f"{_series(self.name + '_sum', self.labelnames, key)} {child.sum!r}")
            lines.append(f"{_series(self.name + '_count', self.labelnames, key)} {child.count}")
        return lines


Collector = Callable[[], Awaitable[None]]


class MetricsRegistry:
    """The metrics of one process. Asking twice for a name returns the same metric.

    ``on_collect`` registers an async function run before each scrape, to set gauges
    whose value must be read (projection lag, pool size).
    """

    def __init__(self) -> None:
        self._metrics: dict[str, Counter | Gauge | Histogram] = {}
        self._collectors: list[Collector] = []

    def _get(self, kind: type[Any], name: str, *args: Any) -> Any:
        metric = self._metrics.get(name)
        if metric is None:
            metric = self._metrics[name] = kind(name, *args)
        if not isinstance(metric, kind):
            raise ValueError(f"metric {name} is a {metric.kind}")
        return metric

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        counter: Counter = self._get(Counter, name, help_text, labelnames)
        return counter

    def gauge(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Gauge:
        gauge: Gauge = self._get(Gauge, name, help_text, labelnames)
        return gauge

    def histogram(
        self,
        name: str,
        help_text: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        histogram: Histogram = self._get(Histogram, name, help_text, labelnames, buckets)
        return histogram

    def on_collect(self, collector: Collector) -> None:
        self._collectors.append(collector)

    async def render(self) -> str:
        for collect in self._collectors:
            await collect()
        lines = [line for metric in self._metrics.values() for line in metric.render()]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Counts requests by method, route template and status, and times them."""

    def __init__(self, app: ASGIApp, registry: MetricsRegistry) -> None:
        self.app = app
        self.requests = registry.counter(
            "http_requests_total", "HTTP requests answered.", ("method", "path", "status")
        )
        self.latency = registry.histogram(
            "http_request_duration_seconds", "HTTP request latency.", ("method", "path")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe_status)
        finally:
            # the route template, not the path, keeps the number of series bounded
            path = scope.get("path_template") or scope["path"]
            method = scope["method"]
            self.requests.labels(method=method, path=path, status=status).inc()
            self.latency.labels(method=method, path=path).observe(time.perf_counter() - started)
