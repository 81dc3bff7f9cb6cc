"""Planted bad messages are bad in exactly the planted way; the Avro codec round-trips and fails clearly."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from game_analytics.events.avro import (
    AvroDecodeError,
    TruncatedAvroError,
    UnknownSchemaIdError,
    decode_confluent_avro,
    encode_confluent_avro,
)
from game_analytics.events.contract import MAX_MESSAGE_BYTES
from game_analytics.events.reasons import Reason
from game_analytics.producer import BAD_KINDS, bad_message, generate_events, make_messages
from game_analytics.schemas import SCHEMAS

from ._contract import violations

NOW = datetime(2026, 11, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def events():
    return list(generate_events(3, date(2026, 11, 1), 2, 60))


@pytest.fixture(scope="module")
def one_of_each_type():
    """An event of every type (purchases are rare, hence the bigger roster)."""
    pool = generate_events(3, date(2026, 11, 1), 1, 400)
    return list({e["event_type"]: e for e in pool}.values())


def test_avro_round_trips_every_event(events):
    for event in events:
        value = encode_confluent_avro(event)
        assert value[:5] == b"\x00\x00\x00\x00\x01"
        assert decode_confluent_avro(value) == event


@pytest.mark.parametrize("fmt", ["json", "avro"])
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_each_kind_breaks_exactly_its_rule(one_of_each_type, kind, fmt):
    # Every event type, so e.g. a purchase turned into a bad level event is covered too.
    assert len(one_of_each_type) == 6
    for event in one_of_each_type:
        value = bad_message(event, kind, now=NOW, fmt=fmt)
        assert violations(value, NOW) == {str(kind)}, (event, value[:300])
        assert bad_message(event, kind, now=NOW, fmt=fmt) == value, "same event and kind, same bytes"


def test_valid_messages_break_no_rule(events):
    for event in events[:200]:
        for fmt in ("json", "avro"):
            assert violations(next(make_messages([event], fmt)).value, NOW) == set()


def test_framing_kinds_are_bad_in_the_intended_way(events):
    event = events[0]
    assert len(bad_message(event, Reason.OVERSIZE, now=NOW, fmt="avro")) > MAX_MESSAGE_BYTES
    assert len(bad_message(event, Reason.OVERSIZE, now=NOW, fmt="json")) > MAX_MESSAGE_BYTES
    malformed = bad_message(event, Reason.MALFORMED_JSON)
    assert malformed.startswith(b"{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed)
    with pytest.raises(TruncatedAvroError) as truncated:
        decode_confluent_avro(bad_message(event, Reason.TRUNCATED_AVRO))
    assert truncated.value.reason == Reason.TRUNCATED_AVRO
    with pytest.raises(UnknownSchemaIdError) as unknown:
        decode_confluent_avro(bad_message(event, Reason.UNKNOWN_SCHEMA_ID))
    assert unknown.value.reason == Reason.UNKNOWN_SCHEMA_ID


def test_decoder_rejects_every_truncation_and_other_garbage(events):
    value = encode_confluent_avro(events[1])
    for cut in range(len(value)):
        with pytest.raises(TruncatedAvroError):
            decode_confluent_avro(value[:cut])
    with pytest.raises(AvroDecodeError, match="after the Avro record") as trailing:
        decode_confluent_avro(value + b"\x00")
    assert trailing.value.reason == Reason.INVALID_ENCODING
    with pytest.raises(AvroDecodeError, match="magic byte"):
        decode_confluent_avro(b"\x01" + value[1:])
    with pytest.raises(UnknownSchemaIdError):
        decode_confluent_avro(b"\x00\x00\x00\x00\x02" + value[5:], SCHEMAS)


def test_make_messages_plants_the_requested_share_of_every_kind(events):
    messages = list(make_messages(events * 5, "mixed", 0.2, seed=1, now=NOW))
    planted = Counter(m.planted_reason for m in messages if m.planted_reason)
    assert set(planted) == set(BAD_KINDS)
    assert 0.16 < sum(planted.values()) / len(messages) < 0.24
    valid = [m for m in messages if m.planted_reason is None]
    assert [m.event for m in valid] == events * 5
    assert {m.value[:1] for m in valid} == {b"{", b"\x00"}, "mixed means both formats"
    assert all(m.key == m.event["user_id"].encode() for m in valid)
    assert list(make_messages(events * 5, "mixed", 0.2, seed=1, now=NOW)) == messages


def test_every_reason_code_is_stable():
    # Dashboards and the DLQ table group by these strings: renaming one is a breaking change.
    assert {r.value for r in Reason} == set(
        "malformed_json truncated_avro unknown_schema_id not_an_object invalid_encoding oversize "
        "missing_field wrong_type unknown_event_type invalid_timestamp timestamp_too_far_ahead "
        "timestamp_too_old invalid_level_id invalid_price processing_error".split()
    )
