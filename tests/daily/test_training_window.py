"""The training waits for the runs of its lookback's earlier days and names the days it trains without."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from game_analytics.daily.training_window import DagRunCounter, earlier_days, lookback_report

SUNDAY = date(2026, 11, 8)


class Runs:
    """Runs of a daily DAG by day, answering ``get_dr_count`` as Airflow's Task SDK does (one run per day)."""

    def __init__(self, states: dict[date, str]):
        self.states = states
        self.calls = 0

    def count(self, logical_dates: list[datetime], states: list[str] | None = None) -> int:
        self.calls += 1
        assert all(d.tzinfo is not None and d.time() == time() for d in logical_dates), logical_dates
        days = {d.date() for d in logical_dates}
        return sum(1 for day, state in self.states.items() if day in days and (states is None or state in states))


def report(states: dict[date, str], lookback: int = 7):
    runs = Runs(states)
    return lookback_report(SUNDAY, lookback, DagRunCounter(runs.count)), runs


def test_earlier_days_are_the_lookback_before_the_training_date():
    assert earlier_days(SUNDAY, 3) == [SUNDAY - timedelta(days=2), SUNDAY - timedelta(days=1)]
    assert earlier_days(SUNDAY, 1) == []


def test_a_backfill_day_still_building_holds_the_training():
    states = {d: "success" for d in earlier_days(SUNDAY, 7)}
    friday = SUNDAY - timedelta(days=2)
    states[friday] = "running"
    found, _ = report(states)
    assert found.in_flight == [friday] and found.in_flight_text() == "2026-11-06"


def test_a_day_queued_behind_the_training_run_is_not_waited_for_but_named():
    """Queued means no free run slot (Sunday's own run holds one, e.g. `backfill --run-backwards
    --max-active-runs 1`): waiting for it would wait for ever."""
    states = {d: "success" for d in earlier_days(SUNDAY, 7)}
    friday = SUNDAY - timedelta(days=2)
    states[friday] = "queued"
    found, _ = report(states)
    assert not found.in_flight
    assert list(found.as_dict()["days_without_features"]) == ["2026-11-06"]
    assert "queued behind this one" in found.lines()[0]


def test_all_days_succeeded_costs_two_counts_and_reports_nothing_missing():
    found, runs = report({d: "success" for d in earlier_days(SUNDAY, 30)}, lookback=30)
    assert not found.in_flight and not found.without_features
    assert runs.calls == 2
    assert found.as_dict() == {"training_date": "2026-11-08", "days_without_features": {}}


def test_days_that_will_never_export_are_named_with_their_reason():
    days = earlier_days(SUNDAY, 4)
    found, _ = report({days[0]: "failed", days[2]: "success"}, lookback=4)
    assert not found.in_flight
    assert found.as_dict()["days_without_features"] == {
        days[0].isoformat(): "its run did not succeed (its features may be missing or stale)",
        days[1].isoformat(): "no run of this day (nothing exported it; backfill it to include it)",
    }
    assert found.lines()[0].startswith("training on 2026-11-08 without 2026-11-05")


def test_logical_dates_are_utc_midnights():
    seen = []
    DagRunCounter(lambda **kw: seen.append(kw) or 0).runs([SUNDAY], ["running"])
    assert seen == [{"logical_dates": [datetime(2026, 11, 8, tzinfo=UTC)], "states": ["running"]}]


class FakeTaskInstance:
    """The two things the sensor uses of Airflow's RuntimeTaskInstance: its dag_id and ``get_dr_count``."""

    dag_id = "game_analytics_daily"

    def __init__(self, runs: Runs):
        self.runs = runs

    def get_dr_count(self, dag_id: str, logical_dates=None, states=None) -> int:
        assert dag_id == self.dag_id
        return self.runs.count(logical_dates=logical_dates, states=states)


def poke(day: date, states: dict[date, str]):
    from game_analytics.daily.tasks import WaitForTrainingDays

    context = {
        "ti": FakeTaskInstance(Runs(states)),
        "logical_date": datetime.combine(day, time(), tzinfo=UTC),
        "ds": day.isoformat(),
    }
    return WaitForTrainingDays().poke(context)


def test_the_sensor_waits_while_an_earlier_day_runs_then_returns_the_days_without_features():
    states = {d: "success" for d in earlier_days(SUNDAY, 30)}
    states[SUNDAY - timedelta(days=1)] = "running"
    assert not poke(SUNDAY, states).is_done
    states[SUNDAY - timedelta(days=1)] = "failed"
    done = poke(SUNDAY, states)
    assert done.is_done
    assert done.xcom_value["days_without_features"] == {
        "2026-11-07": "its run did not succeed (its features may be missing or stale)"
    }


def test_the_sensor_skips_on_other_days_than_sunday():
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException, match="2026-11-09 is a Monday"):
        poke(SUNDAY + timedelta(days=1), {})
