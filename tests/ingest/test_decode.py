"""Offline: framing a batch into one Arrow column of JSON text, and the columns built without ``pa.array``."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from game_analytics.events.avro import encode_confluent_avro
from game_analytics.events.contract import MAX_MESSAGE_BYTES, EventType
from game_analytics.events.reasons import Reason
from game_analytics.ingest.columns import int64_array, timestamp_ms_array, utf8_array
from game_analytics.ingest.decode import decode_values

EVENT = {
    "event_id": "e1",
    "user_id": "u",
    "event_type": int(EventType.SESSION_START),
    "timestamp": "2026-11-02T10:00:00Z",
}


def test_each_kind_of_value_is_kept_or_rejected_with_its_reason():
    plain = json.dumps({**EVENT, "country": "Zürich"}, ensure_ascii=False).encode()
    values = [
        plain,
        b" \n" + plain,  # JSON after whitespace: kept as it is
        b'{"event_id": "\xff"}',  # starts like JSON, is not UTF-8
        None,
        b"{" + b" " * MAX_MESSAGE_BYTES + b"}",
        b"[1]",
        encode_confluent_avro({**EVENT, "event_id": "e-avro"}),
        plain,
    ]
    decoded = decode_values(values)

    assert decoded.kept == [0, 1, 6, 7] and decoded.avro == 1
    assert [r.index for r in decoded.rejections] == [2, 3, 4, 5], "in batch order"
    reasons = {r.index: r for r in decoded.rejections}
    assert reasons[2].reason == Reason.MALFORMED_JSON and "not UTF-8" in reasons[2].text
    assert [reasons[i].reason for i in (3, 4, 5)] == [Reason.INVALID_ENCODING, Reason.OVERSIZE, Reason.INVALID_ENCODING]
    assert decoded.text(0) == decoded.text(7) == plain.decode() and decoded.text(1) == (b" \n" + plain).decode()
    assert json.loads(decoded.text(6))["event_id"] == "e-avro"
    assert decoded.text(2) is None
    assert len(decoded.texts) == 4


def test_avro_the_decoder_cannot_handle_is_rejected_not_raised():
    """Deep nesting (RecursionError) and a lone surrogate escape (UnicodeEncodeError) once escaped decode_values."""
    shallow = encode_confluent_avro({**EVENT, "parameters": []})  # parameters_json "[]": length 2, zig-zag 4
    values = [
        encode_confluent_avro({**EVENT, "parameters": {"x": "\ud800"}}),  # json.dumps escapes it as "\ud800"
        shallow.replace(b"\x04[]", _avro_string("[" * 5000 + "]" * 5000)),
        encode_confluent_avro({**EVENT, "parameters": {"x": float("nan")}}),
        encode_confluent_avro(EVENT),
    ]
    decoded = decode_values(values)
    assert decoded.kept == [3]
    assert [(r.index, r.reason) for r in decoded.rejections] == [
        (0, Reason.MALFORMED_JSON), (1, Reason.PROCESSING_ERROR), (2, Reason.MALFORMED_JSON),
    ]  # fmt: skip
    assert "RecursionError" in decoded.rejections[1].text and "NaN" in decoded.rejections[2].text


def _avro_string(text: str) -> bytes:
    """An Avro ``string`` (zig-zag varint length, then UTF-8)."""
    data, n, out = text.encode(), len(text.encode()) << 1, bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + data


def test_columns_match_what_pa_array_would_build():
    assert int64_array([3, -1, 2**40]).to_pylist() == [3, -1, 2**40]
    stamps = timestamp_ms_array([0, None, 1_700_000_000_123])
    assert stamps.type == pa.timestamp("ms", tz="UTC")
    assert stamps.to_pylist() == [
        datetime(1970, 1, 1, tzinfo=UTC),
        None,
        datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
    ]
    assert utf8_array([b"a", b"", "é".encode()]).to_pylist() == ["a", "", "é"]
    with pytest.raises(pa.ArrowInvalid):
        utf8_array([b"ok", b"\xc3"])


def test_preparing_a_batch_does_not_import_pandas(tmp_path):
    """pyarrow imports pandas on its first ``pa.array(list)``: about 2 s of every ingest task, for nothing."""
    script = """
import sys, duckdb
from datetime import UTC, datetime
from game_analytics.ingest.batch import Messages, prepare_batch
value = b'{"event_id": "e1", "user_id": "u", "event_type": 3001, "timestamp": "2026-11-02T10:00:00Z"}'
arrived = int(datetime(2026, 11, 2, 10, 5, tzinfo=UTC).timestamp() * 1000)
batch = Messages("t", [value, b"x"], [b"u", None], [0, 0], [0, 1], {0: 2}, [arrived, None])
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
prepared = prepare_batch(con, batch, datetime(2026, 11, 2, 12, tzinfo=UTC), sys.argv[1])
assert prepared.rows == 1 and len(prepared.dead_letters) == 1, prepared
print("pandas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
