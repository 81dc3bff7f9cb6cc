"""Offline: each message that once stopped batch preparation is now a dead letter, and the batch goes on.

Found by an independent bad-input corpus (issue 9): a missing ``level_id`` / ``price_usd`` / ``parameters`` made
DuckDB raise while writing the reason text; Avro ``parameters_json`` nested thousands of levels deep or holding a
lone surrogate escape made decoding raise. And whatever else the code may one day fail on is isolated by bisection.
"""

from __future__ import annotations

import io
import socket
from datetime import UTC, date, datetime

import duckdb
import fastavro
import pytest

import game_analytics.ingest.enrichment as enrichment
from game_analytics.events.avro import confluent_header
from game_analytics.events.contract import EventType
from game_analytics.events.reasons import Reason
from game_analytics.ingest.batch import Messages, prepare_batch
from game_analytics.ingest.schema_registry import RegistrySchemas, SchemaRegistryUnavailable
from game_analytics.schemas import GAME_EVENT_V1, SCHEMAS

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
LEVEL_START, LEVEL_COMPLETE = EventType.LEVEL_START, EventType.LEVEL_COMPLETE
PURCHASE, SESSION_START = EventType.PURCHASE, EventType.SESSION_START
GOOD = b'{"event_id": "good", "user_id": "u", "event_type": 3001, "timestamp": "2026-11-02T10:00:00Z"}'


def _json(event_type: EventType, parameters: str | None) -> bytes:
    params = "" if parameters is None else f', "parameters": {parameters}'
    return (
        f'{{"event_id": "bad", "user_id": "u", "event_type": {event_type}, '
        f'"timestamp": "2026-11-02T10:00:00Z"{params}}}'
    ).encode()


def _avro(parameters_json: str) -> bytes:
    record = {"event_id": "bad", "user_id": "u", "event_type": int(LEVEL_START), "timestamp": "2026-11-02T10:00:00Z",
              "parameters_json": parameters_json}  # fmt: skip
    body = io.BytesIO()
    fastavro.schemaless_writer(body, SCHEMAS[GAME_EVENT_V1], record)
    return confluent_header(GAME_EVENT_V1) + body.getvalue()


def _prepare(tmp_path, values: list[bytes]):
    batch = Messages("t", values, [b"u"] * len(values), [0] * len(values), list(range(len(values))))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return prepare_batch(con, batch, NOW, str(tmp_path)), con


POISON = {
    "level event without level_id": (_json(LEVEL_START, "{}"), Reason.INVALID_LEVEL_ID, "level_id missing"),
    "level event without parameters": (_json(LEVEL_COMPLETE, None), Reason.INVALID_LEVEL_ID, "level_id missing"),
    "purchase without price_usd": (
        _json(PURCHASE, '{"product_id": "gems"}'),
        Reason.INVALID_PRICE,
        "price_usd missing",
    ),
    "purchase without parameters": (_json(PURCHASE, None), Reason.INVALID_PRICE, "price_usd missing"),
    "Avro parameters_json nested 5000 deep": (_avro("[" * 5000 + "]" * 5000), Reason.PROCESSING_ERROR, "Recursion"),
    "Avro parameters_json with a lone surrogate": (_avro('{"x": "\\ud800"}'), Reason.MALFORMED_JSON, "surrogate"),
    # Not JSON, though DuckDB's reader (and Python's, for NaN) accepts it.
    "NaN": (_json(LEVEL_START, '{"level_id": 1, "x": NaN}'), Reason.MALFORMED_JSON, "NaN"),
    "-Infinity": (_json(SESSION_START, '{"x": [1, -Infinity]}'), Reason.MALFORMED_JSON, "-Infinity"),
    "lower-case inf": (_json(SESSION_START, '{"x":inf}'), Reason.MALFORMED_JSON, "inf"),
    "trailing comma": (_json(LEVEL_START, '{"level_id": 7,}'), Reason.MALFORMED_JSON, "trailing comma"),
    "trailing comma in an array": (
        _json(LEVEL_START, '{"level_id": 7, "b": ["x" , ]}'),
        Reason.MALFORMED_JSON,
        "comma",
    ),
    "Avro parameters_json with NaN": (_avro('{"level_id": NaN}'), Reason.MALFORMED_JSON, "NaN"),
    "Avro parameters_json with a trailing comma": (_avro('{"level_id": 1,}'), Reason.MALFORMED_JSON, "not valid"),
    # Numbers no column can hold.
    "price_usd 1e400": (_json(PURCHASE, '{"price_usd": 1e400}'), Reason.INVALID_PRICE, "1e400"),
    "level_id 2^63": (
        _json(LEVEL_START, '{"level_id": 9223372036854775808}'),
        Reason.INVALID_LEVEL_ID,
        "9223372036854775808",
    ),
}


@pytest.mark.parametrize("name", POISON)
def test_a_poison_message_is_dead_lettered_and_the_batch_goes_on(tmp_path, name):
    value, reason, text = POISON[name]
    result, con = _prepare(tmp_path, [GOOD, value, GOOD.replace(b'"good"', b'"good-2"')])
    assert [(d.offset, d.reason) for d in result.dead_letters] == [(1, str(reason))]
    assert text in result.dead_letters[0].reason_text
    assert con.sql("SELECT event_id FROM good ORDER BY event_id").fetchall() == [("good",), ("good-2",)]


