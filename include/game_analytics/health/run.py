"""One health check of the pipeline: what the ``pipeline_health`` DAG runs every 5 minutes.

measure -> keep the measurements (history for the page, the charts and Prometheus) -> evaluate ``alerts.yaml`` ->
persist each alert's state and notification before delivering it. ``now`` is an argument, never read from the
clock here: a retried run measures the same instant and replaces its own rows, and tests choose the instant.
Infrastructure failures (warehouse, broker) raise; nothing in the data can.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from game_analytics.config import Settings
from game_analytics.laps import Laps

log = logging.getLogger(__name__)


@dataclass
class HealthReport:
    measured_at: str
    measurements: int
    firing: list[str] = field(default_factory=list)  # "<rule>[<subject>]" of every alert firing after this run
    notifications_created: int = 0
    notifications_delivered: int = 0
    outcomes_reconciled: list[str] = field(default_factory=list)  # "<dag> <run_id> <state>" recorded from Airflow
    reconciled_with_airflow: bool = False  # False: Airflow's runs were not available to this run
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def measured_instant(now: datetime) -> datetime:
    """``now`` in whole seconds, rounded up: the instant keys a run's rows and notification ids, the emulator
    misreads fractional seconds in timestamp literals after some comments, and a run measures what happened up to
    its instant, so rounding down would leave out an ingestion that ended in the same second, just before it."""
    return now.replace(microsecond=0) + timedelta(seconds=1) if now.microsecond else now


def run_health_check(
    client,
    settings: Settings,
    now: datetime,
    kafka_config: dict | None,
    deliver: Callable[[dict], None],
    airflow_runs: Sequence | None = None,
) -> HealthReport:
    """Measure, record, evaluate and notify for the instant ``now`` (timezone-aware UTC). ``airflow_runs``: the
    finished runs Airflow knows (health/reconcile.py ``AirflowRun``), whose outcomes are recorded first where a
    callback's write is missing; None when the caller cannot ask Airflow (tests of the other steps)."""
    from game_analytics.health.alert_store import evaluate_alerts
    from game_analytics.health.measure import measure, record_measurements, refresh_event_volume
    from game_analytics.health.reconcile import reconcile_outcomes

    now = measured_instant(now)
    started = time.monotonic()
    timings: dict[str, float] = {}
    laps = Laps(timings)
    reconciled = reconcile_outcomes(client, settings, now, airflow_runs or [])
    laps.lap("reconcile")
    if airflow_runs is None:
        log.warning("no runs from Airflow: outcomes not reconciled (measured from the recorded ones alone)")
    refresh_event_volume(client, settings, now)
    laps.lap("event_volume")
    measurements = measure(client, settings, now, kafka_config)
    laps.lap("measure")
    record_measurements(client, settings, now, measurements)
    laps.lap("record")
    alerts = evaluate_alerts(client, settings, now, measurements, deliver)
    laps.lap("alerts")
    report = HealthReport(
        measured_at=now.isoformat(),
        measurements=len(measurements),
        firing=[f"{a.rule}[{a.subject}]" if a.subject else a.rule for a in alerts.firing],
        notifications_created=alerts.created,
        notifications_delivered=alerts.delivered,
        outcomes_reconciled=[f"{r.dag_id} {r.run_id} {r.state}" for r in reconciled],
        reconciled_with_airflow=airflow_runs is not None,
        seconds=round(time.monotonic() - started, 3),
        timings=timings,
    )
    log.info("health check: %s", report.to_dict())
    return report
