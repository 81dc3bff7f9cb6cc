"""Known rows for the "Game KPIs" page's tables, relative to an instant ``now``, and how to remove them again.

The same rows serve the snapshot test (a private dataset) and the page tests (the dataset the api-server reads,
shared with the session: what the seed replaces is put back afterwards, as tests/ui/seed.py does for the health
page). Rows just outside each window are planted too, so a read that ignores its window shows them: a summary day
31 days back, retention measured 31 days back, level metrics 8 days back with huge counts, live counts of
yesterday and of a window after ``now``, a model trained after today and a newer model that was not promoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tests.sql.rows import Warehouse
from tests.ui import seed as seeding

MODEL_PREFIX = "kpi-test-"
LEVELS = (1, 2, 3)


@dataclass
class KpiSeed:
    now: datetime
    rows: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.date()

    def back(self, days: int) -> date:
        return self.today - timedelta(days=days)

    @property
    def current_model(self) -> str:
        return f"{MODEL_PREFIX}current"


def _summary(day: date, n: int) -> dict:
    dau, new = 100 + 7 * n, 10 + n
    return {
        "date": day,
        "dau": dau,
        "wau": 3 * dau,
        "mau": 9 * dau + n,
        "stickiness": dau / (9 * dau + n),
        "new_players": new,
        "returning_players": dau - new,
        "total_players": 5_000 + 20 * n,
        "paying_players": 3 + n % 4,
        "new_payers": 1,
        "revenue_usd": 12.5 * n + 0.99,
        "purchases": 4 + n % 5,
        "arpdau": (12.5 * n + 0.99) / dau,
        "sessions_per_player": 2.5,
        "playtime_minutes_per_player": 31.0,
        "levels_completed": 40 * n,
        "lifetime_revenue_usd": 1_000.0 + 50 * n,
    }


def _retention(seed: KpiSeed) -> list[dict]:
    rows = []
    for measured_back in range(1, 32):  # 31 is outside the window
        measured = seed.back(measured_back)
        for day_n in (1, 7, 30):
            cohort = measured - timedelta(days=day_n)
            spread = cohort.toordinal() % 17  # a cohort has one size, whichever day N measures it
            for platform, size in (("all", 60 + spread), ("ios", 40), ("unknown", 20 + spread)):
                retained = (size * {1: 45, 7: 20, 30: 8}[day_n] + measured_back * 7) // 100
                rows.append(
                    {
                        "date": measured,
                        "cohort_date": cohort,
                        "day_n": day_n,
                        "platform": platform,
                        "cohort_size": size,
                        "retained_users": retained,
                        "retention_rate": retained / size,
                    }
                )
    return rows


def _levels(seed: KpiSeed) -> list[dict]:
    rows = []
    for back in range(1, 9):  # 8 is outside the 7 days
        for level in LEVELS:
            completions, failures = 10 * level + back, 5 * back + (1_000 if back == 8 else 0)
            rows.append(
                {
                    "level_id": level,
                    "date": seed.back(back),
                    "attempts": completions + failures + level + (99_999 if back == 8 else 0),
                    "completions": completions,
                    "failures": failures,
                    "pass_rate": completions / (completions + failures),
                }
            )
    return rows


def _models(seed: KpiSeed) -> tuple[list[dict], list[dict]]:
    models = [  # (id, training day, promoted)
        (seed.current_model, seed.back(3), True),
        (f"{MODEL_PREFIX}older", seed.back(10), True),
        (f"{MODEL_PREFIX}not-promoted", seed.back(1), False),  # newer, but worse: not current
        (f"{MODEL_PREFIX}future", seed.today + timedelta(days=4), True),  # after the clock
    ]
    runs = [
        {
            "model_id": model_id,
            "training_date": day,
            "trained_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=3),
            "mae": 0.05 + index / 100,
            "model_uri": f"/models/{model_id}",
            "promoted": promoted,
            "decision": "seeded",
        }
        for index, (model_id, day, promoted) in enumerate(models)
    ]
    predictions = [
        {"model_id": model_id, "training_date": day, "level_id": level, "predicted_pass_rate": 0.1 * level + index / 10}
        for index, (model_id, day, _) in enumerate(models)
        for level in LEVELS[:2]  # level 3 has no prediction
    ]
    return runs, predictions


def _live(seed: KpiSeed) -> list[dict]:
    start = datetime.combine(seed.today, datetime.min.time(), UTC)
    window = (seed.now - start) // timedelta(minutes=5)
    rows = []
    for n in sorted({0, window // 2, window}):  # the first window, one in the middle, the current one
        at = start + timedelta(minutes=5 * n)
        for event_type, platform, events in ((1001, "ios", 40 + n), (2001, None, 3), (1001, "ios", 2)):
            rows.append(_live_row(at, event_type, platform, events))
    rows.append(_live_row(start - timedelta(minutes=5), 1001, "ios", 70_000))  # yesterday
    rows.append(_live_row(start + timedelta(minutes=5 * (window + 1)), 1001, "ios", 80_000))  # after now
    return rows


def _live_row(at: datetime, event_type: int, platform: str | None, events: int) -> dict:
    purchases = events if event_type == 2001 else 0
    return {
        "window_start": at,
        "event_date": at.date(),
        "event_type": event_type,
        "platform": platform,
        "events": events,
        "purchases": purchases,
        "revenue_usd": 4.99 * purchases,
        "added_at": at,
    }


def build(now: datetime) -> KpiSeed:
    seed = KpiSeed(now.astimezone(UTC))
    seed.rows["daily_summary"] = [_summary(seed.back(n), n) for n in range(1, 32) if n not in (4, 5)]  # 2 missing
    seed.rows["retention"] = _retention(seed)
    seed.rows["level_metrics"] = _levels(seed)
    seed.rows["model_runs"], seed.rows["level_predictions"] = _models(seed)
    seed.rows["live_event_counts"] = _live(seed)
    return seed


def _keys(seed: KpiSeed) -> dict[str, str]:
    """A WHERE clause per table that selects what ``seed`` writes (and what it replaces), partition-bounded."""

    def between(column: str, first: date, last: date) -> str:
        return f"`{column}` BETWEEN DATE '{first}' AND DATE '{last}'"

    models = f"STARTS_WITH(model_id, '{MODEL_PREFIX}') AND " + between(
        "training_date", seed.back(10), seed.today + timedelta(days=4)
    )
    return {
        "daily_summary": between("date", seed.back(31), seed.back(1)),
        "retention": between("date", seed.back(31), seed.back(1)),
        "level_metrics": between("date", seed.back(8), seed.back(1)),
        "model_runs": models,
        "level_predictions": models,
        "live_event_counts": between("event_date", seed.back(1), seed.today + timedelta(days=1)),
    }


def plant(warehouse: Warehouse, seed: KpiSeed) -> dict[str, list[dict]]:
    """Replace the rows ``seed`` owns with its rows; returns what was there, for :func:`restore`."""
    return seeding.plant(warehouse, seed, _keys(seed))


def restore(warehouse: Warehouse, seed: KpiSeed, replaced: dict[str, list[dict]]) -> None:
    seeding.restore(warehouse, seed, replaced, _keys(seed))
