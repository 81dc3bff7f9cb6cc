"""What the "Game KPIs" page and its JSON show, read from the warehouse in one place, as of a clock given as input.

The page only reads tables the pipeline built (daily_summary, retention, level_metrics, model_runs with
level_predictions, live_event_counts): a page view never recomputes a metric from ``events``. Each read is bounded
to the partitions it shows, relative to ``now`` (tests pass a fixed instant): the last 30 days D before today (of
daily_summary, and of retention, whose partition is the day a row was measured on: the D30 rows of the last 30
days are those of the cohorts of 60 to 31 days ago), the last 7 days of levels, today's live-count partition, and
the current model as the training's own promotion finds it (sql/model_runs/current.sql, the latest promoted model
of its horizon) with its predictions' partition. A table that
does not exist yet (a warehouse set up before these tables) reads as empty and is named, rather than failing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from google.api_core.exceptions import NotFound

from game_analytics.config import Settings
from game_analytics.ml.registry import CURRENT_MODEL_HORIZON_DAYS
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import render_sql

SUMMARY_DAYS = 30
LEVEL_DAYS = 7
RETENTION_DAYS = (1, 7, 30)
ALL_PLATFORMS = "all"  # retention's row over every platform
WINDOW = timedelta(minutes=5)  # live_event_counts' window


@dataclass(frozen=True)
class DaySummary:
    date: date
    dau: int
    wau: int
    mau: int
    stickiness: float | None
    new_players: int
    returning_players: int
    total_players: int
    paying_players: int
    revenue_usd: float
    purchases: int
    arpdau: float | None
    lifetime_revenue_usd: float


@dataclass(frozen=True)
class CohortDay:
    cohort_date: date
    day_n: int
    platform: str
    cohort_size: int
    retained_users: int
    retention_rate: float | None


@dataclass(frozen=True)
class LevelDifficulty:
    level_id: int
    attempts: int
    completions: int
    failures: int
    pass_rate: float | None  # completions / (completions + failures) over the 7 days
    predicted_pass_rate: float | None  # the current model's


@dataclass(frozen=True)
class Model:
    """The current model (the latest promoted model_runs row), as sql/model_runs/current.sql reads it."""

    model_id: str
    training_date: date
    mae: float | None
    model_uri: str | None
    registry_version: str | None


@dataclass(frozen=True)
class LiveWindow:
    window_start: datetime
    events: int
    purchases: int
    revenue_usd: float


@dataclass
class KpiSnapshot:
    now: datetime
    days: list[date]  # the days D shown, oldest first (the 30 before today)
    cohort_days: list[date]  # the cohorts whose rows were measured on those days, oldest first
    level_days: list[date]
    summary: list[DaySummary] = field(default_factory=list)  # oldest first, days with a row only
    retention: list[CohortDay] = field(default_factory=list)
    levels: list[LevelDifficulty] = field(default_factory=list)
    model: Model | None = None
    live: list[LiveWindow] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def latest(self) -> DaySummary | None:
        return self.summary[-1] if self.summary else None

    @property
    def live_windows(self) -> list[datetime]:
        """Every 5-minute window of today up to the one ``now`` is in, oldest first (with counts or not)."""
        start = datetime.combine(self.today, datetime.min.time(), UTC)
        return [start + WINDOW * n for n in range(int((self.now - start) / WINDOW) + 1)]

    def cohorts(self, platform: str = ALL_PLATFORMS) -> dict[date, dict[int, CohortDay]]:
        """cohort date -> day_n -> row, for one platform, newest cohort first."""
        rows: dict[date, dict[int, CohortDay]] = {}
        for row in sorted(self.retention, key=lambda r: r.cohort_date, reverse=True):
            if row.platform == platform:
                rows.setdefault(row.cohort_date, {})[row.day_n] = row
        return rows

    def newest_retention(self, day_n: int) -> CohortDay | None:
        """The newest cohort's day-N row over all platforms."""
        return next((days[day_n] for days in self.cohorts().values() if day_n in days), None)

    @property
    def live_totals(self) -> dict[str, float]:
        return {
            "events": sum(w.events for w in self.live),
            "purchases": sum(w.purchases for w in self.live),
            "revenue_usd": sum(w.revenue_usd for w in self.live),
        }

    @property
    def is_empty(self) -> bool:
        return not (self.summary or self.retention or self.levels or self.live or self.model)

    def to_json(self) -> dict:
        """The page's numbers as JSON (dates and instants as ISO 8601 text)."""

        def plain(value):
            if isinstance(value, date | datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return plain(
            {
                "now": self.now,
                "today": self.today,
                "days": {"first": self.days[0], "last": self.days[-1]},
                "cohorts": {"first": self.cohort_days[0], "last": self.cohort_days[-1]},
                "level_days": {"first": self.level_days[0], "last": self.level_days[-1]},
                "daily_summary": [dataclasses.asdict(row) for row in self.summary],
                "retention": [dataclasses.asdict(row) for row in self.retention],
                "levels": [dataclasses.asdict(row) for row in self.levels],
                "model": dataclasses.asdict(self.model) if self.model else None,
                "today_so_far": {
                    **self.live_totals,
                    "windows": [dataclasses.asdict(w) for w in self.live],
                },
                "missing_tables": self.missing_tables,
            }
        )


def _days(last: date, count: int) -> list[date]:
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def read_kpis(client, settings: Settings, now: datetime) -> KpiSnapshot:
    """Everything the page shows as of ``now`` (timezone-aware; read as UTC)."""
    now = now.astimezone(UTC)
    yesterday = now.date() - timedelta(days=1)
    snapshot = KpiSnapshot(
        now=now,
        days=_days(yesterday, SUMMARY_DAYS),
        # a row (C, N) is measured on C + N: the D30 rows of the first day to the D1 rows of the last
        cohort_days=_days(
            yesterday - timedelta(days=min(RETENTION_DAYS)), SUMMARY_DAYS + max(RETENTION_DAYS) - min(RETENTION_DAYS)
        ),
        level_days=_days(yesterday, LEVEL_DAYS),
    )

    def read(table: str, template: str, **variables) -> list[dict]:
        try:
            return query_rows(client, render_sql(f"{table}/{template}", settings, **variables))
        except NotFound:
            snapshot.missing_tables.append(table)
            return []

    def bounds(days: list[date]) -> dict[str, str]:
        return {"first_day": days[0].isoformat(), "last_day": days[-1].isoformat()}

    snapshot.summary = [DaySummary(**row) for row in read("daily_summary", "kpi_days.sql", **bounds(snapshot.days))]
    snapshot.retention = [CohortDay(**row) for row in read("retention", "kpi_cohorts.sql", **bounds(snapshot.days))]
    model_rows = read(
        "model_runs",
        "current.sql",
        ds=snapshot.today.isoformat(),
        horizon_days=CURRENT_MODEL_HORIZON_DAYS,
        model_id="",  # no training being decided: exclude none
    )
    snapshot.model = Model(**{f.name: model_rows[0][f.name] for f in dataclasses.fields(Model)}) if model_rows else None
    predicted = {}
    if snapshot.model:
        rows = read(
            "level_predictions",
            "kpi_model.sql",
            model_id=snapshot.model.model_id,
            training_date=snapshot.model.training_date.isoformat(),
        )
        predicted = {row["level_id"]: row["predicted_pass_rate"] for row in rows}
    snapshot.levels = [
        LevelDifficulty(**row, predicted_pass_rate=predicted.get(row["level_id"]))
        for row in read("level_metrics", "kpi_last_days.sql", **bounds(snapshot.level_days))
    ]
    windows = snapshot.live_windows
    snapshot.live = [
        LiveWindow(**row)
        for row in read(
            "live_event_counts",
            "kpi_today.sql",
            day=snapshot.today.isoformat(),
            last_window=f"{windows[-1]:%Y-%m-%d %H:%M:%S}+00:00",
        )
    ]
    return snapshot
