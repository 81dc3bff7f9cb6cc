"""Validate a whole batch in DuckDB: vectorised checks over JSON text, one row per message in the table ``checked``.

Per-message ``json.loads`` plus Python checks cap at roughly 100k events/s; DuckDB's JSON reader (yyjson, C++)
parses and checks a 200k-message batch in a fraction of a second. The rules are those of the spec
(``shared/spec/game-events.md``) and give the reason codes of :class:`~game_analytics.events.reasons.Reason`;
the first rule an event breaks, in the order below, names its reason.

Two paths, one verdict. The precise path (:func:`checked_sql`) reads every field as a JSON fragment, so it can tell
each type apart and name the first rule a message breaks, with its text. The fast path (:func:`accepted_sql`, see
:mod:`~game_analytics.ingest.fast_path`) only accepts: a message msgspec found strictly typed that passes the same
remaining rules, read with one typed parse; it costs about half as much per message. Every message the fast path
does not accept goes through the precise path, so every reason and text comes from there. Enrichment is
:mod:`~game_analytics.ingest.enrichment`.

DuckDB's JSON reader accepts NaN, Infinity and trailing commas; the spec wants one strict JSON object. The fast
path's parser is strict, so only the messages it did not accept can be lenient: for those, a prefilter in SQL
(three regular expressions, each led by a literal character so the scan skips ahead) flags the few that may hold
such a token and :func:`~game_analytics.ingest.decode.strictness_problem` decides for those alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from game_analytics.events.contract import (
    EVENT_TYPES,
    ID_FIELDS,
    ID_LENGTH,
    LEVEL_TYPES,
    MAX_AGE_SQL,
    MAX_AHEAD_SQL,
    OPTIONAL_STRINGS,
    PURCHASE_TYPES,
    REQUIRED_FIELDS,
    TIMESTAMP_PATTERN,
    sql_codes,
)
from game_analytics.ingest.decode import strictness_problem
from game_analytics.ingest.fast_path import TYPED_STRUCTURE, strictly_typed

REQUIRED = tuple(REQUIRED_FIELDS)
_FIELDS = REQUIRED + ("parameters",) + OPTIONAL_STRINGS
# The two parameters the rules read, as paths of their own: read in the same parse as the fields.
_PARAMETERS = ("level_id", "price_usd")
# One parse per message: json_extract with a list of paths gives each field's JSON (SQL NULL when absent).
_PATHS = "[" + ", ".join([f"'$.\"{f}\"'" for f in _FIELDS] + [f'\'$."parameters"."{p}"\'' for p in _PARAMETERS]) + "]"


def _j(field: str) -> str:
    """The column holding ``field``'s JSON fragment (NULL when absent), extracted from the list once."""
    return f'"j_{field}"'


# The fields come out of json_extract as compact JSON fragments, so their first character is their type: '"' a
# string, '{' an object, 'n' null, '[' an array, 't'/'f' a boolean, else a number. Reading that character is
# about 3 times cheaper than json_type, which parses the fragment again. A number is an integer when it is all
# digits (doubles are written with '.' or 'e'); json_type called it BIGINT or UBIGINT only within 64 bits, and
# a wider one is written back as plain digits too, hence the range. Casts alone do not tell types apart: DuckDB
# casts the JSON '"4.99"' and 'true' to DOUBLE.
_NUMBER = r"'-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?'"
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
# Where a message may hold NaN/Infinity (any case, after ':', '[' or ',') or a trailing comma; see the docstring.
# Three expressions, each led by a literal character, cost a third of one alternation of them (measured).
_MAYBE_NOT_STRICT = " OR ".join(
    f"regexp_matches(v, '{pattern}')"
    for pattern in (r",\s*(?:[\]}]|-?[iInN][aAnN])", r":\s*-?[iInN][aAnN]", r"\[\s*-?[iInN][aAnN]")
)
# The dates BigQuery's DATE holds: a dead letter's event_date outside them is left NULL.
_DATE_RANGE = "TIMESTAMPTZ '0001-01-01 00:00:00+00' AND TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"


def _is_integer(fragment: str, minimum: int = _INT64_MIN, maximum: int = _UINT64_MAX) -> str:
    return (
        f"(regexp_full_match({fragment}, '-?[0-9]+') "
        f"AND TRY_CAST({fragment} AS HUGEINT) BETWEEN {minimum} AND {maximum})"
    )


def _is_string(fragment: str) -> str:
    return f"starts_with({fragment}, '\"')"


