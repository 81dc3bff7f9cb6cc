"""Which days can be processed *now*: the one rule the demo, the e2e tests and the CLI examples pick days by.

Day D can be complete once ingestion has caught up past D+1 00:00 UTC + grace (see ``completeness.py``); an
ingestion run that starts at ``now`` records ``caught_up_at >= now``. So the days whose run can go through at
``now``, without waiting for the clock, are those with D+1 + grace <= now. Picking "yesterday" instead fails
every day between 00:00 UTC and the grace's end (and, before backfills were due at once, until 02:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def last_completable_day(now: datetime, grace: timedelta) -> date:
    """The latest UTC day D with D+1 00:00 + ``grace`` <= ``now``."""
    return (now.astimezone(UTC) - grace).date() - timedelta(days=1)


def completable_days(now: datetime, grace: timedelta, count: int) -> list[date]:
    """The ``count`` latest days that can be processed at ``now``, oldest first."""
    last = last_completable_day(now, grace)
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def last_sunday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)
