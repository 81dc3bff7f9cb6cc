"""The daily DAG processes the previous UTC day: its data interval is that day; the scheduled run is at 02:00 after
it, a backfill run is due as soon as its day is over."""

from __future__ import annotations

import pendulum
import time_machine
from airflow.timetables.base import DataInterval, TimeRestriction

from game_analytics.timetables import DayAfterTimetable

UTC = pendulum.UTC


def test_data_interval_is_the_processed_day_and_the_scheduled_run_is_at_two():
    tt = DayAfterTimetable(delay_minutes=120)
    start = pendulum.datetime(2026, 11, 1, tz=UTC)
    scheduled = TimeRestriction(start, None, catchup=False)
    with time_machine.travel(pendulum.datetime(2026, 11, 2, 1, 0, tz=UTC), tick=False):
        first = tt.next_dagrun_info(last_automated_data_interval=None, restriction=scheduled)
        second = tt.next_dagrun_info(last_automated_data_interval=first.data_interval, restriction=scheduled)
    assert first.data_interval == DataInterval(start, start.add(days=1))
    assert first.logical_date == start  # so ds == the processed day
    assert first.run_after == pendulum.datetime(2026, 11, 2, 2, 0, tz=UTC)
    assert second.data_interval.start == start.add(days=1)
    assert second.run_after == pendulum.datetime(2026, 11, 3, 2, 0, tz=UTC)


def test_a_catch_up_run_is_due_when_its_day_ends():
    tt = DayAfterTimetable(delay_minutes=120)
    start = pendulum.datetime(2026, 11, 1, tz=UTC)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(start, None, True))
    assert info.data_interval == DataInterval(start, start.add(days=1))
    assert info.run_after == info.data_interval.end


def test_a_backfill_of_yesterday_is_due_at_once_even_before_two(dagbag):
    """Airflow's own backfill path (the serialized DAG's ``iter_dagrun_infos_between``), as `airflow backfill
    create` calls it at 00:30 UTC: yesterday's run must not sit queued until 02:00."""
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags["game_analytics_daily"]))
    now = pendulum.datetime(2026, 11, 30, 0, 30, tz=UTC)  # a Monday
    with time_machine.travel(now, tick=False):
        infos = list(dag.iter_dagrun_infos_between(now.subtract(days=3).start_of("day"), now.subtract(days=1)))
    assert [i.logical_date.date().isoformat() for i in infos] == ["2026-11-27", "2026-11-28", "2026-11-29"]
    assert all(i.run_after <= now for i in infos), [i.run_after for i in infos]


def test_without_catchup_the_next_run_is_for_yesterday():
    tt = DayAfterTimetable()
    with time_machine.travel(pendulum.datetime(2026, 11, 23, 1, 0, tz=UTC), tick=False):
        info = tt.next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(pendulum.datetime(2026, 11, 1, tz=UTC), None, catchup=False),
        )
    assert info.data_interval.start == pendulum.datetime(2026, 11, 22, tz=UTC)
    assert info.run_after == pendulum.datetime(2026, 11, 23, 2, 0, tz=UTC)


def test_serialization_round_trip_through_the_plugin():
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable

    tt = DayAfterTimetable(delay_minutes=90)
    back = decode_timetable(encode_timetable(tt))
    assert back == tt and back.summary == "daily at 01:30 UTC, for the previous UTC day"


def test_a_manual_run_processes_the_day_of_its_logical_date():
    """Airflow's default would be the day before, one day off the ``ds`` every task reads."""
    tt = DayAfterTimetable()
    day = pendulum.datetime(2026, 11, 22, tz=UTC)
    late_evening_utc = pendulum.datetime(2026, 11, 23, 0, 30, tz="Europe/Berlin")  # 2026-11-22 23:30 UTC
    for given in (day, day.add(hours=15, minutes=30), late_evening_utc):
        assert tt.infer_manual_data_interval(run_after=given) == DataInterval(day, day.add(days=1)), given
