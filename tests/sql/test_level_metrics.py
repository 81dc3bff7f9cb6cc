"""sql/level_metrics/query.sql on the emulator: fixture events in, exact level_metrics rows out (spec metrics.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sql.rows import DAY, LEVEL_COMPLETE, LEVEL_FAIL, LEVEL_START, PURCHASE, SESSION_START, at, event, shift

D = dt.date.fromisoformat(DAY)
COLUMNS = [
    "level_id", "date", "attempts", "completions", "failures", "pass_rate", "avg_moves", "avg_time_seconds",
    "p50_moves", "p95_moves", "unique_players", "booster_usage_rate", "retry_rate",
]  # fmt: skip


def start(user, level, clock, **kw):
    return event(LEVEL_START, user, at(DAY, clock), {"level_id": level}, **kw)


def done(code, user, level, clock, **params):
    return event(code, user, at(DAY, clock), {"level_id": level, **params})


def _events() -> list[dict]:
    return [
        # Level 1: u1 starts 3 times (2 retries), u2 once, u3 twice (1 retry) -> 6 attempts, retry_rate 3/6.
        # Completions' moves 10..50 -> avg 30, p50 30, p95 50; times 60, 30, 45, 50, 55 -> avg 48.
        # One failure -> pass_rate 5/6. Boosters non-empty on 2 of the 6 finished attempts.
        start("u1", 1, "10:00"),
        done(LEVEL_COMPLETE, "u1", 1, "10:05", moves_used=10, time_seconds=60, boosters_used=["hammer"], score=100),
        start("u1", 1, "10:10"),
        done(LEVEL_FAIL, "u1", 1, "10:15", moves_used=35, time_seconds=90, boosters_used=[]),
        start("u1", 1, "10:20"),
        done(LEVEL_COMPLETE, "u1", 1, "10:25", moves_used=20, time_seconds=30, score=90),  # no boosters_used key
        start("u2", 1, "11:00"),
        done(LEVEL_COMPLETE, "u2", 1, "11:05", moves_used=30, time_seconds=45, boosters_used=["bomb", "hammer"]),
        # u3's two starts share a timestamp: event_id breaks the tie, and exactly one of them is the retry.
        start("u3", 1, "12:00", event_id="lvl1-u3-b"),
        start("u3", 1, "12:00", event_id="lvl1-u3-a"),
        done(LEVEL_COMPLETE, "u3", 1, "12:05", moves_used=40, time_seconds=50, boosters_used=[]),
        done(LEVEL_COMPLETE, "u3", 1, "12:30", moves_used=50, time_seconds=55, boosters_used=None),
        # Level 2: starts only -> pass_rate, booster_usage_rate, moves NULL; u4 retried once -> retry_rate 1/3.
        start("u1", 2, "13:00"),
        start("u4", 2, "13:00"),
        start("u4", 2, "13:30"),
        # Level 3: wrongly typed optional parameters are NULL; no level_start -> attempts 0, retry_rate NULL.
        done(
            LEVEL_COMPLETE,
            "u5",
            3,
            "14:00",
            moves_used="12",
            time_seconds="abc",
            boosters_used="hammer",
            score="100",
        ),
        done(LEVEL_COMPLETE, "u5", 3, "14:10", moves_used=12.5, time_seconds=None, boosters_used={"hammer": 1}),
        done(LEVEL_COMPLETE, "u6", 3, "14:20", moves_used=7, time_seconds=20, boosters_used=["hammer"]),
        done(LEVEL_FAIL, "u5", 3, "14:30", moves_used=True),
        # Non-level events of D do not make level rows.
        event(SESSION_START, "u1", at(DAY, "09:59")),
        event(PURCHASE, "u1", at(DAY, "10:30"), {"product_id": "gems", "price_usd": 1.99, "level_id": 9}),
        # Level 4 and more level 1 only on D-1 and D+1: ignored. u2's start of level 1 on D-1 does not make its
        # start on D a retry (first on D).
        event(LEVEL_START, "u2", at(shift(DAY, -1), "23:59:59"), {"level_id": 1}),
        event(LEVEL_COMPLETE, "u2", at(shift(DAY, -1), "23:59:59"), {"level_id": 4, "moves_used": 1}),
        event(LEVEL_START, "u2", at(shift(DAY, 1), "00:00:00"), {"level_id": 1}),
        event(LEVEL_FAIL, "u2", at(shift(DAY, 1), "00:00:00"), {"level_id": 4}),
    ]


@pytest.fixture(scope="module")
def rows(wh) -> dict:
    wh.insert_events(_events())
    result = wh.query("level_metrics/query.sql")
    assert [list(r) for r in result] == [COLUMNS] * len(result), "columns must follow schema.sql order"
    return {r["level_id"]: r for r in result}


def test_one_row_per_level_with_level_events_on_the_day(rows):
    assert sorted(rows) == [1, 2, 3]


def test_level_with_completions_failures_retries_and_boosters(rows):
    assert rows[1] == pytest.approx({
        "level_id": 1, "date": D, "attempts": 6, "completions": 5, "failures": 1, "pass_rate": 5 / 6,
        "avg_moves": 30.0, "avg_time_seconds": 48.0, "p50_moves": 30, "p95_moves": 50, "unique_players": 3,
        "booster_usage_rate": 2 / 6, "retry_rate": 3 / 6,
    })  # fmt: skip


def test_level_with_starts_only_has_null_rates(rows):
    assert rows[2] == pytest.approx({
        "level_id": 2, "date": D, "attempts": 3, "completions": 0, "failures": 0, "pass_rate": None,
        "avg_moves": None, "avg_time_seconds": None, "p50_moves": None, "p95_moves": None, "unique_players": 2,
        "booster_usage_rate": None, "retry_rate": 1 / 3,
    })  # fmt: skip


def test_wrongly_typed_parameters_are_null(rows):
    # moves_used "12" (string), 12.5 (fraction) and true are NULL: only the 7 counts; time_seconds "abc" and null
    # are NULL: only the 20 counts; boosters_used "hammer" and {"hammer": 1} are not arrays: 1 of 4 finished.
    assert rows[3] == pytest.approx({
        "level_id": 3, "date": D, "attempts": 0, "completions": 3, "failures": 1, "pass_rate": 0.75,
        "avg_moves": 7.0, "avg_time_seconds": 20.0, "p50_moves": 7, "p95_moves": 7, "unique_players": 2,
        "booster_usage_rate": 0.25, "retry_rate": None,
    })  # fmt: skip


def test_day_without_events_gives_no_rows(wh, rows):
    assert wh.query("level_metrics/query.sql", ds=shift(DAY, 5)) == []


def test_day_with_only_non_level_events_gives_no_rows(wh, rows):
    day = shift(DAY, 6)
    wh.insert_events([event(SESSION_START, "u1", day), event(PURCHASE, "u1", day, {"price_usd": 0.99})])
    assert wh.query("level_metrics/query.sql", ds=day) == []


def test_level_features_selects_the_exported_columns_of_the_day(wh, rows):
    wh.materialize("level_metrics")
    features = {r["level_id"]: r for r in wh.query("level_features/query.sql")}
    assert list(features[1]) == [
        "level_id", "date", "attempts", "pass_rate", "avg_moves", "p95_moves", "retry_rate",
        "booster_usage_rate", "unique_players",
    ]  # fmt: skip
    assert features == {level: pytest.approx({k: row[k] for k in features[level]}) for level, row in rows.items()}
    assert wh.query("level_features/query.sql", ds=shift(DAY, 1)) == []
