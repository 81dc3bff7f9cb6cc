"""The clock is input: the days the suite and the demo pick must work at any instant, not just when written.

Each instant below is one that broke, or could break, a "relative to today" choice: just after midnight on a
Monday (yesterday's run not yet due, yesterday's grace not over), just before midnight on a Sunday, the first and
last day of a month, Feb 29. The days picked at each must be complete-able (so no run waits for the clock), due at
once as backfill runs under the real timetable, recent enough for ingestion to accept their events, and the
ingestion samples must be as large as the tests need. The date-dependent tests also run whole under a faked clock
in every process with scripts/test-at (see the README's "Tests" section).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pendulum
import pytest
import time_machine
from airflow.timetables.base import TimeRestriction

from game_analytics.config import load_settings
from game_analytics.daily.completeness import day_status
from game_analytics.daily.days import completable_days
from game_analytics.events.contract import MAX_AGE as MAX_EVENT_AGE  # ingestion rejects events older than this
from game_analytics.localstack.demo import HISTORY_DAYS
from game_analytics.localstack.health_demo import BURST_EVENTS, recent_events
from game_analytics.timetables import DayAfterTimetable
from tests.e2e.test_daily_dag import pick_days
from tests.ingest.sample import sample_messages
from tests.ingest.test_crash_recovery import MESSAGES

INSTANTS = [
    datetime(2026, 11, 30, 0, 30, tzinfo=UTC),  # Monday 00:30: the failure seen on 2026-11-30
    datetime(2026, 11, 30, 0, 0, 1, tzinfo=UTC),  # Monday, one second after midnight
    datetime(2026, 11, 29, 23, 50, tzinfo=UTC),  # Sunday 23:50
    datetime(2027, 3, 1, 0, 10, tzinfo=UTC),  # the first of a month, just after midnight
    datetime(2026, 12, 31, 23, 59, tzinfo=UTC),  # the last day of a month (and a year)
    datetime(2028, 2, 29, 0, 30, tzinfo=UTC),  # Feb 29
]


def assert_can_run_now(now: datetime, days: list, first_loaded) -> None:
    grace = load_settings().completeness_grace
    # Complete-able: an ingestion run at `now` records caught_up_at = now on every partition.
    for day in days:
        assert day_status(day, True, [{"partition": 0, "caught_up_at": now}], grace).complete, (now, day)
    # Due at once as backfill runs (Airflow's backfill path calls the timetable with catchup=True).
    timetable, start = DayAfterTimetable(), pendulum.instance(datetime.combine(days[0], time(), tzinfo=UTC))
    info, due = None, []
    for _ in days:
        info = timetable.next_dagrun_info(
            last_automated_data_interval=info.data_interval if info else None,
            restriction=TimeRestriction(start, None, catchup=True),
        )
        due.append(info.run_after <= now)
    assert all(due), (now, days, due)
    # Recent enough: the oldest event loaded for them is still accepted by ingestion.
    assert datetime.combine(first_loaded, time(), tzinfo=UTC) > now - MAX_EVENT_AGE, (now, first_loaded)


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%Y-%m-%dT%H:%M"))
def test_e2e_days_run_at_once_at_any_instant(now):
    with time_machine.travel(now, tick=False):
        dags_test_day, backfill_days = pick_days(datetime.now(UTC))
    assert backfill_days[-1].weekday() == 6, "the backfill must include a Sunday, the training day"
    assert [d.weekday() for d in backfill_days] == [4, 5, 6] and dags_test_day.weekday() == 3
    assert_can_run_now(now, [dags_test_day, *backfill_days], dags_test_day - timedelta(days=HISTORY_DAYS))


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%Y-%m-%dT%H:%M"))
def test_demo_days_run_at_once_at_any_instant(now):
    window = completable_days(now, load_settings().completeness_grace, 3)
    assert len(set(window)) == 3 and window == sorted(window)
    assert_can_run_now(now, window, window[0] - timedelta(days=HISTORY_DAYS))


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%Y-%m-%dT%H:%M"))
def test_ingestion_samples_are_big_enough_at_any_instant(now):
    messages, start = sample_messages(now, seed=9, players=60, bad_rate=0.1, at_least=MESSAGES)
    assert len(messages) >= MESSAGES
    assert_can_run_now(now, [start, start + timedelta(days=1)], start)


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%Y-%m-%dT%H:%M"))
def test_the_demo_burst_stays_within_today_and_the_clean_traffic_brings_late_events(now):
    """The health demo's burst of bad messages must not land on a day the demo built (a second `make run` would
    fail that day's DLQ-share check on its re-run); its clean traffic must hold yesterday's late events."""
    stamp = now.isoformat().replace("+00:00", "Z")
    seed = int(now.timestamp())  # as the demo seeds them
    burst = recent_events(seed=seed, now=now, today_only=True)
    assert len(burst) == BURST_EVENTS
    assert all(e["timestamp"][:10] == now.date().isoformat() and e["timestamp"] <= stamp for e in burst)
    clean = recent_events(seed=seed + 1, now=now, today_only=False)
    assert len(clean) == BURST_EVENTS and all(e["timestamp"] <= stamp for e in clean)
    if now.hour < 12:  # few of today's events yet: most of the clean traffic is yesterday's, late for its day
        assert sum(e["timestamp"][:10] < now.date().isoformat() for e in clean) > BURST_EVENTS // 2
