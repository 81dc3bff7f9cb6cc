"""`DayAfterTimetable`: each run processes one whole UTC day, and starts a fixed delay after that day ends.

On Airflow 3 a cron schedule is a trigger time (``CronTriggerTimetable``): the run at 02:00 on D+1 has a
zero-length interval at D+1 and ``ds`` = D+1, not the day it should process. Here the data interval *is* the
day: ``[D 00:00, D+1 00:00)`` UTC, so ``ds`` = D, ``data_interval_start``/``end`` bound the events, and
``airflow backfill create --from-date D1 --to-date D2`` names the days it processes.

When a run is due: the scheduled run of D waits until D+1 + ``delay`` (02:00 by default), so late events have
time to arrive before anyone looks. A backfill run (or any catch-up run) is due as soon as its day has ended: it
is for a day someone chose to (re)process, and making it sit "queued" until 02:00 only looked like a hang. Neither
relies on the clock for correctness: the completeness sensor (``daily/completeness.py``) lets no run read D
before ingestion has caught up past D+1 + grace. Backfills reach the timetable with ``catchup=True`` (Airflow's
``iter_dagrun_infos_between``), the scheduler with the DAG's ``catchup``, which this DAG sets to False.

Registered by ``plugins/game_analytics_plugin.py`` (Airflow only deserializes registered custom timetables).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from airflow.sdk.exceptions import AirflowFailException
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable
from pendulum import DateTime


class DayAfterTimetable(CronDataIntervalTimetable):
    """Daily UTC data intervals; a scheduled run is due ``delay_minutes`` after its day ends, a catch-up run at once."""

    def __init__(self, delay_minutes: int = 120) -> None:
        super().__init__("0 0 * * *", timezone="UTC")
        self.delay = timedelta(minutes=delay_minutes)
        hours, minutes = divmod(delay_minutes, 60)
        self.description = f"daily at {hours:02d}:{minutes:02d} UTC, for the previous UTC day"

    @property
    def summary(self) -> str:
        return self.description

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        info = super().next_dagrun_info(
            last_automated_data_interval=last_automated_data_interval, restriction=restriction
        )
        if info is None or restriction.catchup:
            return info
        return DagRunInfo(run_after=info.run_after + self.delay, data_interval=info.data_interval)

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        """A manual run processes the UTC day of the date it is given, like a scheduled run of that day.

        The tasks read D from ``ds`` (the logical date's day). Airflow's default here is the day *before*, which
        showed a data interval one day off ``ds`` in the UI. (The REST API and the UI pass the logical date as
        ``run_after``; ``airflow dags trigger -l`` passes the trigger time, so its run shows today's interval
        while it processes ``ds``.)
        """
        start = run_after.in_timezone("UTC").start_of("day")
        return DataInterval(start=start, end=start.add(days=1))

    def serialize(self) -> dict[str, Any]:
        return {"delay_minutes": int(self.delay.total_seconds() // 60)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> DayAfterTimetable:
        return cls(data["delay_minutes"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DayAfterTimetable) and other.delay == self.delay

    def __hash__(self) -> int:
        return hash(self.delay)


def processed_day(context) -> date:
    """Day D of a run (this timetable's data interval, ``ds``): the UTC day of its logical date. A run without one
    fails here, first, and says how to fix it.

    Airflow 3 creates runs without a logical date (``airflow dags trigger`` without ``-l``, a REST trigger with
    ``"logical_date": null``); every template of this DAG needs ``ds``, so failing later would be less clear.
    """
    logical_date = context.get("logical_date")
    if logical_date is None:
        raise AirflowFailException(
            "game_analytics_daily processes the UTC day of its logical date, and this run has none. Trigger it with "
            "one: `airflow dags trigger game_analytics_daily -l 2026-11-22T00:00:00+00:00`, or pick the day in the "
            "UI's trigger form; for several days use `airflow backfill create`."
        )
    return date.fromisoformat(context["ds"])
