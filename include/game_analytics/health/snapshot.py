"""What the "Pipeline health" page, its JSON API and ``/metrics`` show, read from the warehouse in one place.

The ``pipeline_health`` DAG measures and evaluates; the page only reads what it persisted (so the page, the API and
Prometheus agree with the alerts, and a page view never queries the raw topic or recomputes a measurement):
the latest measurements (one health run, the newest ``measured_at``), the hourly event volume of the last 24 h, the
last 7 days of daily runs with every check's result, the alerts firing now and the expired ones (a day's failure
older than the alert horizon, never fixed). Every read filters the partitions it
needs (a window ending at ``now``); ``now`` is an argument, so tests choose the instant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from game_analytics.config import Settings
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.health.run import measured_instant
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import render_sql

# How far back the page looks for the newest health run: older than this shows as "no measurement".
MEASUREMENT_LOOKBACK = timedelta(days=2)
VOLUME_HOURS = 24
RUN_DAYS = 7


@dataclass(frozen=True)
class HourVolume:
    hour: datetime
    event_group: str
    events: int


@dataclass(frozen=True)
class DailyRun:
    day: date
    state: str
    run_id: str
    failed_tasks: str
    finished_at: datetime


@dataclass(frozen=True)
class CheckResult:
    day: date
    table_name: str
    check_name: str
    severity: str
    status: str
    message: str
    offending_rows: int
    offending_values: list

    @property
    def name(self) -> str:
        return f"{self.table_name}.{self.check_name}"


@dataclass(frozen=True)
class FiringAlert:
    rule: str
    subject: str
    severity: str
    value: float | None
    threshold: float | None
    message: str
    fired_at: datetime | None


@dataclass
class HealthSnapshot:
    now: datetime
    measured_at: datetime | None
    # metric -> subject -> value of the newest health run
    measurements: dict[str, dict[str, float | None]] = field(default_factory=dict)
    volume: list[HourVolume] = field(default_factory=list)
    run_days: list[date] = field(default_factory=list)  # the 7 days D shown, newest first
    runs: dict[date, DailyRun] = field(default_factory=dict)  # the latest finished run of each day D
    checks: list[CheckResult] = field(default_factory=list)
    alerts: list[FiringAlert] = field(default_factory=list)
    expired: list[FiringAlert] = field(default_factory=list)  # older than the horizon, not fixed (expired lately)

    def value(self, metric: str, subject: str = "") -> float | None:
        return self.measurements.get(metric, {}).get(subject)

    def values(self, metric: str) -> dict[str, float | None]:
        return self.measurements.get(metric, {})

    @property
    def volume_hours(self) -> list[datetime]:
        """The 24 whole hours before ``now`` plus the current one, oldest first (every hour, with data or not)."""
        current = self.now.replace(minute=0, second=0, microsecond=0)
        return [current - timedelta(hours=n) for n in range(VOLUME_HOURS, -1, -1)]


def _timestamp(value: datetime, round_up: bool = False) -> str:
    """A UTC instant as SQL text, in whole seconds (the emulator misreads fractional seconds in a literal); an upper
    bound is rounded up so that it still includes its own second."""
    value = value.astimezone(UTC)
    whole = measured_instant(value) if round_up else value.replace(microsecond=0)
    return f"{whole:%Y-%m-%d %H:%M:%S}+00:00"


def read_snapshot(client, settings: Settings, now: datetime) -> HealthSnapshot:
    """Everything the page shows as of ``now`` (timezone-aware UTC)."""
    snapshot = read_metrics_snapshot(client, settings, now)
    expired_since = (now - timedelta(days=settings.alert_horizon_days)).astimezone(UTC).isoformat()
    snapshot.expired = _alerts_with_status(client, settings, "expired", updated_since=expired_since)
    _read_volume(client, settings, snapshot)
    _read_runs_and_checks(client, settings, snapshot)
    return snapshot


def read_metrics_snapshot(client, settings: Settings, now: datetime) -> HealthSnapshot:
    """What ``/metrics`` exposes: the latest measurements and the alerts firing (two small reads per scrape)."""
    snapshot = HealthSnapshot(now=now, measured_at=None)
    _read_measurements(client, settings, snapshot)
    snapshot.alerts = _alerts_with_status(client, settings, "firing")
    return snapshot


def _alerts_with_status(client, settings: Settings, status: str, updated_since: str = "") -> list[FiringAlert]:
    """The alerts of ``status`` (the expired ones: those that expired since ``updated_since``)."""
    return [
        FiringAlert(
            rule=row["rule"],
            subject=row["subject"],
            severity=row["severity"] or "",
            value=row["value"],
            threshold=row["threshold"],
            message=row["message"] or "",
            fired_at=row["fired_at"],
        )
        for row in query_rows(
            client, render_sql("alert_state/with_status.sql", settings, status=status, updated_since=updated_since)
        )
    ]


def _read_measurements(client, settings: Settings, snapshot: HealthSnapshot) -> None:
    sql = render_sql(
        "health_measurements/latest.sql",
        settings,
        since=_timestamp(snapshot.now - MEASUREMENT_LOOKBACK),
        now=_timestamp(snapshot.now, round_up=True),
    )
    for row in query_rows(client, sql):
        snapshot.measured_at = row["measured_at"]
        snapshot.measurements.setdefault(row["metric"], {})[row["subject"]] = row["value"]


def _read_volume(client, settings: Settings, snapshot: HealthSnapshot) -> None:
    hours = snapshot.volume_hours
    sql = render_sql(
        "event_volume_hourly/last_24h.sql", settings, first_hour=_timestamp(hours[0]), last_hour=_timestamp(hours[-1])
    )
    snapshot.volume = [
        HourVolume(row["hour"], row["event_group"], int(row["events"])) for row in query_rows(client, sql)
    ]


def _read_runs_and_checks(client, settings: Settings, snapshot: HealthSnapshot) -> None:
    # Day D is processed on D+1 or later: the 7 days before today (UTC), newest first.
    today = snapshot.now.date()
    snapshot.run_days = [today - timedelta(days=n) for n in range(1, RUN_DAYS + 1)]
    first_day, last_day = snapshot.run_days[-1].isoformat(), snapshot.run_days[0].isoformat()
    runs_sql = render_sql(
        "dag_run_outcomes/daily_runs.sql",
        settings,
        dag_id=DAILY_DAG,
        first_day=first_day,
        last_day=last_day,
        # a run of D finishes after D ends; a later backfill of D still counts, up to now
        finished_since=_timestamp(datetime.combine(snapshot.run_days[-1], datetime.min.time(), snapshot.now.tzinfo)),
        now=_timestamp(snapshot.now, round_up=True),
    )
    for row in query_rows(client, runs_sql):
        snapshot.runs[row["day"]] = DailyRun(
            day=row["day"],
            state=row["state"],
            run_id=row["run_id"],
            failed_tasks=row["failed_tasks"] or "",
            finished_at=row["finished_at"],
        )
    checks_sql = render_sql("check_results/last_days.sql", settings, first_day=first_day, last_day=last_day)
    snapshot.checks = [
        CheckResult(
            day=row["day"],
            table_name=row["table_name"],
            check_name=row["check_name"],
            severity=row["severity"],
            status=row["status"],
            message=row["message"] or "",
            offending_rows=int(row["offending_rows"] or 0),
            offending_values=_json_list(row["offending_values"]),
        )
        for row in query_rows(client, checks_sql)
    ]


def _json_list(raw: str | None) -> list:
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return [raw]  # shown as written rather than hidden
    return value if isinstance(value, list) else [value]
