"""The player state's task builds D after D-1 whatever order the runs start in (daily/previous_day.py).

The warehouse is the real emulator; Airflow's answer to "which runs of D-1 are queued, running or failed" comes
from a stand-in task instance (``get_dr_count`` is what the task asks the Task SDK; the real one is exercised by the
e2e backfill, tests/e2e/test_daily_dag.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from airflow.sdk.exceptions import AirflowException

from game_analytics.daily.previous_day import BUILD, FAIL, START, WAIT, BuildOnPreviousDay, verdict
from tests.sql.rows import SESSION_START, Warehouse, at, event

X = date(2026, 2, 28)  # X+1 is 1 March: the chain crosses a month end
X1 = date(2026, 3, 1)


class RunStates:
    """Stands in for the task instance: the DAG's runs by logical date and state."""

    dag_id = "game_analytics_daily"

    def __init__(self, runs: dict[date, str], built: frozenset[date] = frozenset()):
        self.runs = runs
        self.built = built  # the days whose run's user_lifetime_stats task succeeded

    def get_dr_count(self, dag_id, logical_dates, states=None):
        days = {d.date() for d in logical_dates}
        return sum(1 for d, s in self.runs.items() if d in days and (states is None or s in states))

    def get_ti_count(self, dag_id, task_ids, logical_dates, states):
        assert task_ids == ["user_lifetime_stats"] and states == ["success"]
        return sum(1 for d in logical_dates if d.date() in self.built)


def context(day: date, runs: dict[date, str], built: frozenset[date] = frozenset()) -> dict:
    return {"logical_date": datetime.combine(day, time(), tzinfo=UTC), "ds": str(day), "ti": RunStates(runs, built)}


@pytest.mark.parametrize(
    ("has_rows", "pending", "failed", "action"),
    [(True, 0, 1, BUILD), (True, 1, 0, WAIT), (False, 1, 0, WAIT), (False, 0, 1, FAIL), (False, 0, 0, START)],
)
def test_verdict(has_rows, pending, failed, action):
    found = verdict("user_lifetime_stats", X1, has_rows, pending, failed)
    assert found.action == action
    assert "2026-02-28" in found.reason


def test_days_run_out_of_order_give_the_in_order_result(warehouse, settings, monkeypatch):
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    wh = Warehouse(warehouse, settings)
    wh.insert_events([event(SESSION_START, "a", at(str(X), "10:00")), event(SESSION_START, "a", at(str(X1), "10:00"))])
    for day in (X, X1):
        wh.materialize("user_daily_metrics", str(day))
    task = BuildOnPreviousDay(table="user_lifetime_stats")
    state = f"SELECT `date`, days_active FROM {settings.table('user_lifetime_stats')} WHERE `date` >= '{X}' ORDER BY 1"

    # X+1's run starts first, while X's run is still running: it waits and builds nothing.
    assert not task.poke(context(X1, {X: "running", X1: "running"})).is_done
    assert wh.run(state) == []
    # X has no run of X-1 before it: it starts the history.
    assert task.poke(context(X, {X: "running", X1: "running"})).xcom_value == {
        "day": str(X),
        "from_previous_day": False,
    }
    # X+1 again: built from X.
    assert task.poke(context(X1, {X: "success", X1: "running"})).is_done
    assert wh.run(state) == [{"date": X, "days_active": 1}, {"date": X1, "days_active": 2}]


def test_a_reprocessing_backfill_waits_for_the_new_previous_day_not_the_old(warehouse, settings, monkeypatch):
    """D-1 and D were built; a backfill re-runs both: D must not build on D-1's old partition while D-1's run has
    not rebuilt it (late events of D-1 would never reach D)."""
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    wh = Warehouse(warehouse, settings)
    wh.insert_events([event(SESSION_START, "a", at(str(X), "10:00")), event(SESSION_START, "a", at(str(X1), "10:00"))])
    for day in (X, X1):
        wh.materialize("user_daily_metrics", str(day))
    wh.materialize("user_lifetime_stats", str(X))  # the old partition X
    task = BuildOnPreviousDay(table="user_lifetime_stats")
    in_flight = {X: "running", X1: "running"}
    assert not task.poke(context(X1, in_flight)).is_done  # X's run has not rebuilt X yet
    assert task.poke(context(X1, in_flight, built=frozenset({X}))).xcom_value == {
        "day": str(X1), "from_previous_day": True,
    }  # fmt: skip


def test_a_failed_previous_run_fails_the_day_naming_what_to_rerun(warehouse, settings, monkeypatch):
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    task = BuildOnPreviousDay(table="user_lifetime_stats")
    with pytest.raises(AirflowException, match="the run of 2026-02-28 failed.*re-run 2026-02-28, then 2026-03-01"):
        task.poke(context(X1, {X: "failed"}))


def test_the_task_does_not_hold_a_worker_slot_while_it_waits():
    assert BuildOnPreviousDay(table="user_lifetime_stats").mode == "reschedule"