def _string(fragment: str) -> str:
    """The value of a JSON string fragment, NULL for any other type."""
    return f"CASE WHEN {_is_string(fragment)} THEN json_extract_string({fragment}, '$') END"


def _wrong(field: str) -> str:
    """True where the required ``field`` has another type than the contract's (or, for the ids, length)."""
    if REQUIRED_FIELDS[field] is int:
        return f"NOT {_is_integer(_j(field))}"
    if field in ID_FIELDS:
        return f"(NOT {_is_string(_j(field))} OR length({field}) NOT BETWEEN {ID_LENGTH[0]} AND {ID_LENGTH[1]})"
    return f"NOT {_is_string(_j(field))}"


def reference_time_sql(ingested_at: datetime, retention: timedelta) -> str:
    """The ingestion time of a message, for the spec's "1 hour ahead / 30 days old" checks: when it reached Kafka.

    The Kafka timestamp is the same every time the message is read, so a replay (or a run that retries a batch
    whose rows were partly stored) judges each message as the first run did: a valid event cannot turn into a
    "too old" dead letter beside its own row. A producer may set that timestamp (CreateTime) to anything, so it is
    bounded by what the broker allows: not after the run's clock (a clock running ahead cannot widen the window),
    and not before the clock minus the raw topic's ``retention`` (no message stays in the topic longer; a replay
    within retention still judges alike, while a message stamped 60 days ago is judged from 7 days ago at most).
    Without a broker timestamp it is the run's clock.
    """
    now = f"TIMESTAMPTZ '{ingested_at.isoformat()}'"
    oldest = f"{now} - INTERVAL {int(retention.total_seconds())} SECOND"
    return f"greatest(least(coalesce(received_at, {now}), {now}), {oldest})"


_TIMESTAMP = f"CASE WHEN regexp_full_match(ts_text, '{TIMESTAMP_PATTERN}') THEN TRY_CAST(ts_text AS TIMESTAMPTZ) END"
_TOO_FAR_AHEAD, _TOO_OLD = f"ts > ref + INTERVAL {MAX_AHEAD_SQL}", f"ts < ref - INTERVAL {MAX_AGE_SQL}"
_LEVEL, _PURCHASE = sql_codes(LEVEL_TYPES), sql_codes(PURCHASE_TYPES)
# level_id is read as INT64 downstream; a price of 1e400 is infinite as a DOUBLE.
_LEVEL_OK = f"coalesce({_is_integer(_j('level_id'), minimum=0, maximum=_INT64_MAX)}, FALSE)"
_PRICE_OK = (
    f"coalesce(regexp_full_match({_j('price_usd')}, {_NUMBER}) AND isfinite(TRY_CAST({_j('price_usd')} AS DOUBLE)) "
    f"AND TRY_CAST({_j('price_usd')} AS DOUBLE) >= 0, FALSE)"
)
# What makes a message msgspec decoded valid (the fast path's test: fast_path.py, which already held it to the
# contract's types, a known event_type, and the level_id or price_usd rule its type has): the ids' lengths and the
# timestamp's form and window.
_VALID_ONCE_TYPED = " AND ".join(
    [f"length({name}) BETWEEN {ID_LENGTH[0]} AND {ID_LENGTH[1]}" for name in ID_FIELDS]
    + [f"ts IS NOT NULL AND NOT {_TOO_FAR_AHEAD} AND NOT {_TOO_OLD}"]
)


def _checked_columns(reason_text: str) -> str:
    """The columns of ``checked``, from a layer with the fields, ``ts``, ``ref``, ``reason`` and the parameters."""
    params = _j("parameters")
    return f"""
    idx, kafka_partition, kafka_offset, reason, event_id, user_id, event_type, ts,
    -- A dead letter outside the time window counts on the day it failed: its own day is one no DLQ-share check of
    -- a day D reads (they read the failures of D - 1 .. D + 31), so a producer's broken clock would count nowhere.
    CASE
        WHEN ts BETWEEN {_DATE_RANGE}
            AND reason IS DISTINCT FROM 'timestamp_too_far_ahead' AND reason IS DISTINCT FROM 'timestamp_too_old'
            THEN CAST(ts AS DATE)
    END AS event_date,
    CASE WHEN left({params}, 1) = '{{' THEN CAST({params} AS VARCHAR) ELSE '{{}}' END AS parameters,
    {", ".join(f'"{name}"' for name in OPTIONAL_STRINGS)},
    {reason_text} AS reason_text"""