def test_strings_that_look_like_nan_or_trailing_commas_are_fine(tmp_path):
    value = _json(
        LEVEL_START, '{"level_id": 3, "note": "NaN, Infinity, [1,] {\\"a\\": 1,}", "n": null, "in": [ "inf" ]}'
    )
    result, con = _prepare(tmp_path, [value])
    assert result.dead_letters == [] and result.rows == 1


def test_a_message_the_code_fails_on_is_isolated_and_dead_lettered(tmp_path, monkeypatch):
    """A defect in validation or enrichment costs the one message that triggers it, not the batch."""
    real = enrichment.lookup_device

    def lookup_device(model):
        if model == "Crash-9000":
            raise KeyError(model)
        return real(model)

    monkeypatch.setattr(enrichment, "lookup_device", lookup_device)
    crash = GOOD.replace(b'"good"', b'"crash"').replace(b"}", b', "device_model": "Crash-9000"}')
    values = [GOOD.replace(b'"good"', b'"g%d"' % i) for i in range(7)]
    values[2:2] = [crash, _json(LEVEL_START, "{}")]
    values.append(crash.replace(b'"crash"', b'"crash-2"'))
    values.append(GOOD.replace(b'"good"', b'"g0"'))  # a duplicate, across the halves
    result, con = _prepare(tmp_path, values)

    assert [(d.offset, d.reason) for d in result.dead_letters] == [
        (2, Reason.PROCESSING_ERROR), (3, Reason.INVALID_LEVEL_ID), (9, Reason.PROCESSING_ERROR),
    ]  # fmt: skip
    assert result.dead_letters[0].reason_text == "preparing the message failed: KeyError: 'Crash-9000'"
    assert (result.consumed, result.rows, result.duplicates_in_batch) == (11, 7, 1)
    stored = con.sql("SELECT event_id, kafka_offset FROM good ORDER BY kafka_offset").fetchall()
    assert stored == [("g0", 0), ("g1", 1), ("g2", 4), ("g3", 5), ("g4", 6), ("g5", 7), ("g6", 8)]


def test_a_batch_of_only_failing_messages_gives_only_dead_letters(tmp_path, monkeypatch):
    def lookup_device(model):
        raise RuntimeError("lookup down")

    monkeypatch.setattr(enrichment, "lookup_device", lookup_device)
    result, con = _prepare(tmp_path, [GOOD, GOOD.replace(b'"good"', b'"g2"'), b"x"])
    assert [d.reason for d in result.dead_letters] == [Reason.PROCESSING_ERROR] * 2 + [Reason.INVALID_ENCODING]
    assert result.rows == 0 and result.parquet_path is None


def test_infrastructure_errors_still_fail_the_batch(tmp_path, monkeypatch):
    def lookup_device(model):
        raise MemoryError

    monkeypatch.setattr(enrichment, "lookup_device", lookup_device)
    with pytest.raises(MemoryError):
        _prepare(tmp_path, [GOOD])


def test_an_unreachable_schema_registry_fails_the_batch_instead_of_dead_lettering_it(tmp_path):
    """The registry is infrastructure: its failure must not turn every Avro message into a processing_error."""
    with socket.socket() as closed:  # a port nothing listens on once the socket is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    batch = Messages("t", [GOOD, _avro('{"level_id": 1}')], [b"u"] * 2, [0, 0], [0, 1])
    con = duckdb.connect()
    with pytest.raises(SchemaRegistryUnavailable, match="unreachable"):
        prepare_batch(con, batch, NOW, str(tmp_path), schemas=RegistrySchemas(f"http://127.0.0.1:{port}", timeout=2))


def test_a_dead_letter_is_dated_by_its_event_when_the_timestamp_reads(tmp_path):
    """...unless the timestamp is outside the window: then it counts on the day it failed (event_date NULL), since
    no DLQ-share check of any day would read a failure weeks before or after that day."""
    too_old = GOOD.replace(b'"good"', b'"old"').replace(b"2026-11-02T10:00:00Z", b"2026-09-01T23:30:00-02:00")
    ahead = GOOD.replace(b'"good"', b'"ahead"').replace(b"2026-11-02T10:00:00Z", b"2099-01-01T00:00:00Z")
    no_ts = GOOD.replace(b'"good"', b'"no-ts"').replace(b"2026-11-02T10:00:00Z", b"yesterday")
    values = [_json(LEVEL_START, "{}"), too_old, ahead, no_ts, b"{", _avro('{"level_id": -1}')]
    result, _ = _prepare(tmp_path, values)
    assert [d.reason for d in result.dead_letters][1:3] == ["timestamp_too_old", "timestamp_too_far_ahead"]
    assert [d.event_date for d in result.dead_letters] == [date(2026, 11, 2), None, None, None, None,
                                                           date(2026, 11, 2)]  # fmt: skip
    rows = [d.row(NOW) for d in result.dead_letters]
    assert [r["event_date"] for r in rows] == ["2026-11-02", None, None, None, None, "2026-11-02"]
