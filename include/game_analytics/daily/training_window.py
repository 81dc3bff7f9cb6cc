"""Which days of the weekly training's lookback are ready, still being built, or will have no features.

The training on Sunday D reads the exported features of D and the ``lookback_days - 1`` days before it. Those
days are built by runs of the same DAG; in a backfill they run in parallel with D's run. The training must not
start while one of them is running (it would read an old or missing export), and it should say which days it
trains without and why. A queued run is not waited for: it is queued because the DAG's run slots are taken, one of
them by D's own run (a backfill with ``--max-active-runs 1`` or ``--run-backwards`` starts D first), so waiting
for it would wait for ever; the day is named as trained without, with how to include it. Pure logic over a run
counter (Airflow's ``get_dr_count`` in the task, a dict in the tests): no Airflow import here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta


def midnights(days: list[date]) -> list[datetime]:
    """The logical dates of a daily timetable's runs of ``days``: their UTC midnights."""
    return [datetime.combine(d, time(), tzinfo=UTC) for d in days]


@dataclass(frozen=True)
class DagRunCounter:
    """``count(logical_dates=[...], states=[...])`` of the DAG's runs, per day of a daily timetable."""

    count: Callable[..., int]

    def runs(self, days: list[date], states: list[str] | None = None) -> int:
        return self.count(logical_dates=midnights(days), states=states) if days else 0


@dataclass
class LookbackReport:
    training_date: date
    in_flight: list[date] = field(default_factory=list)
    without_features: dict[date, str] = field(default_factory=dict)

    def in_flight_text(self) -> str:
        return ", ".join(d.isoformat() for d in self.in_flight)

    def lines(self) -> list[str]:
        if not self.without_features:
            return [f"every earlier day of the lookback to {self.training_date} has a successful run"]
        return [f"training on {self.training_date} without {d}: {why}" for d, why in self.without_features.items()]

    def as_dict(self) -> dict:
        return {
            "training_date": self.training_date.isoformat(),
            "days_without_features": {d.isoformat(): why for d, why in self.without_features.items()},
        }


def earlier_days(training_date: date, lookback_days: int) -> list[date]:
    """The days of the lookback before the training date, oldest first."""
    return [training_date - timedelta(days=n) for n in range(lookback_days - 1, 0, -1)]


def lookback_report(training_date: date, lookback_days: int, counter: DagRunCounter) -> LookbackReport:
    """The earlier lookback days still being built; when none is, the days that will have no export and why.

    One count when nothing is in flight and every day succeeded (the usual case); per-day counts only to name
    the days that are not.
    """
    days = earlier_days(training_date, lookback_days)
    report = LookbackReport(training_date)
    if counter.runs(days, ["running"]):
        report.in_flight = [d for d in days if counter.runs([d], ["running"])]
        if report.in_flight:
            return report
    if counter.runs(days, ["success"]) == len(days):
        return report
    for day in days:
        if counter.runs([day], ["success"]):
            continue
        if not counter.runs([day]):
            report.without_features[day] = "no run of this day (nothing exported it; backfill it to include it)"
        elif counter.runs([day], ["queued"]):
            report.without_features[day] = (
                "its run is queued behind this one (no free run slot); clear this day's trigger_ml_training "
                "after it to include it"
            )
        else:
            report.without_features[day] = "its run did not succeed (its features may be missing or stale)"
    return report
