"""sql/user_lifetime_stats, sql/retention and sql/daily_summary on the emulator (spec metrics.md, "Player state"):
fixture events in, exact rows out, day after day as the daily DAG builds them.

The days: B is the first day of the history; the chain B .. B+7 is built in order (user_daily_metrics, then the
player state, then retention and the summary), as the DAG's task order does for each day.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sql.rows import LEVEL_COMPLETE, LEVEL_START, PURCHASE, SESSION_START, Warehouse, at, event, shift

B = "2026-01-01"  # the first day of the history
DAYS = [shift(B, n) for n in range(8)]
ACTIVE_DAYS = {shift(B, n) for n in (0, 1, 6, 7)}  # the days with events: the others have no user_daily_metrics
ORDER = ("user_daily_metrics", "user_lifetime_stats", "retention", "daily_summary")


def day(n: int) -> dt.date:
    return dt.date.fromisoformat(shift(B, n))


def _events() -> list[dict]:
    return [
        # p1: ios, Germany; active B, B+1 and B+7; level 3 completed (100) on B, level 5 (50) on B+7; pays on B+1.
        event(SESSION_START, "p1", at(B, "08:00")),
        event(LEVEL_COMPLETE, "p1", at(B, "08:05"), {"level_id": 3, "score": 100}),
        event(PURCHASE, "p1", at(shift(B, 1), "09:00"), {"price_usd": 2.5}),
        event(LEVEL_COMPLETE, "p1", at(shift(B, 7), "10:00"), {"level_id": 5, "score": 50}),
        # p2: no platform, active on B only (skips every later day).
        event(SESSION_START, "p2", at(B, "09:00"), platform=None, country=None),
        # p3: first seen on B+1; its first event (by timestamp, then event_id) is on android in Brazil.
        # Same timestamp: the smaller event_id decides, though it is stored second.
        event(SESSION_START, "p3", at(shift(B, 1), "07:00"), platform="web", country="US", event_id="e-p3-b"),
        event(LEVEL_START, "p3", at(shift(B, 1), "07:00"), {"level_id": 1}, platform="android", country="BR",
              event_id="e-p3-a"),
        event(PURCHASE, "p3", at(shift(B, 1), "07:30"), {"price_usd": 1.0}, platform="web"),
        # p4: ios, active on B and B+6.
        event(SESSION_START, "p4", at(B, "10:00")),
        event(SESSION_START, "p4", at(shift(B, 6), "10:00")),
    ]  # fmt: skip


def build(wh: Warehouse, ds: str, tables=ORDER) -> None:
    for table in tables:
        wh.materialize(table, ds)


def rows_of(wh: Warehouse, table: str, ds: str, key: str) -> dict:
    return {r[key]: r for r in wh.run(f"SELECT * FROM {wh.table(table)} WHERE `date` = DATE '{ds}'")}


@pytest.fixture(scope="module")
def history(wh) -> Warehouse:
    wh.insert_events(_events())
    for ds in DAYS:
        build(wh, ds, ORDER if ds in ACTIVE_DAYS else ORDER[1:])
    return wh


def test_the_first_day_starts_the_history(history):
    first = rows_of(history, "user_lifetime_stats", B, "user_id")
    assert sorted(first) == ["p1", "p2", "p4"]
    assert first["p1"] == pytest.approx({
        "user_id": "p1", "date": day(0), "first_seen_date": day(0), "first_platform": "ios", "first_country": "DE",
        "last_seen_date": day(0), "days_seen_bits": 1, "days_active": 1, "sessions": 1, "events": 2,
        "levels_completed": 1, "purchases": 0, "revenue_usd": 0.0, "best_score": 100, "max_level_completed": 3,
        "first_purchase_date": None,
    })  # fmt: skip
    assert (first["p2"]["first_platform"], first["p2"]["first_country"]) == (None, None)


def test_a_day_carries_every_player_forward_and_adds_its_own(history):
    state = rows_of(history, "user_lifetime_stats", shift(B, 7), "user_id")
    assert sorted(state) == ["p1", "p2", "p3", "p4"]
    assert state["p1"] == pytest.approx({
        "user_id": "p1", "date": day(7), "first_seen_date": day(0), "first_platform": "ios", "first_country": "DE",
        "last_seen_date": day(7), "days_seen_bits": 0b11000001, "days_active": 3, "sessions": 3, "events": 4,
        "levels_completed": 2, "purchases": 1, "revenue_usd": 2.5, "best_score": 100, "max_level_completed": 5,
        "first_purchase_date": day(1),
    })  # fmt: skip
    # p2 skipped every day since B: carried as it was, its bit moved 7 places.
    assert (state["p2"]["last_seen_date"], state["p2"]["days_seen_bits"], state["p2"]["days_active"]) == (
        day(0), 1 << 7, 1,
    )  # fmt: skip
    assert (state["p4"]["days_seen_bits"], state["p4"]["days_active"]) == (0b10000010, 2)  # B: bit 7, B+6: bit 1


def test_a_new_players_first_platform_is_its_first_event_by_time_then_event_id(history):
    p3 = rows_of(history, "user_lifetime_stats", shift(B, 1), "user_id")["p3"]
    assert (p3["first_seen_date"], p3["first_platform"], p3["first_country"]) == (day(1), "android", "BR")
    assert (p3["first_purchase_date"], p3["revenue_usd"]) == (day(1), 1.0)


def test_retention_by_cohort_and_first_platform(history):
    d1 = {(r["platform"]): r for r in history.run(
        f"SELECT * FROM {history.table('retention')} WHERE `date` = DATE '{shift(B, 1)}'")}  # fmt: skip
    # Cohort B (p1 ios, p2 unknown, p4 ios) on B+1: only p1 came back.
    assert {p: (r["cohort_date"], r["day_n"], r["cohort_size"], r["retained_users"]) for p, r in d1.items()} == {
        "all": (day(0), 1, 3, 1), "ios": (day(0), 1, 2, 1), "unknown": (day(0), 1, 1, 0),
    }  # fmt: skip
    assert d1["all"]["retention_rate"] == pytest.approx(1 / 3)
    d7 = {r["platform"]: r for r in history.run(
        f"SELECT * FROM {history.table('retention')} WHERE `date` = DATE '{shift(B, 7)}'")}  # fmt: skip
    assert {p: (r["day_n"], r["cohort_size"], r["retained_users"]) for p, r in d7.items()} == {
        "all": (7, 3, 1), "ios": (7, 2, 1), "unknown": (7, 1, 0),
    }  # fmt: skip
    # B+6: D1 of cohort B+5 has no players, so no row; nobody is 7 days old yet.
    assert history.run(f"SELECT * FROM {history.table('retention')} WHERE `date` = DATE '{shift(B, 6)}'") == []


def test_daily_summary(history):
    summary = rows_of(history, "daily_summary", shift(B, 1), "date")[day(1)]
    assert summary == pytest.approx({
        "date": day(1), "dau": 2, "wau": 4, "mau": 4, "stickiness": 0.5, "new_players": 1, "returning_players": 1,
        "total_players": 4, "paying_players": 2, "new_payers": 2, "revenue_usd": 3.5, "purchases": 2, "arpdau": 1.75,
        "sessions_per_player": 1.0, "playtime_minutes_per_player": 0.0, "levels_completed": 0,
        "lifetime_revenue_usd": 3.5,
    })  # fmt: skip
    last = rows_of(history, "daily_summary", shift(B, 7), "date")[day(7)]
    # p2's only day, B, is 7 days back at B+7: out of the week (bits 0-6), still in the 28 days.
    assert (last["dau"], last["wau"], last["mau"], last["total_players"]) == (1, 3, 4, 4)
    quiet = rows_of(history, "daily_summary", shift(B, 2), "date")[day(2)]
    assert (quiet["dau"], quiet["wau"], quiet["stickiness"], quiet["arpdau"], quiet["lifetime_revenue_usd"]) == (
        0, 4, 0.0, None, 3.5,
    )  # fmt: skip


def test_every_check_passes_on_the_history(history):
    from game_analytics.daily.quality import run_table_checks

    for ds in sorted(ACTIVE_DAYS):
        for table in ORDER[1:]:
            results = run_table_checks(history.run, history.settings, table, ds)
            assert results and all(r.passed for r in results), [r.message() for r in results if not r.passed]


def test_a_player_returning_after_31_days_has_the_old_days_shifted_out(wh):
    """Partition D-1 as the chain leaves it 30 days after a player's only other day (bit 30 set), then D."""
    d, previous = "2026-03-10", "2026-03-09"
    wh.insert("user_lifetime_stats", [{
        "user_id": "back", "date": dt.date.fromisoformat(previous), "first_seen_date": dt.date(2026, 2, 7),
        "first_platform": "ios", "first_country": "DE", "last_seen_date": dt.date(2026, 2, 7),
        "days_seen_bits": 1 << 30, "days_active": 1, "sessions": 1, "events": 1, "levels_completed": 0,
        "purchases": 0, "revenue_usd": 0.0, "best_score": None, "max_level_completed": None,
        "first_purchase_date": None,
    }])  # fmt: skip
    wh.insert_events([event(SESSION_START, "back", at(d, "12:00"))])
    build(wh, d, ORDER[:2])
    back = rows_of(wh, "user_lifetime_stats", d, "user_id")["back"]
    assert (back["days_seen_bits"], back["days_active"], back["last_seen_date"]) == (1, 2, dt.date(2026, 3, 10))
    assert back["first_seen_date"] == dt.date(2026, 2, 7)


