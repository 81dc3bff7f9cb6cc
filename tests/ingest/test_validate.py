"""Offline: the batch validator gives each planted bad message its reason, and rows equal ``enrich()``'s."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pytest

from game_analytics.events.contract import EventType
from game_analytics.events.enrich import EVENT_COLUMNS, enrich
from game_analytics.events.reasons import Reason
from game_analytics.ingest.batch import Messages, prepare_batch
from game_analytics.producer import BAD_KINDS, generate_events, make_messages

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
LEVEL_START, PURCHASE = EventType.LEVEL_START, EventType.PURCHASE


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    messages = list(make_messages(generate_events(11, date(2026, 11, 1), 2, 120), "mixed", 0.2, seed=11, now=NOW))
    extra = [b"", b"[1, 2]", b"x{}", b' \n {"event_id": "e-ws", "user_id": "u", "event_type": 3001, '
             b'"timestamp": "2026-11-02T10:00:00+02:00"}', b'{"event_id": "e-null", "user_id": null, '
             b'"event_type": 3001, "timestamp": "2026-11-02T10:00:00Z"}', b'{"event_id": "e-ts", "user_id": "u", '
             b'"event_type": 3001, "timestamp": "2026-11-02 10:00:00"}']  # fmt: skip
    values = [m.value for m in messages] + extra
    batch = Messages("t", values, [m.key for m in messages] + [None] * len(extra), [i % 3 for i in range(len(values))],
                     list(range(len(values))))  # fmt: skip
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    result = prepare_batch(con, batch, NOW, str(tmp_path_factory.mktemp("batch")))
    good = con.sql("SELECT * FROM good").fetchall()
    columns = [d[0] for d in con.sql("SELECT * FROM good").description]
    return messages, result, [dict(zip(columns, row, strict=True)) for row in good]


def test_every_planted_message_is_rejected_for_its_reason(prepared):
    messages, result, _ = prepared
    by_offset = {d.offset: d.reason for d in result.dead_letters}
    assert {m.planted_reason for m in messages} >= set(BAD_KINDS), "the sample must plant every kind"
    for offset, message in enumerate(messages):
        assert by_offset.get(offset) == (str(message.planted_reason) if message.planted_reason else None), offset
    n = len(messages)
    assert [by_offset.get(n + i) for i in range(6)] == [
        Reason.INVALID_ENCODING, Reason.INVALID_ENCODING, Reason.INVALID_ENCODING, None, Reason.WRONG_TYPE,
        Reason.INVALID_TIMESTAMP,
    ]  # fmt: skip
    assert all(d.reason_text for d in result.dead_letters)


def test_rows_equal_the_shared_enrichment(prepared):
    messages, result, rows = prepared
    valid = {m.event["event_id"]: (offset, m.event) for offset, m in enumerate(messages) if m.event}
    assert result.rows == len(rows) == len(valid) + 1  # + the whitespace-led JSON message
    for row in rows:
        if row["event_id"] == "e-ws":
            assert row["timestamp"] == datetime(2026, 11, 2, 8, tzinfo=UTC) and row["event_date"] == date(2026, 11, 2)
            continue
        offset, event = valid[row["event_id"]]
        expected = enrich(event, NOW, {"topic": "t", "partition": offset % 3, "offset": offset})
        got = {**row, "parameters": json.loads(row["parameters"])}
        assert {c: got[c] for c in EVENT_COLUMNS} == expected
    assert result.dates == sorted({r["event_date"] for r in rows})


def test_a_message_repeated_in_one_batch_gives_one_row(tmp_path):
    value = b'{"event_id": "dup-1", "user_id": "u", "event_type": 3001, "timestamp": "2026-11-02T10:00:00Z"}'
    batch = Messages("t", [value, value, value], [b"u"] * 3, [0, 0, 1], [5, 6, 0])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    result = prepare_batch(con, batch, NOW, str(tmp_path))
    assert (result.consumed, result.valid, result.rows, result.duplicates_in_batch) == (3, 3, 1, 2)
    assert con.sql("SELECT kafka_partition, kafka_offset FROM good").fetchall() == [(0, 5)]


def _verdicts(tmp_path, values: list[bytes], ingested_at: datetime, stamps: list[int | None] | None = None, **kw):
    """(reason or None per message, the DuckDB connection holding ``good``) for one prepared batch."""
    batch = Messages("t", values, [b"u"] * len(values), [0] * len(values), list(range(len(values))), {}, stamps or [])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    result = prepare_batch(con, batch, ingested_at, str(tmp_path), **kw)
    reasons = {d.offset: d.reason for d in result.dead_letters}
    return [reasons.get(i) for i in range(len(values))], con


def test_numbers_are_checked_as_json_numbers_of_the_right_kind(tmp_path):
    """A cast alone would take the JSON string "4.99" or true as a price, and a 20-digit level_id as an integer."""
    cases = [
        (PURCHASE, '{"price_usd": 4.99}', None),
        (PURCHASE, '{"price_usd": 0}', None),
        (PURCHASE, '{"price_usd": 1.5e2}', None),
        (PURCHASE, '{"price_usd": "4.99"}', Reason.INVALID_PRICE),
        (PURCHASE, '{"price_usd": true}', Reason.INVALID_PRICE),
        (PURCHASE, '{"price_usd": false}', Reason.INVALID_PRICE),
        (PURCHASE, '{"price_usd": -1}', Reason.INVALID_PRICE),
        (LEVEL_START, '{"level_id": 7}', None),
        (LEVEL_START, '{"level_id": 7.5}', Reason.INVALID_LEVEL_ID),
        (LEVEL_START, '{"level_id": "7"}', Reason.INVALID_LEVEL_ID),
        (LEVEL_START, '{"level_id": 99999999999999999999}', Reason.INVALID_LEVEL_ID),
        (LEVEL_START, '{"level_id": 9223372036854775807}', None),  # the largest INT64
        (LEVEL_START, '{"level_id": 9223372036854775808}', Reason.INVALID_LEVEL_ID),  # 2^63: no INT64 holds it
        (LEVEL_START, '{"level_id": 18446744073709551615}', Reason.INVALID_LEVEL_ID),  # 2^64 - 1
        (PURCHASE, '{"price_usd": 1e400}', Reason.INVALID_PRICE),  # infinite as a DOUBLE
        (PURCHASE, '{"price_usd": -1e400}', Reason.INVALID_PRICE),
        (PURCHASE, '{"price_usd": 1e308}', None),
        ("99999999999999999999", "{}", Reason.WRONG_TYPE),
        ("3001.0", "{}", Reason.WRONG_TYPE),
        ('"3001"', "{}", Reason.WRONG_TYPE),
    ]
    values = [
        b'{"event_id": "e%d", "user_id": "u", "event_type": %s, "timestamp": "2026-11-02T10:00:00Z", '
        b'"parameters": %s}' % (i, str(event_type).encode(), params.encode())
        for i, (event_type, params, _) in enumerate(cases)
    ]
    reasons, con = _verdicts(tmp_path, values, NOW)
    assert reasons == [str(r) if r else None for *_, r in cases]
    # The parameters leave as text: the staging table's column is STRING (a JSON-typed Parquet column is not).
    assert con.sql("SELECT DISTINCT typeof(parameters) FROM good").fetchall() == [("VARCHAR",)]


def test_time_checks_are_relative_to_when_the_message_reached_kafka(tmp_path):
    """A replay weeks later judges a message as the first run did; the Kafka time is capped at the run's clock."""
    from datetime import timedelta

    def verdicts(ingested_at: datetime, kafka_times: list[datetime | None]) -> list[str | None]:
        values = [
            b'{"event_id": "e%d", "user_id": "u", "event_type": 3001, "timestamp": "2026-11-03T10:00:00Z"}' % i
            for i in range(len(kafka_times))
        ]
        stamps = [int(t.timestamp() * 1000) if t else None for t in kafka_times]
        return _verdicts(tmp_path, values, ingested_at, stamps)[0]

    arrived = datetime(2026, 11, 3, 10, 5, tzinfo=UTC)
    # Arrived 29 days after the event; read again 6 days later (within the topic's 7-day retention): still valid,
    # though by the run's clock it is too old.
    assert verdicts(arrived + timedelta(days=29 + 6), [arrived + timedelta(days=29), None]) == [
        None,
        str(Reason.TIMESTAMP_TOO_OLD),
    ]
    # Arrived 3 hours before its own timestamp: too far ahead, though the run's clock is a day later.
    early = arrived - timedelta(hours=3)
    assert verdicts(arrived + timedelta(days=1), [early]) == [str(Reason.TIMESTAMP_TOO_FAR_AHEAD)]
    # A producer clock 3 hours ahead of the run cannot make an event from the future look on time.
    assert verdicts(datetime(2026, 11, 3, 7, tzinfo=UTC), [datetime(2026, 11, 3, 10, tzinfo=UTC)]) == [
        str(Reason.TIMESTAMP_TOO_FAR_AHEAD)
    ]


