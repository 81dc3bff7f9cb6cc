"""The pipeline's health measurements, named once.

The ``pipeline_health`` DAG writes each measurement as rows ``(measured_at, metric, subject, value)`` of the
``health_measurements`` table; ``alerts.yaml`` rules name the metric they watch; ``/metrics`` exposes each as the
Prometheus gauge ``game_analytics_<name>`` with ``subject`` under the label named here. Units are base units
(seconds, messages, a share in [0, 1]), as Prometheus recommends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PROMETHEUS_PREFIX = "game_analytics_"


@dataclass(frozen=True)
class Metric:
    name: str
    help: str
    label: str = ""  # the Prometheus label that carries a row's subject ("" when the metric has one value)


METRICS = {
    m.name: m
    for m in (
        Metric("kafka_lag_messages", "Raw-topic messages not yet ingested, per partition", "partition"),
        Metric(
            "kafka_lag_seconds",
            "Age of the ingestion's lag per partition: now - caught_up_at while messages wait, else 0",
            "partition",
        ),
        Metric("freshness_seconds", "Now - the newest ingested_at in events"),
        Metric("seconds_since_successful_ingestion", "Now - the end of the last successful ingestion run"),
        Metric("events_per_second", "Messages consumed per second by the last ingestion run"),
        Metric("dlq_rate", "Dead-lettered / consumed messages over the last GA_HEALTH_DLQ_RATE_RUNS ingestion runs"),
        Metric("dead_lettered_24h", "Dead letters of the last 24 h of ingestion runs, per reason", "reason"),
        Metric("events_24h", "Events of the last 24 h by event group (level, purchase, session)", "event_group"),
        Metric(
            "daily_metrics_late_seconds",
            "Per day D with events but no successful daily run: now - the end of D",
            "day",
        ),
        Metric(
            "failed_checks",
            "Offending rows of each fail check that failed on a day within GA_ALERT_HORIZON_DAYS (check@day)",
            "check",
        ),
        Metric(
            "warned_checks",
            "Offending rows of each warn check that warned on a day within GA_ALERT_HORIZON_DAYS (check@day)",
            "check",
        ),
        Metric(
            "dag_run_failed",
            "1 when the latest run failed: of each day D of the daily DAG (dag@D, within the horizon), of the "
            "other pipeline DAGs (dag); else 0",
            "dag_id",
        ),
    )
}


def horizon_start(now: datetime, horizon_days: int) -> date:
    """The first day whose failures are measured at ``now`` (measure.sql's horizon): now's UTC day - horizon_days."""
    return now.astimezone(UTC).date() - timedelta(days=horizon_days)


def prometheus_name(metric: str) -> str:
    return PROMETHEUS_PREFIX + metric
