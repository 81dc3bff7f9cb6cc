"""Data-quality checks (sql/<table>/checks/*.sql) on the emulator: silent on clean data, loud on planted faults.

Each scenario uses its own day in one module dataset, so planted faults never leak into the clean day.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from game_analytics.warehouse.sql_templates import SQL_DIR
from tests.sql.rows import (
    DAY,
    DAY_TABLES,
    LEVEL_COMPLETE,
    LEVEL_FAIL,
    LEVEL_START,
    METRIC_TABLES,
    PURCHASE,
    SESSION_END,
    SESSION_START,
    at,
    dlq_row,
    event,
    shift,
)

CHECKS = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.glob("*/checks/*.sql"))
REQUIRED = {
    "events/checks/level_complete_volume.sql": "warn",
    "events_dlq/checks/dlq_share_warn.sql": "warn",
    "events_dlq/checks/dlq_share_fail.sql": "fail",
    **{f"{t}/checks/key_unique_not_null.sql": "fail" for t in METRIC_TABLES},
    **{f"{t}/checks/not_empty.sql": "fail" for t in METRIC_TABLES},
    **{f"{t}/checks/reconcile_with_events.sql": "fail" for t in METRIC_TABLES},
    "level_metrics/checks/rates_in_unit_interval.sql": "fail",
    "revenue_daily_metrics/checks/conversion_rate_in_unit_interval.sql": "fail",
    "revenue_daily_metrics/checks/revenue_non_negative.sql": "fail",
    "user_daily_metrics/checks/revenue_non_negative.sql": "fail",
}

# Days of the scenarios (DAY is the clean day, with a clean week of history before it).
PLANTED = "2026-01-20"  # bad rows written straight into the metric tables
UNPROCESSED = "2026-01-21"  # events but no metric rows
BAD_LEVEL_ID = "2026-01-22"  # a level event whose level_id is a string
VOLUME_DROP = "2026-02-10"  # 10 completions a day for a week, then 2
DLQ_2_PERCENT = "2026-03-01"
DLQ_6_PERCENT = "2026-03-02"
DLQ_LATE = "2026-03-10"  # 6 % of its messages are dead letters that failed 3 days later
DLQ_LATE_FAILED = "2026-03-13"  # the day they failed: 50 good events, and those 6 dead letters count elsewhere


def check(wh, table: str, name: str, day: str) -> list[dict]:
    return wh.query(f"{table}/checks/{name}.sql", ds=day)


def _play_day(day: str, users: int = 3) -> list[dict]:
    """A plausible day: every user starts a session, plays level 1 (a fail, a retry, a completion) and some pay."""
    rows = []
    for n in range(users):
        user = f"p{n}"
        rows += [
            event(SESSION_START, user, at(day, "10:00"), platform=("ios", "android")[n % 2]),
            event(LEVEL_START, user, at(day, "10:01"), {"level_id": 1}),
            event(LEVEL_FAIL, user, at(day, "10:02"), {"level_id": 1, "moves_used": 30, "boosters_used": []}),
            event(LEVEL_START, user, at(day, "10:03"), {"level_id": 1}),
            event(
                LEVEL_COMPLETE,
                user,
                at(day, "10:04"),
                {"level_id": 1, "moves_used": 20 + n, "time_seconds": 40, "boosters_used": ["bomb"], "score": 5},
            ),
            event(LEVEL_START, user, at(day, "10:05"), {"level_id": 2}),
            event(SESSION_END, user, at(day, "10:30"), {"duration_sec": 1800}),
        ]
        if n % 2 == 0:
            rows.append(event(PURCHASE, user, at(day, "10:10"), {"product_id": "gems", "price_usd": 0.1 * (n + 1)}))
    return rows


@pytest.fixture(scope="module")
def seeded(wh):
    """Every scenario's input, inserted with as few statements as possible; metric rows for DAY materialized."""
    events = [row for days_back in range(8) for row in _play_day(shift(DAY, -days_back))]
    events += _play_day(UNPROCESSED, users=2)
    events += [event(LEVEL_COMPLETE, "p9", at(BAD_LEVEL_ID, "10:00"), {"level_id": "7"})]
    events += [
        event(LEVEL_COMPLETE, f"v{n}", at(shift(VOLUME_DROP, -days_back), "10:00"), {"level_id": 1})
        for days_back in range(1, 8)
        for n in range(10)
    ]
    events += [event(LEVEL_COMPLETE, f"v{n}", at(VOLUME_DROP, "10:00"), {"level_id": 1}) for n in range(2)]
    events += [event(SESSION_START, f"q{n}", at(DLQ_2_PERCENT, "10:00")) for n in range(98)]
    events += [event(SESSION_START, f"q{n}", at(DLQ_6_PERCENT, "10:00")) for n in range(94)]
    events += [event(SESSION_START, f"q{n}", at(DLQ_LATE, "10:00")) for n in range(94)]
    events += [event(SESSION_START, f"q{n}", at(DLQ_LATE_FAILED, "10:00")) for n in range(50)]
    wh.insert_events(events)
    wh.insert(
        "events_dlq",
        [dlq_row(at(DLQ_2_PERCENT, "11:00")) for _ in range(2)]
        + [dlq_row(at(DLQ_6_PERCENT, "11:00")) for _ in range(6)]
        + [dlq_row(at(shift(DAY, -1), "23:59:59")), dlq_row(at(shift(DAY, 1), "00:00:00"))]
        + [dlq_row(at(DLQ_LATE_FAILED, "11:00"), event_date=date.fromisoformat(DLQ_LATE)) for _ in range(6)],
    )
    for table in DAY_TABLES:  # the metrics, then the player state and the KPIs built from them
        wh.materialize(table, DAY)
    wh.materialize("level_metrics", BAD_LEVEL_ID)
    return wh