def test_a_rerun_of_a_day_recomputes_it_with_its_late_events(wh):
    d = "2026-04-01"
    wh.insert_events([event(SESSION_START, "r1", at(d, "08:00"))])
    build(wh, d)
    wh.insert_events([event(PURCHASE, "r2", at(d, "23:00"), {"price_usd": 4.0}, platform=None)])  # arrives late
    build(wh, d)
    build(wh, d)  # and once more: nothing doubles
    state = rows_of(wh, "user_lifetime_stats", d, "user_id")
    assert sorted(state) == ["r1", "r2"] and state["r2"]["revenue_usd"] == 4.0
    summary = rows_of(wh, "daily_summary", d, "date")[dt.date(2026, 4, 1)]
    assert (summary["dau"], summary["new_players"], summary["revenue_usd"]) == (2, 2, 4.0)


def test_the_demo_summary_prints_the_kpis_of_the_tables(history):
    from game_analytics.localstack.demo import kpi_summary

    text = kpi_summary(history.settings, DAYS)
    assert f"{shift(B, 7)}  DAU 1, new players 0, lifetime revenue $3.50 (4 players since {B})" in text
    assert f"D1 retention of the {B} cohort: 33.3% (1 of 3 players)" in text
    assert f"D7 retention of the {B} cohort: 33.3% (1 of 3 players)" in text


