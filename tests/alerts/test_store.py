"""Alert states and the outbox in the warehouse (BigQuery emulator), delivered to a real webhook receiver:
re-running an instant creates nothing new, a killed run's notification is delivered once by the next run."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.health.alert_store import evaluate_alerts, pending, read_states
from game_analytics.health.rules import load_rules
from game_analytics.localstack.environment import REPO_ROOT
from game_analytics.notify.notifier import deliver as notifier_deliver
from game_analytics.warehouse.client import query_rows

pytestmark = pytest.mark.stack

T0 = datetime(2024, 2, 29, 23, 55, tzinfo=UTC)  # crosses midnight and a month end (Feb 29) in the runs below


@dataclasses.dataclass(frozen=True)
class M:
    metric: str
    subject: str
    value: float


def outbox(client, settings) -> list[dict]:
    table = f"`{settings.bq_project}.{settings.bq_dataset}.alert_notifications`"
    return query_rows(client, f"SELECT * FROM {table} ORDER BY created_at, notification_id")


def run(client, settings, now, *measurements):
    return evaluate_alerts(client, settings, now, measurements, lambda body: notifier_deliver(body, settings), {})


def test_fires_resolves_and_reruns_create_no_duplicates(warehouse, alert_settings, receiver):
    settings = dataclasses.replace(alert_settings, alert_reminder_hours=0)
    lag = [M("kafka_lag_messages", "3", 250_000), M("kafka_lag_messages", "4", 10)]
    first = run(warehouse, settings, T0, *lag)
    assert (first.created, first.delivered, first.failed) == (1, 1, 0)
    assert [(s.rule, s.subject) for s in first.firing] == [("high_kafka_lag", "3")]
    again = run(warehouse, settings, T0, *lag)  # a retried task: the same instant
    assert (again.created, again.delivered) == (0, 0) and len(again.firing) == 1
    later = run(warehouse, settings, T0 + timedelta(minutes=10), M("kafka_lag_messages", "3", 300_000))
    assert (later.created, later.delivered) == (0, 0)
    resolved = run(warehouse, settings, T0 + timedelta(minutes=15), M("kafka_lag_messages", "3", 5))
    assert (resolved.created, resolved.delivered, resolved.firing) == (1, 1, [])
    run(warehouse, settings, T0 + timedelta(minutes=15), M("kafka_lag_messages", "3", 5))

    received = receiver.received()
    assert [(b["rule"], b["subject"], b["kind"]) for b in received] == [
        ("high_kafka_lag", "3", "firing"),
        ("high_kafka_lag", "3", "resolved"),
    ]
    assert received[0]["notification_id"] == f"high_kafka_lag|3|{T0.isoformat()}|firing"
    assert received[0]["runbook_url"] == f"{settings.airflow_base_url}/pipeline-health/runbooks#high_kafka_lag"
    assert received[0]["summary"] == "Ingestion is far behind the raw topic" and received[0]["severity"] == "critical"
    rows = outbox(warehouse, settings)
    assert [r["notification_id"] for r in rows] == [b["notification_id"] for b in received]
    assert all(r["delivered_at"] is not None and r["delivery_error"] is None for r in rows)
    (state,) = read_states(warehouse, settings)
    assert (state.status, state.value, state.fired_at, state.resolved_at) == (
        "resolved", 5.0, T0, T0 + timedelta(minutes=15),
    )  # fmt: skip


def test_a_failed_delivery_stays_pending_and_is_sent_by_the_next_run(warehouse, alert_settings, receiver):
    unreachable = dataclasses.replace(alert_settings, alert_webhook_url="http://127.0.0.1:9/alerts")
    failed = run(warehouse, unreachable, T0, M("dlq_rate", "", 0.2))
    assert (failed.created, failed.delivered, failed.failed) == (1, 0, 1)
    assert "GA_ALERT_WEBHOOK_URL=http://127.0.0.1:9/alerts" in failed.errors[0]
    (row,) = outbox(warehouse, alert_settings)
    assert row["delivered_at"] is None and "not reachable" in row["delivery_error"]
    later = T0 + timedelta(minutes=5)
    assert [n.rule for n in pending(warehouse, alert_settings, later, {})] == ["high_dlq_rate"]
    retried = run(warehouse, alert_settings, later, M("dlq_rate", "", 0.2))
    assert (retried.created, retried.delivered, retried.failed) == (0, 1, 0)
    assert [b["kind"] for b in receiver.received()] == ["firing"]
    assert pending(warehouse, alert_settings, later, {}) == []


def test_a_partial_evaluation_delivers_what_others_left_pending_with_their_rule(warehouse, alert_settings, receiver):
    """A DAG failure callback evaluates one rule only; a notification of another rule still pending goes out with
    its own rule's summary, not the rule's name."""
    unreachable = dataclasses.replace(alert_settings, alert_webhook_url="http://127.0.0.1:9/alerts")
    run(warehouse, unreachable, T0, M("dlq_rate", "", 0.2))
    later = T0 + timedelta(minutes=1)
    evaluate_alerts(
        warehouse, alert_settings, later, [M("dag_run_failed", "game_analytics_daily", 1.0)],
        lambda body: notifier_deliver(body, alert_settings), {}, only_rules={"airflow_dag_failed"},
    )  # fmt: skip
    rules = {r.name: r for r in load_rules(alert_settings, {})}
    assert {(b["rule"], b["summary"]) for b in receiver.received()} == {
        (name, rules[name].summary) for name in ("high_dlq_rate", "airflow_dag_failed")
    }


# The killed run: a health run's alert step in its own process, SIGKILLed at a crash point (GA_INGEST_CRASH_AT).
_KILLED_RUN = """
import json, sys
from datetime import datetime
from game_analytics.config import load_settings
from game_analytics.health.alert_store import evaluate_alerts
from game_analytics.notify.notifier import deliver
from game_analytics.warehouse.client import bigquery_client
from tests.alerts.test_store import M