def checked_sql(ingested_at: datetime, retention: timedelta, source: str = "batch_in") -> str:
    """The precise path: one row per message of ``source`` (idx, kafka_partition, kafka_offset, v, received_at)
    whose ``v`` is not null (a null ``v`` was rejected before: decode.py) with ``reason`` NULL if valid, and the UTC
    ``event_date`` of its timestamp wherever that could be read (even if rejected).

    Each expression is computed once per message, in the layer that first needs it (DuckDB runs every layer as a
    projection): the fragments are taken out of the list once, and what only a reason text needs is computed in
    that text's branch, for the rejected messages alone."""
    ref = reference_time_sql(ingested_at, retention)
    fragments = ", ".join(f"f[{i}] AS {_j(name)}" for i, name in enumerate([*_FIELDS, *_PARAMETERS], start=1))
    any_missing = " OR ".join(f"{_j(name)} IS NULL" for name in REQUIRED)
    missing = ", ".join(f"CASE WHEN {_j(name)} IS NULL THEN '{name}' END" for name in REQUIRED)
    wrong_any = " OR ".join(_wrong(name) for name in REQUIRED)
    wrong_list = ", ".join(f"CASE WHEN {_wrong(name)} THEN '{name}' END" for name in REQUIRED)
    # Optional fields of another type than string are stored as NULL (the spec only rejects required fields).
    strings = ",\n        ".join(f'{_string(_j(name))} AS "{name}"' for name in OPTIONAL_STRINGS)
    reason_text = f"""CASE reason
        WHEN 'malformed_json' THEN 'not a complete, valid JSON document'
        WHEN 'missing_field' THEN 'missing required field(s): ' || concat_ws(', ', {missing})
        WHEN 'wrong_type' THEN 'wrong type or length: '
            || coalesce(nullif(concat_ws(', ', {wrong_list}), ''), 'parameters')
        WHEN 'unknown_event_type' THEN 'unknown event_type ' || {_j("event_type")}
        WHEN 'invalid_timestamp' THEN 'timestamp ' || ts_text || ' is not ISO-8601 with an offset or Z'
        WHEN 'timestamp_too_far_ahead' THEN 'timestamp ' || ts_text
            || ' is more than {MAX_AHEAD_SQL} after ingestion at ' || CAST(ref AS VARCHAR)
        WHEN 'timestamp_too_old' THEN 'timestamp ' || ts_text
            || ' is more than {MAX_AGE_SQL} before ingestion at ' || CAST(ref AS VARCHAR)
        -- CAST: coalesce() with a JSON argument would parse 'missing' as JSON (and raise).
        WHEN 'invalid_level_id' THEN 'level_id ' || coalesce(CAST({_j("level_id")} AS VARCHAR), 'missing')
            || ' is not an integer in [0, {_INT64_MAX}]'
        WHEN 'invalid_price' THEN 'price_usd ' || coalesce(CAST({_j("price_usd")} AS VARCHAR), 'missing')
            || ' is not a finite number >= 0'
    END"""
    return f"""
WITH parsed AS (
    -- f is NULL where v is not valid JSON: the JSON functions raise on malformed input, even inside CASE.
    -- A valid v is an object: decode.py only passes text that starts with '{{'.
    -- ref: the time the checks are relative to (see reference_time_sql).
    SELECT idx, kafka_partition, kafka_offset, ok, CASE WHEN ok THEN json_extract(v, {_PATHS}) END AS f, {ref} AS ref
    FROM (SELECT *, json_valid(v) AS ok FROM {source} WHERE v IS NOT NULL) AS b
), fragments AS (
    SELECT idx, kafka_partition, kafka_offset, ok, ref, {fragments}
    FROM parsed
), fields AS (
    SELECT *,
        json_extract_string({_j("event_id")}, '$') AS event_id,
        json_extract_string({_j("user_id")}, '$') AS user_id,
        TRY_CAST({_j("event_type")} AS BIGINT) AS event_type,
        json_extract_string({_j("timestamp")}, '$') AS ts_text,
        {strings}
    FROM fragments
), judged AS (
    SELECT *, {_TIMESTAMP} AS ts FROM fields
), reasons AS (
    SELECT *, CASE
        WHEN NOT ok THEN 'malformed_json'
        WHEN {any_missing} THEN 'missing_field'
        WHEN {wrong_any} OR left({_j("parameters")}, 1) NOT IN ('{{', 'n') THEN 'wrong_type'
        WHEN event_type NOT IN {sql_codes(EVENT_TYPES)} OR event_type IS NULL THEN 'unknown_event_type'
        WHEN ts IS NULL THEN 'invalid_timestamp'
        WHEN {_TOO_FAR_AHEAD} THEN 'timestamp_too_far_ahead'
        WHEN {_TOO_OLD} THEN 'timestamp_too_old'
        WHEN event_type IN {_LEVEL} AND NOT {_LEVEL_OK} THEN 'invalid_level_id'
        WHEN event_type IN {_PURCHASE} AND NOT {_PRICE_OK} THEN 'invalid_price'
    END AS reason
    FROM judged
)
SELECT {_checked_columns(reason_text)}
FROM reasons
"""