def test_every_required_check_exists_with_its_severity():
    found = {}
    for path in CHECKS:
        first, second = (SQL_DIR / path).read_text().splitlines()[:2]
        severity = re.fullmatch(r"-- severity: (fail|warn)", first)
        assert severity, f"{path}: first line must be '-- severity: fail|warn', got {first!r}"
        assert re.fullmatch(r"-- description: \S.*", second), f"{path}: second line must be '-- description: ...'"
        found[path] = severity.group(1)
    assert {p: found.get(p) for p in REQUIRED} == REQUIRED


@pytest.mark.parametrize("path", CHECKS)
def test_check_passes_on_a_clean_day(seeded, path):
    assert seeded.query(path, ds=DAY) == []


@pytest.mark.parametrize("path", CHECKS)
def test_check_passes_on_a_day_without_data(seeded, path):
    assert seeded.query(path, ds="2025-06-01") == []


def test_clean_day_has_metric_rows(seeded):
    for table in METRIC_TABLES:
        assert seeded.run(f"SELECT COUNT(*) AS n FROM {seeded.table(table)} WHERE `date` = DATE '{DAY}'")[0]["n"] > 0


@pytest.fixture(scope="module")
def planted(seeded):
    """Faulty metric rows for PLANTED, written directly (no events that day)."""
    day = PLANTED
    level = {"date": day, "attempts": 1, "completions": 1, "failures": 0, "pass_rate": 1.0, "retry_rate": 0.0}
    seeded.insert("level_metrics", [
        {**level, "level_id": 1, "pass_rate": 1.5, "booster_usage_rate": 0.5},
        {**level, "level_id": 2, "retry_rate": -0.25},
        {**level, "level_id": 3},
        {**level, "level_id": 3},
        {**level, "level_id": None},
    ])  # fmt: skip
    seeded.insert("user_daily_metrics", [
        {"user_id": "a", "date": day, "events": 1, "revenue_usd": -5.0},
        {"user_id": "b", "date": day, "events": 1, "revenue_usd": 0.0},
        {"user_id": "b", "date": day, "events": 1, "revenue_usd": 1.0},
    ])  # fmt: skip
    revenue = {"date": day, "dau": 10, "paying_users": 1, "purchases": 1, "revenue_usd": 1.0, "arpdau": 0.1,
               "arppu": 1.0, "conversion_rate": 0.1}  # fmt: skip
    seeded.insert("revenue_daily_metrics", [
        {**revenue, "platform": "ios", "country": "DE", "paying_users": 12, "conversion_rate": 1.2},
        {**revenue, "platform": "ios", "country": "FR", "revenue_usd": -1.0, "arpdau": -0.1, "arppu": -1.0},
        {**revenue, "platform": "web", "country": "US"},
        {**revenue, "platform": "web", "country": "US"},
    ])  # fmt: skip
    return seeded


def test_fail_check_returns_rates_out_of_range(planted):
    rows = check(planted, "level_metrics", "rates_in_unit_interval", PLANTED)
    assert sorted(rows, key=lambda r: r["level_id"]) == [
        {"level_id": 1, "pass_rate": 1.5, "retry_rate": 0.0, "booster_usage_rate": 0.5},
        {"level_id": 2, "pass_rate": 1.0, "retry_rate": -0.25, "booster_usage_rate": None},
    ]


def test_fail_check_returns_duplicate_and_null_keys(planted):
    def key(row):
        return tuple((v is not None, v) for v in row.values())

    assert sorted(check(planted, "level_metrics", "key_unique_not_null", PLANTED), key=key) == [
        {"level_id": None, "row_count": 1},
        {"level_id": 3, "row_count": 2},
    ]
    assert check(planted, "user_daily_metrics", "key_unique_not_null", PLANTED) == [{"user_id": "b", "row_count": 2}]
    assert check(planted, "revenue_daily_metrics", "key_unique_not_null", PLANTED) == [
        {"platform": "web", "country": "US", "row_count": 2}
    ]


def test_fail_check_returns_negative_revenue(planted):
    assert check(planted, "user_daily_metrics", "revenue_non_negative", PLANTED) == [
        {"user_id": "a", "revenue_usd": -5.0}
    ]
    assert check(planted, "revenue_daily_metrics", "revenue_non_negative", PLANTED) == [
        {"platform": "ios", "country": "FR", "revenue_usd": -1.0, "arpdau": -0.1, "arppu": -1.0}
    ]


