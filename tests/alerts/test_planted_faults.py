"""Each alert rule under its planted fault, on the local stack: it fires exactly once, stays quiet while the fault
lasts, and resolves exactly once when the fault is removed.

Real pieces only: events through the Kafka broker, the real ingestion into the BigQuery emulator, the health run
of ``pipeline_health`` (measure -> record -> evaluate), a real webhook receiver as the inbox. Thresholds that
would need hours are lowered through their ``GA_ALERT_<RULE>_THRESHOLD`` variables, so a fault shows in seconds.
The instant of each health run is the real clock: ingestion stamps rows with it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from airflow.sdk import DAG

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily.quality import DataQualityError, run_table_checks
from game_analytics.health.dag_callbacks import outcome_callbacks
from game_analytics.health.run import run_health_check
from game_analytics.ingest import run_ingestion
from game_analytics.localstack.environment import REPO_ROOT
from game_analytics.notify.notifier import deliver
from game_analytics.producer import generate_events, make_messages, produce
from game_analytics.producer.bad_messages import format_timestamp
from game_analytics.warehouse.client import query_rows
from tests.ingest.conftest import kafka_config, topics  # noqa: F401 - fixtures

pytestmark = pytest.mark.stack

GROUP = "planted-faults"
BOUNDS = {"max_messages_per_batch": 500, "max_batch_seconds": 5, "max_run_seconds": 60}


@pytest.fixture
def stack(settings, topics, warehouse, kafka_config, alert_settings):  # noqa: F811 - fixtures
    """This test's dataset and topics, alerts to its own receiver, the DLQ rate over the last run only."""
    raw, dlq = topics
    test_settings = dataclasses.replace(alert_settings, raw_topic=raw, dlq_topic=dlq, health_dlq_rate_runs=1)
    return Stack(test_settings, warehouse, {**kafka_config, "group.id": GROUP})


@dataclasses.dataclass
class Stack:
    settings: object
    bq: object
    kafka_config: dict

    def produce(self, count: int, bad_rate: float = 0.0, seed: int = 1) -> int:
        """``count`` events stamped within the last minutes (no day is left without its daily run), plus
        ``bad_rate`` planted bad messages."""
        now = datetime.now(UTC)
        start = (now - timedelta(days=1)).date()
        events = list(generate_events(seed, start, 2, 150))[-count:]
        for i, event in enumerate(events):
            event["timestamp"] = format_timestamp(now - timedelta(seconds=len(events) - i))
        messages = make_messages(events, "json", bad_rate, seed=seed, now=now)
        return produce(messages, {"bootstrap.servers": self.kafka_config["bootstrap.servers"]}, self.settings.raw_topic)

    def ingest(self):
        return run_ingestion(self.settings, self.kafka_config, group_id=GROUP, client=self.bq, **BOUNDS)

    def check(self):
        return run_health_check(
            self.bq, self.settings, datetime.now(UTC), self.kafka_config, lambda body: deliver(body, self.settings)
        )


def notices(receiver, rule: str) -> list[tuple[str, str]]:
    """(kind, subject) of every notification of ``rule`` the receiver got, in order."""
    return [(n["kind"], n["subject"]) for n in receiver.received() if n["rule"] == rule]


def firing(report, rule: str) -> bool:
    return any(f == rule or f.startswith(f"{rule}[") for f in report.firing)


def test_data_freshness_and_ingestion_stalled(stack, receiver, monkeypatch):
    """Stop producing: events go stale although ingestion runs (data_freshness only). Then stop ingesting:
    ingestion_stalled too. Ingest fresh events: both resolve, once."""
    monkeypatch.setenv("GA_ALERT_DATA_FRESHNESS_THRESHOLD", "6")
    monkeypatch.setenv("GA_ALERT_INGESTION_STALLED_THRESHOLD", "6")
    stack.produce(100)
    stack.ingest()
    assert not stack.check().firing
    time.sleep(7)
    stack.ingest()  # nothing to read, but a successful run
    report = stack.check()
    assert firing(report, "data_freshness") and not firing(report, "ingestion_stalled")
    stack.produce(100, seed=2)  # produced, not ingested
    time.sleep(7)
    report = stack.check()
    assert firing(report, "data_freshness") and firing(report, "ingestion_stalled")
    stack.ingest()
    assert not stack.check().firing
    assert notices(receiver, "data_freshness") == [("firing", ""), ("resolved", "")]
    assert notices(receiver, "ingestion_stalled") == [("firing", ""), ("resolved", "")]


def test_high_dlq_rate_fires_on_a_burst_of_bad_messages(stack, receiver):
    stack.produce(200)
    stack.ingest()
    assert not stack.check().firing
    stack.produce(200, bad_rate=0.5, seed=2)
    assert stack.ingest().dead_lettered > 0
    assert firing(stack.check(), "high_dlq_rate")
    assert firing(stack.check(), "high_dlq_rate")  # still firing: no second notification
    stack.produce(200, seed=3)
    stack.ingest()
    assert not stack.check().firing
    assert notices(receiver, "high_dlq_rate") == [("firing", ""), ("resolved", "")]


def test_high_kafka_lag_fires_per_partition_while_nobody_ingests(stack, receiver, monkeypatch):
    monkeypatch.setenv("GA_ALERT_HIGH_KAFKA_LAG_THRESHOLD", "20")
    stack.produce(40)
    stack.ingest()
    assert not stack.check().firing
    stack.produce(400, seed=2)  # about 100 per partition of 4, not ingested
    report = stack.check()
    lagging = sorted(f for f in report.firing if f.startswith("high_kafka_lag["))
    assert lagging, report.firing
    stack.check()
    stack.ingest()
    assert not stack.check().firing
    got = notices(receiver, "high_kafka_lag")
    subjects = {s for _, s in got}
    assert sorted(got) == sorted([("firing", s) for s in subjects] + [("resolved", s) for s in subjects])
    assert {f"high_kafka_lag[{s}]" for s in subjects} == set(lagging)


