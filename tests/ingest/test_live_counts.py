"""Live windowed counts on the emulator, through the real batch path without Kafka: messages prepared by
``prepare_batch``, staged and committed by ``WarehouseLoader`` (the script of every batch). The windows' edges,
NULL platforms, price_usd read as the revenue metric reads it, and a batch committed again, replayed by another
group, or repeating an event_id. The broker-backed replay and the crash points are in test_ingestion.py and
test_crash_recovery.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pytest

from game_analytics.ingest.batch import Messages, prepare_batch
from game_analytics.ingest.loader import WarehouseLoader
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import render_sql
from tests.ingest.live_counts import counts_from_events, live_counts

pytestmark = pytest.mark.stack

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)  # the batch's ingestion time: the clock is an input
D1, D2 = date(2026, 11, 2), date(2026, 11, 3)
TOPIC = "game-events-raw-live"
SESSION, LEVEL_START, PURCHASE = 3001, 1001, 2001


def ts(day: date, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


def message(n: int, event_type: int, at: str, platform: str | None = "ios", **parameters) -> bytes:
    event = {"event_id": f"e{n}", "user_id": f"u{n % 3}", "event_type": event_type, "timestamp": at}
    if platform is not None:
        event["platform"] = platform
    if event_type == LEVEL_START:
        parameters.setdefault("level_id", 1)
    if parameters:
        event["parameters"] = parameters
    return json.dumps(event).encode()


# Every window edge of D1 -> D2, a NULL platform, and prices of every shape validation lets through.
FIRST = [
    message(1, SESSION, "2026-11-02T23:59:59.999Z"),  # the last instant of D1: window 23:55 of D1
    message(2, SESSION, "2026-11-02T23:55:00Z"),  # a window's first instant
    message(3, SESSION, "2026-11-02T23:54:59.999Z"),  # the window before
    message(4, SESSION, "2026-11-03T00:00:00Z"),  # D2's first window
    message(5, SESSION, "2026-11-03T01:59:59+02:00"),  # an offset: 23:59:59 UTC of D1
    message(6, SESSION, "2026-11-02T23:58:00Z", platform=None),  # NULL platform: its own group
    message(7, SESSION, "2026-11-02T23:58:30Z", platform=None),
    message(8, LEVEL_START, "2026-11-02T23:57:00Z"),
    message(9, PURCHASE, "2026-11-02T23:56:00Z", product_id="gems", price_usd=4.99),
    message(10, PURCHASE, "2026-11-02T23:59:00Z", product_id="gems", price_usd=5),  # an integer
    message(11, PURCHASE, "2026-11-02T23:59:30Z", product_id="gems", price_usd=0),  # free: a purchase, no revenue
    message(12, PURCHASE, "2026-11-02T23:59:59Z", platform=None, price_usd=1.5e2),
    message(13, PURCHASE, "2026-11-03T00:04:59Z", platform="Android", price_usd=0.01),  # lower-cased
    b'{"event_id": "bad", "user_id": "u", "event_type": 2001, "timestamp": "2026-11-02T23:59:00Z"}',  # no price
]
EXPECTED = {  # (window_start, event_date, event_type, platform) -> (events, purchases, revenue_usd)
    (ts(D1, "23:55:00"), D1, SESSION, "ios"): (3, 0, 0.0),
    (ts(D1, "23:50:00"), D1, SESSION, "ios"): (1, 0, 0.0),
    (ts(D2, "00:00:00"), D2, SESSION, "ios"): (1, 0, 0.0),
    (ts(D1, "23:55:00"), D1, SESSION, None): (2, 0, 0.0),
    (ts(D1, "23:55:00"), D1, LEVEL_START, "ios"): (1, 0, 0.0),
    (ts(D1, "23:55:00"), D1, PURCHASE, "ios"): (3, 3, 9.99),
    (ts(D1, "23:55:00"), D1, PURCHASE, None): (1, 1, 150.0),
    (ts(D2, "00:00:00"), D2, PURCHASE, "android"): (1, 1, 0.01),
}


def prepared(tmp_path, values: list[bytes], first_offset: int = 0):
    offsets = list(range(first_offset, first_offset + len(values)))
    messages = Messages(TOPIC, values, [b"k"] * len(values), [0] * len(values), offsets)
    messages.next_offsets = {0: offsets[-1] + 1}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return prepare_batch(con, messages, NOW, str(tmp_path))


def commit(warehouse, settings, batch, group: str = "live"):
    loader = WarehouseLoader(warehouse, settings, TOPIC, group)
    try:
        loader.stage(batch)
        return loader.commit(batch)
    finally:
        loader.drop_staging()


def test_a_batch_counts_its_events_per_window_type_and_platform_once(tmp_path, warehouse, settings):
    batch = prepared(tmp_path, FIRST)
    assert (batch.rows, len(batch.dead_letters)) == (13, 1)
    assert commit(warehouse, settings, batch).loaded == 13
    live = live_counts(warehouse, settings)
    assert live == EXPECTED
    assert live == counts_from_events(warehouse, settings)
    rows = query_rows(warehouse, f"SELECT COUNT(*) AS n FROM {settings.table('live_event_counts')}")
    assert rows[0]["n"] == len(EXPECTED)  # one row per group of the batch

    # Revenue per day equals what the revenue metric reads from `events` (the same JSON reads).
    for day in (D1, D2):
        metric = query_rows(warehouse, render_sql("revenue_daily_metrics/query.sql", settings, ds=day.isoformat()))
        live_revenue = sum(v[2] for k, v in live.items() if k[1] == day)
        assert live_revenue == pytest.approx(sum(r["revenue_usd"] for r in metric))

    # The same batch committed again (a restarted batch) and read by another consumer group (a replay): nothing.
    assert commit(warehouse, settings, batch).loaded == 0
    assert commit(warehouse, settings, batch, group="replay").loaded == 0
    assert live_counts(warehouse, settings) == live

    # An event_id sent again in a later message is counted again, as `events` holds it twice until the daily
    # de-duplication; the later batch adds rows of its own.
    again = prepared(tmp_path, [FIRST[8], message(20, SESSION, "2026-11-03T00:01:00Z")], first_offset=len(FIRST))
    assert commit(warehouse, settings, again).loaded == 2
    expected = dict(EXPECTED)
    key = (ts(D1, "23:55:00"), D1, PURCHASE, "ios")
    expected[key] = (4, 4, round(9.99 + 4.99, 6))
    key = (ts(D2, "00:00:00"), D2, SESSION, "ios")
    expected[key] = (2, 0, 0.0)
    assert live_counts(warehouse, settings) == expected
    assert live_counts(warehouse, settings) == counts_from_events(warehouse, settings)
    rows = query_rows(warehouse, f"SELECT COUNT(*) AS n FROM {settings.table('live_event_counts')}")
    assert rows[0]["n"] == len(EXPECTED) + 2  # appended per batch, not merged
