"""``/metrics``: the latest health measurements as Prometheus gauges, in the text exposition format.

A fresh ``CollectorRegistry`` per scrape (the values are the warehouse's, not process state, so nothing is kept
between scrapes and several api-server workers answer alike). Each measurement of ``health.metrics.METRICS`` is the
gauge ``game_analytics_<name>`` with its subject under the metric's label; every alert firing now is
``game_analytics_alert_firing{rule,subject,severity} 1``; ``game_analytics_health_measured_timestamp_seconds`` says
how old the numbers are. A metric without a label and without a measurement is left out (no made-up 0).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from game_analytics.health.metrics import METRICS, prometheus_name
from game_analytics.health.snapshot import HealthSnapshot

CONTENT_TYPE = CONTENT_TYPE_LATEST
ALERT_FIRING = prometheus_name("alert_firing")
MEASURED_AT = prometheus_name("health_measured_timestamp_seconds")


def exposition(snapshot: HealthSnapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    for metric in METRICS.values():
        values = {subject: value for subject, value in snapshot.values(metric.name).items() if value is not None}
        if not metric.label:
            if "" in values:
                Gauge(prometheus_name(metric.name), metric.help, registry=registry).set(values[""])
            continue
        gauge = Gauge(prometheus_name(metric.name), metric.help, [metric.label], registry=registry)
        for subject, value in values.items():
            gauge.labels(subject).set(value)
    firing = Gauge(
        ALERT_FIRING,
        "1 for each alert firing now (alerts.yaml rule, subject)",
        ["rule", "subject", "severity"],
        registry=registry,
    )
    for alert in snapshot.alerts:
        firing.labels(alert.rule, alert.subject, alert.severity).set(1)
    if snapshot.measured_at is not None:
        Gauge(MEASURED_AT, "When the pipeline_health DAG took these measurements (Unix time)", registry=registry).set(
            snapshot.measured_at.timestamp()
        )
    return generate_latest(registry)