settings = load_settings()
measurements = [M(*m) for m in json.loads(sys.argv[2])]
evaluate_alerts(bigquery_client(settings), settings, datetime.fromisoformat(sys.argv[1]), measurements, deliver)
"""
FAILING = [("failed_checks", "level_metrics.not_null@2024-02-29", 3.0), ("dag_run_failed", "game_analytics_daily", 1.0)]


@pytest.mark.parametrize(
    "point, received_by_killed",
    [
        ("alerts_after_record", 0),  # persisted, nothing sent: the next run sends both
        ("alerts_after_mark", 1),  # one sent and marked: the next run sends the other
        ("alerts_after_send", 1),  # the window: sent, not marked: sent again (same notification_id)
    ],
)
def test_a_killed_run_loses_nothing_and_repeats_only_an_unmarked_send(
    warehouse, alert_settings, receiver, point, received_by_killed
):
    env = {
        **os.environ,
        "GA_BQ_DATASET": alert_settings.bq_dataset,
        "GA_ALERT_CHANNELS": "webhook",
        "GA_ALERT_WEBHOOK_URL": receiver.url,
        "GA_INGEST_CRASH_AT": point,
    }
    argv = [sys.executable, "-c", _KILLED_RUN, T0.isoformat(), json.dumps(FAILING)]
    killed = subprocess.run(argv, env=env, capture_output=True, cwd=REPO_ROOT)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert len(receiver.received()) == received_by_killed
    report = run(warehouse, alert_settings, T0 + timedelta(minutes=5), *(M(*m) for m in FAILING))
    assert report.created == 0  # the killed run's states were persisted
    ids = [b["notification_id"] for b in receiver.received()]
    expected = {
        f"airflow_dag_failed|game_analytics_daily|{T0.isoformat()}|firing",
        f"check_failed|level_metrics.not_null@2024-02-29|{T0.isoformat()}|firing",
    }
    assert set(ids) == expected
    assert len(ids) == 2 + (point == "alerts_after_send")
    assert pending(warehouse, alert_settings, T0 + timedelta(minutes=5), {}) == []


def test_rules_are_the_ones_evaluated(warehouse, alert_settings, receiver):
    """A lowered threshold (GA_ALERT_<RULE>_THRESHOLD) is what evaluate_alerts applies."""
    env = {"GA_ALERT_DATA_FRESHNESS_THRESHOLD": "60"}
    assert {r.name: r.threshold for r in load_rules(environ=env)}["data_freshness"] == 60
    report = evaluate_alerts(warehouse, alert_settings, T0, [M("freshness_seconds", "", 120.0)], lambda b: None, env)
    assert [s.rule for s in report.firing] == ["data_freshness"]


def test_an_outbox_id_is_stored_once_even_when_written_twice(warehouse, settings):
    """The outbox's own guard (not only the states): writing the same step twice, as two racing runs of one
    instant would, stores each notification once."""
    from game_analytics.health.alert_store import record_step
    from game_analytics.health.lifecycle import advance

    step = advance(load_rules(environ={}), [M("dlq_rate", "", 0.5)], [], T0, 4, lambda r: r.runbook_url(settings))
    record_step(warehouse, settings, T0, step.states, step.notifications)
    record_step(warehouse, settings, T0, step.states, step.notifications)
    assert [r["notification_id"] for r in outbox(warehouse, settings)] == [f"high_dlq_rate||{T0.isoformat()}|firing"]
    assert [n.kind for n in pending(warehouse, settings, T0, {})] == ["firing"]


def test_an_instant_with_microseconds_is_marked_delivered_once(warehouse, alert_settings, receiver):
    """The deadline callback's clock has microseconds: its notification is marked, not sent again next run
    (the emulator misreads such a literal after an SQL comment with an apostrophe: the templates keep theirs in
    Jinja)."""
    now = T0 + timedelta(microseconds=624475)
    assert run(warehouse, alert_settings, now, M("dlq_rate", "", 0.5)).delivered == 1
    assert run(warehouse, alert_settings, now + timedelta(minutes=5), M("dlq_rate", "", 0.5)).delivered == 0
    assert len(receiver.received()) == 1


def test_a_failed_day_expires_past_the_horizon_then_its_later_success_resolves_it(warehouse, alert_settings, receiver):
    """Issue 18 through the store and the receiver: a daily run's failure of D fires (callback), stays firing while D
    is within the horizon, expires (one notice, "not fixed") once D is older, and a successful backfill of D then
    resolves it from its success callback (no health run measures D any more)."""
    from types import SimpleNamespace

    from game_analytics.health.dag_callbacks import _resolve_a_day_beyond_the_horizon, fire_dag_failed

    settings = dataclasses.replace(alert_settings, alert_horizon_days=2, alert_reminder_hours=0)
    day = (T0 - timedelta(days=1)).date()
    context = {"dag": SimpleNamespace(dag_id="game_analytics_daily"), "run_id": "scheduled__d", "reason": "x",
               "dag_run": SimpleNamespace(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))}  # fmt: skip
    subject = f"game_analytics_daily@{day}"
    fire_dag_failed(context, settings, warehouse, now=T0)
    run(warehouse, settings, T0 + timedelta(days=1), M("dag_run_failed", subject, 1.0))  # D within the horizon
    expired_at = T0 + timedelta(days=3)  # the horizon starts after D: D is not measured any more
    assert run(warehouse, settings, expired_at).firing == []
    assert [(s.subject, s.status) for s in read_states(warehouse, settings)] == [(subject, "expired")]
    assert run(warehouse, settings, expired_at + timedelta(minutes=5)).created == 0  # stays expired, quietly
    _resolve_a_day_beyond_the_horizon(context, settings, warehouse, now=expired_at + timedelta(hours=1))
    assert [(b["subject"], b["kind"]) for b in receiver.received()] == [
        (subject, "firing"), (subject, "expired"), (subject, "resolved"),
    ]  # fmt: skip
    assert [(s.subject, s.status) for s in read_states(warehouse, settings)] == [(subject, "resolved")]
