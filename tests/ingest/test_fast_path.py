"""Offline: the validator's fast path accepts only what the precise path accepts, with the same values, and a message
it cannot vouch for still gets the precise path's exact reason and text (ingest/fast_path.py, ingest/validate.py).

The fuzz test (test_prepare_fuzz.py) compares the two paths on arbitrary batches too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from game_analytics.events.contract import MAX_MESSAGE_BYTES
from game_analytics.ingest.batch import Messages, _columns, prepare_batch
from game_analytics.ingest.fast_path import strictly_typed
from game_analytics.ingest.validate import check_batch
from game_analytics.schemas import SCHEMAS

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
TS = '"timestamp": "2026-11-02T10:00:00Z"'
BASE = '"event_id": "e1", "user_id": "u", "event_type": 1001, ' + TS


def _event(extra: str = "", base: str = BASE) -> bytes:
    return ("{" + base + extra + "}").encode()


# Valid messages the fast path takes (nothing in them is lenient or wrongly typed) ...
VALID = [
    _event(', "parameters": {"level_id": 3}'),
    _event(', "parameters": {"level_id": 3}, "session_id": null, "platform": "iOS", "country": "de"'),
    _event(', "parameters": {"level_id": 3, "note": "NaN, [1,] {\\"a\\": 1,}"}, "device_model": "Pixel \\"8\\""'),
    _event(', "parameters": {"level_id": 3}, "event_name": "caf\u00e9 \\u00e9\\ud83d\\ude00 \\n"'),
    _event(', "parameters": {"level_id": 3}, "unknown": [1, 2.5e3, {"x": null}]'),
    _event(', "parameters": {"price_usd": 0.99}', BASE.replace("1001", "2001")),
    _event(', "parameters": {"price_usd": 1e2}', BASE.replace("1001", "2001")),
    _event(', "parameters": null', BASE.replace("1001", "3001")),
    _event("", BASE.replace("1001", "3001")),
    _event(', "parameters": {"level_id": 3}, "event_id": "second"'),  # a repeated key: the first one counts
    b"  \n" + _event(', "parameters": {"level_id": 9223372036854775807}'),
    # Where msgspec alone holds a rule (fast_path.py), the two parsers must agree: escaped keys, numbers at the limits.
    _event(', "parameters": {"level\\u005fid": 3}'),
    _event(', "parameters": {"level_id": -0}'),
    _event(', "parameters": {"price_usd": 1e-400}', BASE.replace("1001", "2001")),
    _event(', "parameters": {"price_usd": 1.7976931348623157e308}', BASE.replace("1001", "2001")),
    _event(', "parameters": {"price_usd": 36893488147419103232}', BASE.replace("1001", "2001")),
    _event(', "parameters": {"level_id": 3}', BASE.replace('"event_type"', '"event\\u005ftype"')),
    _event(', "parameters": {"level_id": 3}, "event_type": 1001', BASE.replace(', "event_type": 1001', "")),
]
# ... and messages it must leave to the precise path: (value, whether msgspec finds it strictly typed, the reason
# the precise path gives it). A typed one is refused by the fast path's rules instead.
REFUSED = [
    (_event(', "parameters": {"level_id": 3}, "x": NaN'), False, "malformed_json"),
    (_event(', "parameters": {"level_id": 3},'), False, "malformed_json"),
    (_event(', "parameters": {"level_id": 3}, "note": "\\ud800"'), False, "malformed_json"),  # a lone surrogate
    (_event(', "parameters": {"level_id": 3}, "country": 49'), False, None),  # an optional of another type: NULL
    # A repeated key of another type: the first one counts, but msgspec checks both.
    (_event(', "parameters": {"level_id": 3}, "event_id": 5'), False, None),
    (_event(', "user_id": 7, "parameters": {"level_id": 3}', BASE.replace('"u"', "7")), False, "wrong_type"),
    (_event(', "parameters": {"level_id": 3}', BASE.replace("1001", "1001.0")), False, "wrong_type"),
    (_event(', "parameters": ' + "[" * 5000 + "]" * 5000), False, "wrong_type"),  # deeper than msgspec goes
    (_event(', "parameters": [3]'), False, "wrong_type"),
    (_event(', "parameters": {"level_id": 3}', BASE.replace('"e1"', '""')), True, "wrong_type"),
    (_event(', "parameters": {"level_id": 3}', BASE.replace("1001", "18446744073709551615")), False,
     "unknown_event_type"),
    (_event(', "parameters": {"level_id": 3}', BASE.replace("1001", "4004")), False, "unknown_event_type"),
    (_event(', "parameters": {"level_id": 3}', BASE.replace("Z", "")), True, "invalid_timestamp"),
    (_event(', "parameters": {"level_id": 3}', BASE.replace("2026-11-02", "2025-11-02")), True, "timestamp_too_old"),
    (_event(', "parameters": {"level_id": 9223372036854775808}'), False, "invalid_level_id"),
    (_event(', "parameters": {"level_id": 3.0}'), False, "invalid_level_id"),
    (_event(', "parameters": {"level_id": -1}'), False, "invalid_level_id"),
    (_event(', "parameters": null'), False, "invalid_level_id"),
    (_event(), False, "invalid_level_id"),
    (_event(', "parameters": {"price_usd": "0.99"}', BASE.replace("1001", "2001")), False, "invalid_price"),
    (_event(', "parameters": {"price_usd": -0.5}', BASE.replace("1001", "2001")), False, "invalid_price"),
    (_event(', "parameters": {"price_usd": 1e400}', BASE.replace("1001", "2001")), False, "invalid_price"),
    (_event(', "parameters": {"price_usd": 1' + "0" * 309 + "}", BASE.replace("1001", "2001")), False, "invalid_price"),
    (_event(', "parameters": {"level_id": 1E2}'), False, "invalid_level_id"),
    # Two event_types: the first counts (a valid level event), msgspec refuses the conflict.
    (_event(', "parameters": {"level_id": 3}, "event_type": 2001'), False, None),
    (b'{"event_id": "e1", "user_id": "u", "event_type": 1001, "timestamp": 5}', False, "wrong_type"),
    (b'{"event_id": "e1", "user_id": "u"}', False, "missing_field"),
    (b'{"event_id": "e1"', False, "malformed_json"),
]  # fmt: skip
VALUES = VALID + [value for value, _, _ in REFUSED]


def _checked(values: list[bytes], fast: bool) -> list[tuple]:
    messages = Messages("t", values, [None] * len(values), [0] * len(values), list(range(len(values))))
    batch_in, decoded = _columns(messages, None, SCHEMAS)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    check_batch(con, batch_in, decoded.framed, NOW, timedelta(days=7), fast=fast)
    return con.execute("SELECT * FROM checked ORDER BY idx").fetchall()


def test_the_fast_path_takes_strictly_typed_objects_only():
    messages = Messages("t", VALUES, [None] * len(VALUES), [0] * len(VALUES), list(range(len(VALUES))))
    batch_in, decoded = _columns(messages, None, SCHEMAS)
    typed = strictly_typed(decoded.framed, batch_in.column("v").combine_chunks()).to_pylist()
    assert typed == [True] * len(VALID) + [is_typed for _, is_typed, _ in REFUSED]


def test_a_message_rejected_when_decoding_is_not_typed_though_msgspec_reads_it():
    """Its bytes are still among the decoded texts; the column's null is what counts."""
    oversize = _event(', "parameters": {"level_id": 3}' + " " * MAX_MESSAGE_BYTES)  # valid JSON, over the limit
    values = [VALID[0], oversize]
    batch_in, decoded = _columns(Messages("t", values, [None] * 2, [0] * 2, [0, 1]), None, SCHEMAS)
    assert [r.reason for r in decoded.rejections] == ["oversize"]
    assert strictly_typed(decoded.framed, batch_in.column("v").combine_chunks()).to_pylist() == [True, False]