def test_fail_check_returns_conversion_rate_out_of_range(planted):
    assert check(planted, "revenue_daily_metrics", "conversion_rate_in_unit_interval", PLANTED) == [
        {"platform": "ios", "country": "DE", "dau": 10, "paying_users": 12, "conversion_rate": 1.2}
    ]


def test_unprocessed_day_fails_not_empty_and_reconciliation(seeded):
    day = UNPROCESSED  # 2 users x 7 events + 1 purchase, and no metric rows
    assert check(seeded, "level_metrics", "not_empty", day) == [{"level_events_rows": 10, "table_rows": 0}]
    assert check(seeded, "user_daily_metrics", "not_empty", day) == [{"events_rows": 15, "table_rows": 0}]
    assert check(seeded, "revenue_daily_metrics", "not_empty", day) == [{"events_rows": 15, "table_rows": 0}]
    by_measure = {r["measure"]: r for r in check(seeded, "level_metrics", "reconcile_with_events", day)}
    assert by_measure == {
        "attempts": {"measure": "attempts", "events_value": 6, "table_value": 0},
        "completions": {"measure": "completions", "events_value": 2, "table_value": 0},
        "failures": {"measure": "failures", "events_value": 2, "table_value": 0},
    }
    assert sorted(r["measure"] for r in check(seeded, "user_daily_metrics", "reconcile_with_events", day)) == [
        "events", "levels_completed", "purchases",
    ]  # fmt: skip
    revenue = {r["measure"]: r for r in check(seeded, "revenue_daily_metrics", "reconcile_with_events", day)}
    assert revenue == {
        "purchases": {"measure": "purchases", "events_value": 1.0, "table_value": 0.0},
        "revenue_usd": {"measure": "revenue_usd", "events_value": pytest.approx(0.1), "table_value": 0.0},
    }


def test_reconciliation_catches_a_metric_table_that_drifted_from_events(seeded):
    day = shift(DAY, -1)  # clean events; metric rows materialized, then one row tampered with
    for table in METRIC_TABLES:
        seeded.materialize(table, day)
        assert check(seeded, table, "reconcile_with_events", day) == []
    seeded.run(
        f"UPDATE {seeded.table('revenue_daily_metrics')} SET revenue_usd = revenue_usd + 0.02 "
        f"WHERE `date` = DATE '{day}' AND platform = 'ios'"
    )
    rows = check(seeded, "revenue_daily_metrics", "reconcile_with_events", day)
    assert [r["measure"] for r in rows] == ["revenue_usd"]
    assert rows[0]["table_value"] - rows[0]["events_value"] == pytest.approx(0.02)


def test_string_level_id_surfaces_as_null_key(seeded):
    # Validation rejects such events; if one slipped through, the key check stops the run.
    assert check(seeded, "level_metrics", "key_unique_not_null", BAD_LEVEL_ID) == [{"level_id": None, "row_count": 1}]


def test_volume_warn_fires_on_a_drop_against_the_7_day_average(seeded):
    assert check(seeded, "events", "level_complete_volume", VOLUME_DROP) == [
        {"day_count": 2, "baseline_daily_avg": 10.0, "drop_ratio": pytest.approx(0.8), "warn_above": 0.5}
    ]


def test_volume_warn_is_silent_without_history(seeded):
    # UNPROCESSED has completions but no level_complete in the 7 days before it.
    assert check(seeded, "events", "level_complete_volume", UNPROCESSED) == []


def test_dlq_share_of_2_percent_warns_only(seeded):
    assert check(seeded, "events_dlq", "dlq_share_warn", DLQ_2_PERCENT) == [
        {"dlq_rows": 2, "events_rows": 98, "dlq_share": pytest.approx(0.02), "warn_above": 0.01}
    ]
    assert check(seeded, "events_dlq", "dlq_share_fail", DLQ_2_PERCENT) == []


def test_dlq_share_of_6_percent_warns_and_fails(seeded):
    expected = {"dlq_rows": 6, "events_rows": 94, "dlq_share": pytest.approx(0.06)}
    assert check(seeded, "events_dlq", "dlq_share_warn", DLQ_6_PERCENT) == [{**expected, "warn_above": 0.01}]
    assert check(seeded, "events_dlq", "dlq_share_fail", DLQ_6_PERCENT) == [{**expected, "fail_above": 0.05}]


def test_a_dead_letter_counts_against_its_event_day_not_the_day_it_failed(seeded):
    """Replayed or late messages: 6 dead letters of DLQ_LATE's events, ingested 3 days later."""
    expected = {"dlq_rows": 6, "events_rows": 94, "dlq_share": pytest.approx(0.06)}
    assert check(seeded, "events_dlq", "dlq_share_fail", DLQ_LATE) == [{**expected, "fail_above": 0.05}]
    assert check(seeded, "events_dlq", "dlq_share_warn", DLQ_LATE_FAILED) == []