def test_the_28_day_window_and_a_30_day_cohort(wh):
    """Partition D-1 as the chain leaves it: two players of the cohort D-30 (one back on D), one player last seen
    D-27 and one D-28 (D's 28 days are D-27 .. D)."""
    d, previous, cohort = "2026-05-01", dt.date(2026, 4, 30), dt.date(2026, 4, 1)

    def player(user_id: str, first_seen: dt.date, bits_at_previous: int) -> dict:
        return {
            "user_id": user_id, "date": previous, "first_seen_date": first_seen, "first_platform": "android",
            "first_country": "BR", "last_seen_date": previous - dt.timedelta(days=bits_at_previous.bit_length() - 1),
            "days_seen_bits": bits_at_previous, "days_active": 1, "sessions": 1, "events": 1,
            "levels_completed": 0, "purchases": 0, "revenue_usd": 0.0,
        }  # fmt: skip

    wh.insert("user_lifetime_stats", [
        player("back", cohort, 1 << 29), player("gone", cohort, 1 << 29),
        player("edge", dt.date(2026, 3, 1), 1 << 26), player("out", dt.date(2026, 3, 1), 1 << 27),
    ])  # fmt: skip
    wh.insert_events([event(SESSION_START, "back", at(d, "12:00"))])
    build(wh, d)
    summary = rows_of(wh, "daily_summary", d, "date")[dt.date(2026, 5, 1)]
    assert (summary["dau"], summary["wau"], summary["mau"], summary["total_players"]) == (1, 1, 2, 4)
    retention = wh.run(f"SELECT * FROM {wh.table('retention')} WHERE `date` = DATE '{d}' AND platform = 'all'")
    assert [(r["cohort_date"], r["day_n"], r["cohort_size"], r["retained_users"]) for r in retention] == [
        (cohort, 30, 2, 1),
    ]  # fmt: skip


def test_the_reconciliation_check_names_each_total_that_grew_by_another_amount(wh):
    d = "2026-06-01"
    wh.insert_events([event(PURCHASE, "x", at(d, "12:00"), {"price_usd": 1.5})])
    wh.materialize("user_daily_metrics", d)
    wh.insert("user_lifetime_stats", [{
        "user_id": "x", "date": dt.date(2026, 6, 1), "first_seen_date": dt.date(2026, 6, 1),
        "last_seen_date": dt.date(2026, 6, 1), "days_seen_bits": 1, "days_active": 1, "sessions": 1, "events": 5,
        "levels_completed": 0, "purchases": 1, "revenue_usd": 1.5,
    }])  # fmt: skip
    found = wh.query("user_lifetime_stats/checks/reconcile_with_user_daily_metrics.sql", ds=d)
    assert found == [{"measure": "events_added", "day_value": 1.0, "lifetime_value": 5.0}]