def test_a_message_that_is_not_utf8_is_malformed_json_and_the_batch_is_not_bisected(tmp_path):
    """msgspec raises UnicodeDecodeError (not a DecodeError) on such bytes: decoding rejected the message, so the
    fast path must not hand it to msgspec, or the whole batch is prepared again in halves to find it."""
    latin1 = _event(', "parameters": {"level_id": 3}, "device_model": "cafX"').replace(b"cafX", b"caf\xe9")
    values = [VALID[0], latin1, VALID[1]]
    batch = prepare_batch(duckdb.connect(), Messages("t", values, [None] * 3, [0] * 3, [0, 1, 2]), NOW, str(tmp_path))
    assert [(d.offset, d.reason) for d in batch.dead_letters] == [(1, "malformed_json")]
    assert batch.valid == 2


def test_the_texts_must_be_those_of_the_column():
    batch_in, decoded = _columns(Messages("t", VALID[:2], [None] * 2, [0] * 2, [0, 1]), None, SCHEMAS)
    with pytest.raises(ValueError, match="1 texts for a column of 2 messages"):
        strictly_typed(decoded.framed[:1], batch_in.column("v").combine_chunks())


@pytest.mark.parametrize("fast", [True, False])
def test_each_message_gets_the_precise_paths_reason(fast):
    reasons = [row[3] for row in _checked(VALUES, fast)]
    assert reasons == [None] * len(VALID) + [reason for _, _, reason in REFUSED]


def test_both_paths_give_every_message_the_same_row_and_text():
    fast, precise = _checked(VALUES, True), _checked(VALUES, False)
    assert len(fast) == len(VALUES)
    assert fast == precise
    assert fast[VALID.index(_event(', "parameters": {"level_id": 3}, "event_id": "second"'))][4] == "e1"
    texts = {row[-1] for row in fast if row[3] == "malformed_json"}
    assert "not strict JSON: NaN is not a JSON value (NaN and Infinity are not JSON)" in texts
    assert "not strict JSON: a trailing comma is not JSON" in texts


@pytest.mark.parametrize(
    "value",
    [
        _event("", BASE.replace('"event_id"', '"event\\u005fid"')),  # an escaped key is the same key
        _event(', "parameters": {"level_id": 3}, "session_id": null, "session_id": "s"'),
        _event(', "parameters": {"level_id": -0}'),
        _event(', "parameters": {"level_id": 1.0E3}'),
        _event(', "parameters": {"level_id": "x", "level_id": 4}'),
        _event(', "parameters": {"price_usd": 1e308, "x": [1e400, 123456789012345678901234567890]}',
               BASE.replace("1001", "2001")),
        _event(', "parameters": {"level_id": 3}, "platform": "\\u0000", "user_id": "\\ud83d\\ude00"'),
        _event(', "parameters": {"level_id": 3}, "x": "\t"'),  # a raw control character in a string
        _event(', "parameters": {"level_id": 3}', BASE.replace("Z", ".123456789+14:00")),
    ],
)  # fmt: skip
def test_both_paths_agree_on_json_edge_cases(value):
    assert _checked([value], True) == _checked([value], False)
