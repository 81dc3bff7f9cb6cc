"""The writers of the operational tables, against the real emulator: a rerun replaces its rows (never duplicates),
and every check's result is in ``check_results`` before a failing fail check stops the run."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily.quality import DataQualityError, discover_checks, run_table_checks
from game_analytics.health.measure import Measurement, record_measurements
from game_analytics.health.records import record_dag_run_outcome, sql_literal
from game_analytics.warehouse.client import query_rows
from tests.health.conftest import FIXED
from tests.sql.rows import Warehouse, event

pytestmark = pytest.mark.stack
DAY = "2026-03-10"


def rows(client, settings, table: str, where: str) -> list[dict]:
    return query_rows(client, f"SELECT * FROM {settings.table(table)} WHERE {where}")


def test_sql_literals():
    assert sql_literal(None) == "NULL" and sql_literal(float("nan")) == "NULL"
    assert sql_literal("o'brien\\x") == "'o\\'brien\\\\x'"
    assert sql_literal(date(2028, 2, 29)) == "DATE '2028-02-29'"
    assert sql_literal(datetime(2026, 1, 2, 13, 0, tzinfo=UTC)) == "TIMESTAMP '2026-01-02T13:00:00+00:00'"
    assert sql_literal(3) == "3" and sql_literal(0.25) == "0.25" and sql_literal(True) == "TRUE"
    with pytest.raises(ValueError, match="timezone"):
        sql_literal(datetime(2026, 1, 2))


def test_a_dag_run_outcome_is_merged_on_dag_and_run(warehouse, settings):
    finished = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)
    day = date(2026, 3, 10)
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "r1", day, "failed", ["checks_a", "b"], finished)
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "r1", day, "failed", ["checks_a", "b"], finished)
    assert rows(warehouse, settings, "dag_run_outcomes", "TRUE") == [
        {"dag_id": DAILY_DAG, "run_id": "r1", "day": day, "state": "failed", "failed_tasks": "checks_a,b",
         "finished_at": finished}
    ]  # fmt: skip
    # The same run cleared and succeeding: its row is replaced, another run's row is its own.
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "r1", day, "success", "", finished + timedelta(hours=1))
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "r2", None, "success", "", finished)
    outcomes = rows(warehouse, settings, "dag_run_outcomes", "TRUE")
    stored = {r["run_id"]: (r["state"], r["failed_tasks"]) for r in outcomes}
    assert stored == {"r1": ("success", None), "r2": ("success", None)}
    with pytest.raises(ValueError, match="state"):
        record_dag_run_outcome(warehouse, settings, DAILY_DAG, "r3", None, "running", "", finished)


def test_check_results_are_written_before_a_fail_check_raises_and_replaced_by_a_rerun(warehouse, settings):
    wh = Warehouse(warehouse, settings)
    wh.insert_events([event(1001, "u1", DAY, {"level_id": 7}), event(1002, "u1", DAY, {"level_id": 7})])
    wh.materialize("level_metrics", DAY)
    wh.run(f"UPDATE {wh.table('level_metrics')} SET pass_rate = 1.5 WHERE `date` = DATE '{DAY}'")
    other = {"day": date.fromisoformat(DAY), "table_name": "events", "check_name": "x", "severity": "warn",
             "status": "warn", "offending_rows": 1, "checked_at": datetime(2026, 3, 11, 1, 0)}  # fmt: skip
    wh.insert("check_results", [other])  # another table's result on the same day: left alone

    with pytest.raises(DataQualityError):
        run_table_checks(wh.run, settings, "level_metrics", DAY, client=warehouse, dag_run_id="scheduled__1")
    where = f"day = DATE '{DAY}' AND table_name = 'level_metrics'"
    first = {r["check_name"]: r for r in rows(warehouse, settings, "check_results", where)}
    assert set(first) == {c.name for c in discover_checks("level_metrics", settings)}
    failed = first["rates_in_unit_interval"]
    assert (failed["status"], failed["severity"], failed["offending_rows"]) == ("fail", "fail", 1)
    assert failed["message"].startswith("[fail] check rates_in_unit_interval on level_metrics for 2026-03-10")
    offending = json.loads(failed["offending_values"])
    assert offending[0]["level_id"] == 7 and float(offending[0]["pass_rate"]) == 1.5
    assert {r["dag_run_id"] for r in first.values()} == {"scheduled__1"}
    assert all(r["status"] == "pass" and r["message"] is None for n, r in first.items() if n != failed["check_name"])

    wh.materialize("level_metrics", DAY)  # the data fixed, the checks run again
    run_table_checks(wh.run, settings, "level_metrics", DAY, client=warehouse, dag_run_id="scheduled__1")
    again = rows(warehouse, settings, "check_results", where)
    assert len(again) == len(first) and {r["status"] for r in again} == {"pass"}
    assert len(rows(warehouse, settings, "check_results", f"day = DATE '{DAY}' AND table_name = 'events'")) == 1


def test_the_runner_without_a_client_writes_nothing(warehouse, settings):
    wh = Warehouse(warehouse, settings)
    run_table_checks(wh.run, settings, "level_metrics", DAY)
    assert rows(warehouse, settings, "check_results", "day > '2000-01-01'") == []


def test_measurements_of_an_instant_are_replaced_by_a_rerun(warehouse, settings):
    earlier = FIXED - timedelta(minutes=5)
    record_measurements(warehouse, settings, earlier, [Measurement("dlq_rate", "", 0.5)])
    first = [Measurement("dlq_rate", "", 0.02), Measurement("kafka_lag_messages", "0", 7.0)]
    record_measurements(warehouse, settings, FIXED, first)
    record_measurements(warehouse, settings, FIXED, [Measurement("dlq_rate", "", 0.03)])  # the retried run

    stored = rows(warehouse, settings, "health_measurements", "measured_at > '2000-01-01'")
    assert sorted((r["measured_at"], r["metric"], r["subject"], r["value"]) for r in stored) == [
        (earlier, "dlq_rate", "", 0.5),
        (FIXED, "dlq_rate", "", 0.03),
    ]
    with pytest.raises(ValueError, match="unknown metric"):
        Measurement("no_such_metric", "", 1.0)
