"""Property: no input makes batch preparation raise, and every message is accounted for.

Hypothesis builds batches of arbitrary bytes, JSON events with arbitrary JSON values in every field and in
``parameters`` (NaN, Infinity, numbers beyond 64 bits, lone surrogate escapes, deep nesting, trailing commas), and
Avro records of the shipped schema with arbitrary strings in every field (``parameters_json`` included) plus broken
framings. For each batch: ``prepare_batch`` returns; rows + in-batch duplicates + dead letters = consumed; every
dead letter has a reason code of :class:`Reason` and a text; every stored ``parameters`` is strict JSON; and the
validator's fast path changes nothing (every message's row and reason text are those of the precise path alone).
Server-free and derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta

import duckdb
import fastavro
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game_analytics.events.avro import confluent_header
from game_analytics.events.contract import (
    EVENT_TYPES,
    LEVEL_TYPES,
    OPTIONAL_STRINGS,
    PURCHASE_TYPES,
    REQUIRED_FIELDS,
    sql_codes,
)
from game_analytics.events.reasons import Reason
from game_analytics.ingest.batch import Messages, _columns, prepare_batch
from game_analytics.ingest.validate import check_batch
from game_analytics.schemas import GAME_EVENT_V1, SCHEMAS

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
FIELDS = (*REQUIRED_FIELDS, "parameters", *OPTIONAL_STRINGS)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

texts = st.text(max_size=20)  # lone surrogates included: json.dumps writes them as "\ud800" escapes
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and +-Infinity included: json.dumps writes them as NaN / Infinity
    | texts
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=12
)
deep = st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n)
timestamps = st.integers(min_value=-40 * 24 * 60, max_value=2 * 60).map(
    lambda minutes: (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
)
event_types = st.sampled_from([int(code) for code in EVENT_TYPES])
level_params = st.fixed_dictionaries(
    {}, optional={"level_id": json_values | st.integers(min_value=2**62, max_value=2**64), "price_usd": json_values}
)


@st.composite
def json_events(draw) -> bytes:
    """A plausible event whose fields are each kept, dropped or replaced by an arbitrary JSON value."""
    event = {
        "event_id": draw(st.sampled_from(["e1", "e2", "e3"]) | texts),
        "user_id": "u1",
        "event_type": draw(event_types),
        "timestamp": draw(timestamps),
        "parameters": draw(level_params | json_values),
        "device_model": draw(st.sampled_from(["iPhone15,2", "SM-G991B", "Nokia 3310"]) | texts),
    }
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        if draw(st.booleans()):
            event.pop(field, None)
        else:
            event[field] = draw(json_values)
    nested = draw(st.none() | deep)
    if nested is not None:
        event.pop("parameters", None)
    text = json.dumps(event, allow_nan=True)
    if nested is not None:
        text = text[:-1] + ', "parameters": ' + nested + "}"
    if draw(st.booleans()):
        text = text.replace("}", draw(st.sampled_from([",}", " , }", "}"])), 1)  # maybe a trailing comma
    return text.encode("utf-8", "surrogatepass")


@st.composite
def avro_records(draw) -> bytes:
    """A record of the shipped schema with arbitrary strings, then maybe a broken framing."""
    strings = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)  # Avro strings are UTF-8
    optional = st.none() | strings
    record = {
        "event_id": draw(st.sampled_from(["e1", "e2"]) | strings),
        "user_id": draw(strings),
        "event_type": draw(event_types | st.integers(min_value=-(2**63), max_value=2**63 - 1)),
        "timestamp": draw(timestamps | strings),
        "parameters_json": draw(
            st.none()
            | strings
            | deep
            | json_values.map(lambda v: json.dumps(v, allow_nan=True))  # "\ud800" escapes, NaN, Infinity
            | level_params.map(lambda p: json.dumps(p, allow_nan=True) + ",")
        ),
        **{name: draw(optional) for name in OPTIONAL_STRINGS},
    }
    body = io.BytesIO()
    fastavro.schemaless_writer(body, SCHEMAS[GAME_EVENT_V1], record)
    value = confluent_header(GAME_EVENT_V1) + body.getvalue()
    cut = draw(st.integers(min_value=0, max_value=len(value)))
    return draw(
        st.sampled_from(
            [
                value,
                value[:cut],  # truncated
                value + b"\x00",  # trailing bytes
                confluent_header(draw(st.integers(min_value=-(2**31), max_value=2**31 - 1))) + value[5:],
            ]
        )
        | st.binary(max_size=8).map(lambda noise: value[:cut] + noise + value[cut + len(noise) :])  # corrupted
    )


messages = st.lists(
    json_events() | avro_records() | st.binary(max_size=64) | st.binary(max_size=64).map(lambda b: b"{" + b),
    min_size=1,
    max_size=12,
)


def _strict(text: str) -> object:
    def reject(name: str) -> float:
        raise ValueError(name)

    return json.loads(text, parse_constant=reject)


@FUZZ
@given(values=messages)
def test_any_batch_is_prepared_and_every_message_accounted_for(tmp_path_factory, values):
    batch = Messages("t", values, [None] * len(values), [0] * len(values), list(range(len(values))))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    result = prepare_batch(con, batch, NOW, str(tmp_path_factory.mktemp("fuzz")))

    assert result.rows + result.duplicates_in_batch + len(result.dead_letters) == result.consumed == len(values)
    assert len({d.offset for d in result.dead_letters}) == len(result.dead_letters)
    for dead in result.dead_letters:
        assert dead.reason in {r.value for r in Reason} and dead.reason_text, dead
        # processing_error is the safety net for a defect: the inputs here must all get a real reason. (Without
        # this, the net would hide the very crashes this test exists to find, e.g. DuckDB raising on a level
        # event with no level_id.)
        assert dead.reason != Reason.PROCESSING_ERROR, dead
        json.dumps(dead.row(NOW))  # the loader sends it as NDJSON
    for (parameters,) in con.sql("SELECT parameters FROM good").fetchall():
        stored = _strict(parameters)
        assert isinstance(stored, dict), parameters
    for (level_id,) in con.sql(
        f"SELECT json_extract(parameters, '$.level_id') FROM good WHERE event_type IN {sql_codes(LEVEL_TYPES)}"
    ).fetchall():
        assert 0 <= int(level_id) < 2**63
    prices = con.sql(
        f"SELECT json_extract(parameters, '$.price_usd') FROM good WHERE event_type IN {sql_codes(PURCHASE_TYPES)}"
    ).fetchall()
    for (price,) in prices:
        assert math.isfinite(float(price)) and float(price) >= 0


@FUZZ
@given(values=messages)
def test_the_fast_path_gives_every_message_the_precise_paths_row(values):
    batch = Messages("t", values, [None] * len(values), [0] * len(values), list(range(len(values))))
    batch_in, decoded = _columns(batch, None, SCHEMAS)
    checked = []
    for fast in (True, False):
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        check_batch(con, batch_in, decoded.framed, NOW, timedelta(days=7), fast=fast)
        checked.append(con.execute("SELECT * FROM checked ORDER BY idx").fetchall())
    assert checked[0] == checked[1]
