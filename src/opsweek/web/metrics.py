"""Prometheus metrics of the web app: intake counts and request latency."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.service import Inbox
from opsweek.db.session import Store


class AlertsCollector(Collector):
    """Alerts by status and kind, read from the store at each scrape (one grouped query)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self):  # type: ignore[no-untyped-def]  # prometheus_client's signature
        gauge = GaugeMetricFamily(
            "opsweek_alerts", "Alerts in the store, by status and kind.", labels=["status", "kind"]
        )
        with self.store.session() as session:
            for (status, kind), count in Inbox(session).status_kind_counts().items():
                gauge.add_metric([status, kind], count)
        yield gauge


class Metrics:
    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        if store is not None:
            self.registry.register(AlertsCollector(store))
        self.received = Counter(
            "opsweek_intake_alerts_total",
            "Alerts received, by format and outcome.",
            ["format", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "opsweek_http_request_seconds",
            "HTTP request latency.",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )

    def intake(self, fmt: str, counts: IngestCounts) -> None:
        for outcome in ("new", "updated", "unparsed"):
            value = getattr(counts, outcome)
            if value:
                self.received.labels(fmt, outcome).inc(value)


class LatencyMiddleware:
    """Records the latency of every HTTP request by route template (plain ASGI: cheap)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(route, scope["method"]).observe(time.perf_counter() - began)
