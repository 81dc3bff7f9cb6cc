"""sql/revenue_daily_metrics/query.sql on the emulator: fixture events in, exact rows out (spec metrics.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sql.rows import DAY, LEVEL_START, PURCHASE, SESSION_START, at, event, shift

D = dt.date.fromisoformat(DAY)
COLUMNS = [
    "date", "platform", "country", "dau", "paying_users", "purchases", "revenue_usd", "arpdau", "arppu",
    "conversion_rate",
]  # fmt: skip


def buy(user, price, clock="12:00", **kw):
    return event(PURCHASE, user, at(DAY, clock), {"product_id": "gems", "price_usd": price}, **kw)


def _events() -> list[dict]:
    android = {"platform": "android"}
    return [
        # ios/DE: u1, u2, u3 active; u1 pays 4.99, u3 buys a free item (still a paying user).
        event(SESSION_START, "u1", at(DAY, "08:00")),
        buy("u1", 4.99, "08:01"),
        event(SESSION_START, "u2", at(DAY, "08:00")),
        event(LEVEL_START, "u2", at(DAY, "08:01"), {"level_id": 1}),
        buy("u3", 0, "09:00"),
        # u1 also plays on android/DE the same day: counted once in that group too.
        event(SESSION_START, "u1", at(DAY, "18:00"), **android),
        buy("u1", 0.99, "18:01", **android),
        # NULL platform or country is grouped as 'unknown'.
        event(SESSION_START, "u4", at(DAY, "10:00"), platform=None, country="US"),
        buy("u5", 9.99, "11:00", platform="web", country=None),
        buy("u5", 9.99, "11:05", platform="web", country=None),
        event(SESSION_START, "u6", at(DAY, "12:00"), platform=None, country=None),
        # Purchases of D-1 and D+1 are ignored.
        event(PURCHASE, "u2", at(shift(DAY, -1), "23:59:59"), {"price_usd": 100.0}),
        event(PURCHASE, "u2", at(shift(DAY, 1), "00:00:00"), {"price_usd": 100.0}),
    ]


@pytest.fixture(scope="module")
def rows(wh) -> dict:
    wh.insert_events(_events())
    result = wh.query("revenue_daily_metrics/query.sql")
    assert [list(r) for r in result] == [COLUMNS] * len(result), "columns must follow schema.sql order"
    return {(r["platform"], r["country"]): r for r in result}


def _row(platform, country, dau, paying, purchases, revenue, arppu):
    return {
        "date": D, "platform": platform, "country": country, "dau": dau, "paying_users": paying,
        "purchases": purchases, "revenue_usd": revenue, "arpdau": revenue / dau, "arppu": arppu,
        "conversion_rate": paying / dau,
    }  # fmt: skip


def test_one_row_per_platform_and_country(rows):
    assert sorted(rows) == [
        ("android", "DE"), ("ios", "DE"), ("unknown", "US"), ("unknown", "unknown"), ("web", "unknown"),
    ]  # fmt: skip


def test_group_with_paying_and_free_purchases(rows):
    assert rows["ios", "DE"] == pytest.approx(_row("ios", "DE", 3, 2, 2, 4.99, 4.99 / 2))


def test_user_on_two_platforms_counts_in_both(rows):
    assert rows["android", "DE"] == pytest.approx(_row("android", "DE", 1, 1, 1, 0.99, 0.99))
    assert rows["ios", "DE"]["dau"] == 3


def test_null_platform_or_country_is_unknown(rows):
    assert rows["web", "unknown"] == pytest.approx(_row("web", "unknown", 1, 1, 2, 19.98, 19.98))
    assert rows["unknown", "US"] == pytest.approx(_row("unknown", "US", 1, 0, 0, 0.0, None))
    assert rows["unknown", "unknown"] == pytest.approx(_row("unknown", "unknown", 1, 0, 0, 0.0, None))


def test_revenue_is_zero_not_null_without_purchases(rows):
    assert rows["unknown", "US"]["revenue_usd"] == 0
    assert rows["unknown", "US"]["arpdau"] == 0
    assert rows["unknown", "US"]["arppu"] is None


def test_day_without_events_gives_no_rows(wh, rows):
    assert wh.query("revenue_daily_metrics/query.sql", ds=shift(DAY, 5)) == []
