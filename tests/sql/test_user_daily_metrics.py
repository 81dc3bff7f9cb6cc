"""sql/user_daily_metrics/query.sql on the emulator: fixture events in, exact rows out (spec metrics.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sql.rows import (
    DAY,
    LEVEL_COMPLETE,
    LEVEL_FAIL,
    LEVEL_START,
    PURCHASE,
    SESSION_END,
    SESSION_START,
    at,
    event,
    shift,
)

D = dt.date.fromisoformat(DAY)
COLUMNS = [
    "user_id", "date", "sessions", "events", "levels_played", "levels_completed", "playtime_minutes",
    "purchases", "revenue_usd", "best_score",
]  # fmt: skip


def _events() -> list[dict]:
    s2 = {"session_id": "u1-s2"}
    return [
        # u1: two sessions, levels 1 (twice) and 2 started, two completions, 600 + 90 s played, two purchases.
        event(SESSION_START, "u1", at(DAY, "08:00")),
        event(LEVEL_START, "u1", at(DAY, "08:01"), {"level_id": 1}),
        event(LEVEL_COMPLETE, "u1", at(DAY, "08:02"), {"level_id": 1, "score": 100}),
        event(LEVEL_START, "u1", at(DAY, "08:03"), {"level_id": 1}),
        event(LEVEL_COMPLETE, "u1", at(DAY, "08:04"), {"level_id": 1, "score": 250}),
        event(LEVEL_START, "u1", at(DAY, "08:05"), {"level_id": 2}),
        event(SESSION_END, "u1", at(DAY, "08:10"), {"duration_sec": 600}),
        event(SESSION_START, "u1", at(DAY, "20:00"), **s2),
        event(PURCHASE, "u1", at(DAY, "20:01"), {"product_id": "gems", "price_usd": 1.99, "currency": "EUR"}, **s2),
        event(PURCHASE, "u1", at(DAY, "20:02"), {"product_id": "coins", "price_usd": 0.99}, **s2),
        event(SESSION_END, "u1", at(DAY, "20:03"), {"duration_sec": 90}, **s2),
        # u2: no session_id at all, a failure only: sessions 0, no level played, score NULL, playtime/revenue 0.
        event(SESSION_START, "u2", at(DAY, "09:00"), session_id=None),
        event(LEVEL_FAIL, "u2", at(DAY, "09:01"), {"level_id": 3}, session_id=None),
        # u3: wrongly typed parameters are NULL: duration_sec "600" and -5, level_id "5", score "999"; a zero-priced
        # purchase still counts; NULL parameters are no problem.
        event(SESSION_END, "u3", at(DAY, "10:00"), {"duration_sec": "600"}),
        event(SESSION_END, "u3", at(DAY, "10:01"), {"duration_sec": -5}),
        event(SESSION_END, "u3", at(DAY, "10:02"), {"duration_sec": 120}),
        event(LEVEL_START, "u3", at(DAY, "10:03"), {"level_id": "5"}),
        event(LEVEL_START, "u3", at(DAY, "10:04"), {"level_id": 6}),
        event(LEVEL_START, "u3", at(DAY, "10:05"), {"level_id": 6}),
        event(LEVEL_COMPLETE, "u3", at(DAY, "10:06"), {"level_id": 6, "score": "999"}),
        event(LEVEL_COMPLETE, "u3", at(DAY, "10:07"), {"level_id": 6, "score": 40}),
        event(LEVEL_COMPLETE, "u3", at(DAY, "10:08"), {"level_id": 6}),
        event(PURCHASE, "u3", at(DAY, "10:09"), {"product_id": "starter", "price_usd": 0}),
        event(SESSION_START, "u3", at(DAY, "10:10"), parameters=None),
        # u4: only on D-1 and D+1 -> no row. u5: the last second of D counts, the first of D+1 does not.
        event(SESSION_START, "u4", at(shift(DAY, -1), "23:59:59")),
        event(PURCHASE, "u4", at(shift(DAY, 1), "00:00:00"), {"price_usd": 5.0}),
        event(SESSION_START, "u5", at(DAY, "23:59:59")),
        event(SESSION_END, "u5", at(shift(DAY, 1), "00:00:00"), {"duration_sec": 60}),
    ]


@pytest.fixture(scope="module")
def rows(wh) -> dict:
    wh.insert_events(_events())
    result = wh.query("user_daily_metrics/query.sql")
    assert [list(r) for r in result] == [COLUMNS] * len(result), "columns must follow schema.sql order"
    return {r["user_id"]: r for r in result}


def test_one_row_per_user_with_events_on_the_day(rows):
    assert sorted(rows) == ["u1", "u2", "u3", "u5"]


def test_active_user(rows):
    assert rows["u1"] == pytest.approx({
        "user_id": "u1", "date": D, "sessions": 2, "events": 11, "levels_played": 2, "levels_completed": 2,
        "playtime_minutes": 11.5, "purchases": 2, "revenue_usd": 2.98, "best_score": 250,
    })  # fmt: skip


def test_user_without_sessions_completions_or_purchases(rows):
    assert rows["u2"] == pytest.approx({
        "user_id": "u2", "date": D, "sessions": 0, "events": 2, "levels_played": 0, "levels_completed": 0,
        "playtime_minutes": 0.0, "purchases": 0, "revenue_usd": 0.0, "best_score": None,
    })  # fmt: skip


def test_wrongly_typed_parameters_are_null_and_free_purchases_count(rows):
    assert rows["u3"] == pytest.approx({
        "user_id": "u3", "date": D, "sessions": 1, "events": 11, "levels_played": 1, "levels_completed": 3,
        "playtime_minutes": 2.0, "purchases": 1, "revenue_usd": 0.0, "best_score": 40,
    })  # fmt: skip


def test_day_boundaries_are_utc_days(rows):
    assert rows["u5"] == pytest.approx({
        "user_id": "u5", "date": D, "sessions": 1, "events": 1, "levels_played": 0, "levels_completed": 0,
        "playtime_minutes": 0.0, "purchases": 0, "revenue_usd": 0.0, "best_score": None,
    })  # fmt: skip


def test_day_without_events_gives_no_rows(wh, rows):
    assert wh.query("user_daily_metrics/query.sql", ds=shift(DAY, 5)) == []


def test_neighbour_days_are_computed_from_their_own_events(wh, rows):
    before = wh.query("user_daily_metrics/query.sql", ds=shift(DAY, -1))
    assert [(r["user_id"], r["events"], r["date"]) for r in before] == [("u4", 1, D - dt.timedelta(days=1))]