def test_a_daily_run_failing_a_fail_check(stack, receiver, monkeypatch):
    """A fail check fails (check_failed) and the run fails: its DAG callbacks (called as the dag-processor calls
    them) record the outcome and fire airflow_dag_failed at once; the health runs after it send nothing more. The
    fixed data passes on the re-run, which succeeds: both resolve, once."""
    settings, bq = stack.settings, stack.bq
    for name, value in (("GA_BQ_DATASET", settings.bq_dataset), ("GA_ALERT_CHANNELS", "webhook"),
                        ("GA_ALERT_WEBHOOK_URL", settings.alert_webhook_url)):  # fmt: skip
        monkeypatch.setenv(name, value)  # what the callbacks read (load_settings), as in Airflow
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    table = settings.table("level_metrics")
    bq.query(f"INSERT INTO {table} (level_id, `date`, attempts, pass_rate) VALUES (7, DATE '{day}', 10, 1.5)").result()

    def context_of(run_id: str, of_day) -> dict:
        return {
            "dag": DAG(dag_id=DAILY_DAG, schedule=None),
            "run_id": run_id,
            "dag_run": SimpleNamespace(
                logical_date=datetime(of_day.year, of_day.month, of_day.day, tzinfo=UTC), end_date=None
            ),  # fmt: skip
            "ti": SimpleNamespace(task_id="checks_level_metrics"),
            "reason": "task_failure",
        }

    def daily_run(run_id: str) -> None:
        context = context_of(run_id, day)
        try:
            run_table_checks(lambda sql: query_rows(bq, sql), settings, "level_metrics", day.isoformat(), client=bq)
        except DataQualityError:
            for callback in outcome_callbacks()["on_failure_callback"]:
                callback(context)
        else:
            outcome_callbacks()["on_success_callback"](context)

    subject = f"{DAILY_DAG}@{day}"  # the daily DAG's failures are per day (issue 18)
    daily_run("scheduled__1")
    assert notices(receiver, "airflow_dag_failed") == [("firing", subject)]  # at once, from the callback
    report = stack.check()
    assert firing(report, "check_failed") and firing(report, "airflow_dag_failed")
    # The next day's run succeeds: that does not fix this day (it used to resolve the DAG's one alert).
    outcome_callbacks()["on_success_callback"](context_of("scheduled__next", day + timedelta(days=1)))
    report = stack.check()
    assert f"airflow_dag_failed[{subject}]" in report.firing
    bq.query(f"DELETE FROM {table} WHERE `date` = DATE '{day}'").result()  # the fix
    daily_run("manual__2")
    report = stack.check()  # (nothing was ever ingested here: data_freshness and ingestion_stalled have no data yet)
    assert not firing(report, "check_failed") and not firing(report, "airflow_dag_failed")
    check_subject = f"level_metrics.rates_in_unit_interval@{day}"
    assert ("firing", check_subject) in notices(receiver, "check_failed")
    assert notices(receiver, "airflow_dag_failed") == [("firing", subject), ("resolved", subject)]
    for subject in {s for _, s in notices(receiver, "check_failed")}:
        assert [k for k, s in notices(receiver, "check_failed") if s == subject] == ["firing", "resolved"]


_HEALTH_RUN = """
import json, sys
from datetime import UTC, datetime
from game_analytics.config import load_settings
from game_analytics.health.run import run_health_check
from game_analytics.notify.notifier import deliver
from game_analytics.warehouse.client import bigquery_client
settings = load_settings()
run_health_check(bigquery_client(settings), settings, datetime.now(UTC), json.loads(sys.argv[1]), deliver)
"""


@pytest.mark.parametrize("notified_before", [True, False], ids=["already-notified", "killed-on-first-fire"])
def test_killing_the_health_run_while_an_alert_fires_sends_no_duplicate(stack, receiver, notified_before):
    """A health run killed mid-way (SIGKILL once its alert states are persisted) while the burst's alert fires,
    then the next run: the inbox holds exactly one notification of it, whether it had been sent before the kill
    or the killed run was the one that found it firing. (A kill between a send and its mark:
    tests/alerts/test_store.py; that one notification may arrive twice, with the same notification_id.)"""
    stack.produce(200, bad_rate=0.5)
    stack.ingest()
    if notified_before:
        assert firing(stack.check(), "high_dlq_rate")
    settings = stack.settings
    env = {
        **os.environ,
        "GA_BQ_DATASET": settings.bq_dataset,
        "GA_RAW_TOPIC": settings.raw_topic,
        "GA_HEALTH_DLQ_RATE_RUNS": "1",
        "GA_ALERT_CHANNELS": "webhook",
        "GA_ALERT_WEBHOOK_URL": settings.alert_webhook_url,
        "GA_INGEST_CRASH_AT": "alerts_after_record",
    }
    killed = subprocess.run(
        [sys.executable, "-c", _HEALTH_RUN, json.dumps(stack.kafka_config)], env=env, cwd=REPO_ROOT, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert notices(receiver, "high_dlq_rate") == ([("firing", "")] if notified_before else [])
    assert firing(stack.check(), "high_dlq_rate")
    assert firing(stack.check(), "high_dlq_rate")
    assert notices(receiver, "high_dlq_rate") == [("firing", "")]