def test_the_message_timestamp_is_bounded_by_the_topic_retention(tmp_path):
    """A producer may stamp a message (CreateTime) with any time: no message stays in the topic longer than its
    retention, so the window is never measured from before the run's clock minus the retention."""
    from datetime import timedelta

    def verdict(event_age_days: int, stamp_age_days: int, **kw) -> str | None:
        event_time = (NOW - timedelta(days=event_age_days)).isoformat().replace("+00:00", "Z")
        value = b'{"event_id": "e1", "user_id": "u", "event_type": 3001, "timestamp": "%s"}' % event_time.encode()
        stamp = int((NOW - timedelta(days=stamp_age_days)).timestamp() * 1000)
        return _verdicts(tmp_path, [value], NOW, [stamp], **kw)[0][0]

    # 60 days old, stamped 60 days ago: judged from 7 days ago, too old.
    assert verdict(60, 60) == str(Reason.TIMESTAMP_TOO_OLD)
    # 35 days old, stamped 6 days ago (within retention): judged from its stamp, valid (a replay agrees).
    assert verdict(35, 6) is None
    # ... but stamped 8 days ago it is judged from 7 days ago: 28 days, valid; 38 days old: too old.
    assert verdict(35, 8) is None and verdict(38, 8) == str(Reason.TIMESTAMP_TOO_OLD)
    # The retention is a setting (GA_RAW_TOPIC_RETENTION_DAYS); with 1 day, the 35-day-old event is too old.
    assert verdict(35, 6, raw_topic_retention=timedelta(days=1)) == str(Reason.TIMESTAMP_TOO_OLD)


def test_the_retention_setting_is_read_from_the_environment(tmp_path, monkeypatch):
    from datetime import timedelta

    value = b'{"event_id": "e1", "user_id": "u", "event_type": 3001, "timestamp": "2026-09-30T12:00:00Z"}'
    stamp = int((NOW - timedelta(days=6)).timestamp() * 1000)  # the event is 34 days old, 28 at its stamp
    assert _verdicts(tmp_path, [value], NOW, [stamp])[0] == [None]
    monkeypatch.setenv("GA_RAW_TOPIC_RETENTION_DAYS", "2")
    assert _verdicts(tmp_path, [value], NOW, [stamp])[0] == [str(Reason.TIMESTAMP_TOO_OLD)]