def accepted_sql(ingested_at: datetime, retention: timedelta) -> str:
    """The fast path (fast_path.py): the rows of ``checked`` for the messages of ``batch_in`` that msgspec found
    strictly typed (column ``typed``), ``reason`` NULL for those that pass every other rule and ``'refused'`` for
    the others (deleted before the precise path judges them). One typed parse (from_json) instead of the fragments
    and strings of the precise path; of the rules, only those msgspec did not hold it to (``_VALID_ONCE_TYPED``),
    the same expressions as the precise path's. The rules are a column, not a WHERE: DuckDB would push a
    filter down to the scan as expressions of the struct, each parsing the message again."""
    return f"""
WITH typed AS (
    SELECT idx, kafka_partition, kafka_offset, {reference_time_sql(ingested_at, retention)} AS ref,
        unnest(from_json(v, '{TYPED_STRUCTURE}'))
    FROM batch_in WHERE typed
), fields AS (
    SELECT * RENAME ("timestamp" AS ts_text, parameters AS {_j("parameters")}) FROM typed
), judged AS (
    SELECT *, {_TIMESTAMP} AS ts FROM fields
), reasons AS (
    SELECT *, CASE WHEN {_VALID_ONCE_TYPED} THEN NULL ELSE 'refused' END AS reason FROM judged
)
SELECT {_checked_columns("CAST(NULL AS VARCHAR)")}
FROM reasons
"""


def _reject_not_strict(con, source: str) -> None:
    """Mark the messages of ``source`` that DuckDB took for JSON but are not strict JSON as ``malformed_json``."""
    suspects = con.execute(f"SELECT idx, v FROM {source} WHERE ({_MAYBE_NOT_STRICT}) AND json_valid(v)").fetchall()
    found = [(idx, problem) for idx, text in suspects if (problem := strictness_problem(text))]
    if found:
        con.execute(
            "UPDATE checked SET reason = 'malformed_json', reason_text = 'not strict JSON: ' || s.problem "
            "FROM (SELECT unnest($idx::BIGINT[]) AS idx, unnest($problem::VARCHAR[]) AS problem) AS s "
            "WHERE checked.idx = s.idx",
            {"idx": [i for i, _ in found], "problem": [p for _, p in found]},
        )


def _accept(con, batch_in: pa.Table, typed: pa.BooleanArray | None, ingested_at: datetime, retention) -> None:
    """Register ``batch_in`` with its ``typed`` column (None: no message typed) and run the fast path."""
    typed = pa.nulls(len(batch_in), pa.bool_()) if typed is None else typed
    con.register("batch_in", batch_in.append_column("typed", typed))
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {accepted_sql(ingested_at, retention)}")


def check_batch(
    con, batch_in: pa.Table, texts: Sequence[bytes], ingested_at: datetime, retention: timedelta, fast: bool = True
) -> None:
    """Fill the DuckDB table ``checked``: every message of ``batch_in``, with its reason (NULL when valid);
    ``texts`` are the bytes its column ``v`` is laid over (:attr:`.decode.Decoded.framed`).

    The fast path takes the valid messages it can vouch for; the precise path judges the rest (``batch_rest``),
    and only those can be lenient JSON (the fast path's parser is strict). Without ``fast`` (tests compare the
    two), or should DuckDB refuse a message msgspec took (both are JSON parsers; none is known), the precise path
    judges the whole batch."""
    typed = strictly_typed(texts, batch_in.column("v").combine_chunks()) if fast else None
    try:
        _accept(con, batch_in, typed, ingested_at, retention)
    except (duckdb.InvalidInputException, duckdb.ConversionException):
        if typed is None:
            raise
        _accept(con, batch_in, None, ingested_at, retention)
    con.execute("DELETE FROM checked WHERE reason IS NOT NULL").fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE batch_rest AS FROM batch_in ANTI JOIN checked USING (idx)")
    con.execute(f"INSERT INTO checked {checked_sql(ingested_at, retention, 'batch_rest')}").fetchall()
    _reject_not_strict(con, "batch_rest")
