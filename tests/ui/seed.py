"""Known rows for the health page's tables, relative to an instant ``now``, and how to remove them again.

The same rows serve the snapshot test (a private dataset) and the page tests (the dataset the api-server reads,
shared with the session: every row seeded here is identified so that it can be deleted, and what it replaces is put
back). Values are chosen so each tile has a different colour: lag red (partition 3 over 100,000), freshness amber,
DLQ rate green; one day's run failed, another day has a failed run then a successful re-run; warn and fail checks
carry messages and offending values; one alert fires, one is resolved; rows just outside each window are planted
too, so a read that ignores its window shows them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from game_analytics.dag_defaults import DAILY_DAG, INGEST_DAG
from tests.sql.rows import Warehouse

RUN_PREFIX = "ui-test-"
CHECK_TABLE = "ui_test_table"  # check_results rows of this test, never a real table's
# An expired alert: a check of a day older than the alert horizon that nobody fixed (the page lists it apart).
EXPIRED = ("check_failed", "level_metrics.rates_in_unit_interval@2026-01-01", "expired")
ALERTS = [("high_kafka_lag", "3", "firing"), ("data_freshness", "", "resolved"), EXPIRED]
LAGS = {"0": 12.0, "1": 0.0, "2": 4_500.0, "3": 123_456.0, "4": 7.0, "5": 0.0, "6": 90.0, "7": 1.0}


@dataclass
class Seed:
    now: datetime
    measured_at: datetime
    older_measured_at: datetime
    rows: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def hours(self) -> list[datetime]:
        current = self.now.replace(minute=0, second=0, microsecond=0)
        return [current - timedelta(hours=n) for n in range(24, -1, -1)]


def build(now: datetime) -> Seed:
    measured_at = now.replace(microsecond=0) - timedelta(seconds=30)
    seed = Seed(now, measured_at, measured_at - timedelta(minutes=5))
    latest = {
        ("events_per_second", ""): 812.5,
        ("seconds_since_successful_ingestion", ""): 240.0,
        ("freshness_seconds", ""): 2_100.0,  # amber: above half of data_freshness's 3600 s
        ("dlq_rate", ""): 0.0042,  # green: below half of 1 %
        ("dead_lettered_24h", "invalid_json"): 12.0,
        ("dead_lettered_24h", "missing_required_field"): 3.0,
        ("events_24h", "level"): 30_000.0,
        ("failed_checks", f"{CHECK_TABLE}.not_null@{(now.date() - timedelta(days=2)).isoformat()}"): 2.0,
        ("dag_run_failed", DAILY_DAG): 0.0,
        **{("kafka_lag_messages", p): v for p, v in LAGS.items()},
        **{("kafka_lag_seconds", p): (600.0 if v else 0.0) for p, v in LAGS.items()},
    }
    seed.rows["health_measurements"] = [
        {"measured_at": measured_at, "metric": m, "subject": s, "value": v} for (m, s), v in latest.items()
    ] + [  # an older run with other values: the page must not show them
        {"measured_at": seed.older_measured_at, "metric": "events_per_second", "subject": "", "value": 1.0},
        {"measured_at": seed.older_measured_at, "metric": "kafka_lag_messages", "subject": "9", "value": 5e6},
    ]
    volume = []
    for index, hour in enumerate(seed.hours):
        volume += [
            {"hour": hour, "event_group": "level", "events": 900 + 37 * index, "measured_at": measured_at},
            {"hour": hour, "event_group": "purchase", "events": 20 + index, "measured_at": measured_at},
            {"hour": hour, "event_group": "session", "events": 300 + (index * 53) % 200, "measured_at": measured_at},
        ]
    volume.append(  # one hour too old for the chart
        {"hour": seed.hours[0] - timedelta(hours=1), "event_group": "level", "events": 99_999, "measured_at": now}
    )
    seed.rows["event_volume_hourly"] = volume
    seed.rows["dag_run_outcomes"] = _runs(now)
    seed.rows["check_results"] = _checks(now)
    seed.rows["alert_state"] = [
        {
            "rule": rule,
            "subject": subject,
            "status": status,
            "severity": "critical",
            "value": LAGS["3"] if rule == "high_kafka_lag" else 4000.0,
            "threshold": 100_000.0 if rule == "high_kafka_lag" else 3600.0,
            "message": (
                f"partition 3 is {LAGS['3']:.0f} messages behind (threshold 100000)"
                if status != "expired"
                else f"expired, not fixed: {subject} is older than the horizon. Last: check {subject} failed"
            ),
            "fired_at": measured_at - timedelta(minutes=15),
            "resolved_at": measured_at if status == "resolved" else None,
            "last_notified_at": measured_at - timedelta(minutes=15),
            "updated_at": measured_at,
        }
        for rule, subject, status in ALERTS
    ]
    return seed


def _runs(now: datetime) -> list[dict]:
    today = now.date()
    rows = []
    for back in range(1, 8):
        day = today - timedelta(days=back)
        if back == 5:
            continue  # a day without a finished run
        finished = datetime.combine(day + timedelta(days=1), datetime.min.time(), now.tzinfo) + timedelta(hours=2)
        state = "failed" if back in (2, 4) else "success"
        rows.append(_run(DAILY_DAG, f"{RUN_PREFIX}{day}", day, state, finished))
        if back == 4:  # re-run later and succeeded: the newest run of the day counts
            rows.append(_run(DAILY_DAG, f"{RUN_PREFIX}{day}-rerun", day, "success", finished + timedelta(hours=1)))
    older = today - timedelta(days=8)  # outside the 7 days
    rows.append(_run(DAILY_DAG, f"{RUN_PREFIX}{older}", older, "failed", now - timedelta(days=7, hours=1)))
    rows.append(_run(INGEST_DAG, f"{RUN_PREFIX}ingest", None, "failed", now - timedelta(hours=1)))
    return [r for r in rows if r["finished_at"] <= now]


def _run(dag_id: str, run_id: str, day, state: str, finished_at: datetime) -> dict:
    failed = "checks_events" if state == "failed" else None
    return {
        "dag_id": dag_id,
        "run_id": run_id,
        "day": day,
        "state": state,
        "failed_tasks": failed,
        "finished_at": finished_at,
    }


def _checks(now: datetime) -> list[dict]:
    rows = []
    for back in range(1, 9):  # day 8 is outside the window
        day = now.date() - timedelta(days=back)
        statuses = {"not_null": "fail" if back == 2 else "pass", "volume_drop": "warn" if back == 3 else "pass"}
        for check, status in statuses.items():
            offending = [{"user_id": f"u{i}", "level_id": None} for i in range(2)] if status != "pass" else []
            rows.append(
                {
                    "day": day,
                    "table_name": CHECK_TABLE,
                    "check_name": check,
                    "severity": "fail" if check == "not_null" else "warn",
                    "status": status,
                    "message": f"{len(offending)} row(s) with a NULL level_id" if offending else None,
                    "offending_rows": len(offending),
                    "offending_values": json.dumps(offending) if offending else None,
                    "dag_run_id": f"{RUN_PREFIX}{day}",
                    "checked_at": now - timedelta(hours=1),
                }
            )
    return rows


def _keys(seed: Seed) -> dict[str, str]:
    """A WHERE clause per table that selects what ``seed`` writes (and what it replaces)."""
    hours = seed.hours
    first, last = hours[0] - timedelta(hours=1), hours[-1]
    alerts = " OR ".join(f"(rule = '{r}' AND subject = '{s}')" for r, s, _ in ALERTS)
    stamps = ", ".join(f"TIMESTAMP '{t.isoformat()}'" for t in (seed.measured_at, seed.older_measured_at))
    return {
        "health_measurements": f"measured_at IN ({stamps})",
        "event_volume_hourly": f"`hour` BETWEEN TIMESTAMP '{first.isoformat()}' AND TIMESTAMP '{last.isoformat()}'",
        "dag_run_outcomes": f"STARTS_WITH(run_id, '{RUN_PREFIX}')",
        "check_results": f"table_name = '{CHECK_TABLE}'",
        "alert_state": alerts,
    }


def _utc_naive(rows: list[dict]) -> list[dict]:
    """tests.sql.rows writes a datetime as UTC without an offset: convert aware ones (the emulator returns those)."""
    return [
        {k: v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v for k, v in r.items()}
        for r in rows
    ]


def plant(warehouse: Warehouse, seed: Seed, keys: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Replace the rows ``seed`` owns (``keys``: table -> the WHERE of its rows; the health seed's by default) with
    its rows; returns what was there, for :func:`restore`."""
    replaced = {}
    for table, where in (keys or _keys(seed)).items():
        replaced[table] = warehouse.run(f"SELECT * FROM {warehouse.table(table)} WHERE {where}")
        warehouse.run(f"DELETE FROM {warehouse.table(table)} WHERE {where}")
        warehouse.insert(table, _utc_naive(seed.rows[table]))
    return replaced


def restore(
    warehouse: Warehouse, seed: Seed, replaced: dict[str, list[dict]], keys: dict[str, str] | None = None
) -> None:
    for table, where in (keys or _keys(seed)).items():
        warehouse.run(f"DELETE FROM {warehouse.table(table)} WHERE {where}")
        warehouse.insert(table, _utc_naive(replaced.get(table, [])))
