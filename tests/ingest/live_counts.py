"""The live counts a test expects, computed apart from the SQL under test: what ``live_event_counts`` holds (SUM
over its rows, as its readers do) against a grouping, in Python, of the rows that reached ``events``.

The reference floors each event's timestamp to 5 minutes in Python and reads ``price_usd`` with JSON_VALUE and a
cast (the same value for every price validation lets through), so neither side shares code with
sql/live_event_counts/ingest_insert.sql.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from game_analytics.warehouse.client import query_rows

PURCHASE = 2001
WINDOW = timedelta(minutes=5)


def window_of(ts: datetime) -> datetime:
    return ts - (ts - ts.replace(hour=0, minute=0, second=0, microsecond=0)) % WINDOW


def live_counts(client, settings) -> dict[tuple, tuple[int, int, float]]:
    """(window_start, event_date, event_type, platform) -> (events, purchases, revenue_usd rounded to 6 places)."""
    rows = query_rows(
        client,
        "SELECT window_start, event_date, event_type, platform, SUM(events) AS events, "
        "SUM(purchases) AS purchases, SUM(revenue_usd) AS revenue_usd "
        f"FROM {settings.table('live_event_counts')} WHERE event_date >= '2000-01-01' "
        "GROUP BY window_start, event_date, event_type, platform",
    )
    return {
        (r["window_start"], r["event_date"], r["event_type"], r["platform"]): (
            r["events"], r["purchases"], round(r["revenue_usd"], 6)
        )
        for r in rows
    }  # fmt: skip


def counts_from_events(client, settings) -> dict[tuple, tuple[int, int, float]]:
    """The same keys and values from the rows of ``events`` (every copy of an event_id: no de-duplication)."""
    rows = query_rows(
        client,
        "SELECT `timestamp`, event_type, platform, "
        "SAFE_CAST(JSON_VALUE(parameters, '$.price_usd') AS FLOAT64) AS price_usd "
        f"FROM {settings.table('events')} WHERE event_date >= '2000-01-01'",
    )
    counts: dict[tuple, list] = defaultdict(lambda: [0, 0, 0.0])
    for r in rows:
        start = window_of(r["timestamp"])
        value = counts[start, start.date(), r["event_type"], r["platform"]]
        value[0] += 1
        if r["event_type"] == PURCHASE:
            value[1] += 1
            value[2] += r["price_usd"] or 0.0
    return {key: (events, purchases, round(revenue, 6)) for key, (events, purchases, revenue) in counts.items()}
