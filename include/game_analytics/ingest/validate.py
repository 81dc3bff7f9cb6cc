"""Validate and enrich a whole batch in DuckDB: one JSON parse per message, vectorised checks, Parquet out.

Per-message ``json.loads`` plus Python checks cap at roughly 100k events/s; DuckDB's JSON reader (yyjson, C++)
parses and checks a 200k-message batch in a fraction of a second. The rules are those of the spec
(``shared/spec/game-events.md``) and give the reason codes of :class:`~game_analytics.events.reasons.Reason`;
the first rule an event breaks, in the order below, names its reason.

Enrichment stays the one of :mod:`game_analytics.events.enrich`: the lookups (device, region, the
normalisation of platform and country) are called on each batch's *distinct* values in Python and joined
back, so an event gets exactly the values ``enrich()`` gives it; only the timestamp arithmetic is SQL
(tests compare both paths row by row).

DuckDB's JSON reader accepts NaN, Infinity and trailing commas; the spec wants one strict JSON object. Checking
every message in Python would cost more than the whole validation, so a prefilter in SQL (three regular
expressions, each led by a literal character so the scan skips ahead) flags the few messages that may hold such a
token and :func:`~game_analytics.ingest.decode.strictness_problem` decides for those alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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
from game_analytics.events.enrich import _lower, _upper  # the enrichment's own normalisation
from game_analytics.ingest.decode import strictness_problem
from game_analytics.reference import UNKNOWN, lookup_device, region_for

REQUIRED = tuple(REQUIRED_FIELDS)
_FIELDS = REQUIRED + ("parameters",) + OPTIONAL_STRINGS
# One parse per message: json_extract with a list of paths gives each field's JSON (SQL NULL when absent).
_PATHS = "[" + ", ".join(f"'$.\"{f}\"'" for f in _FIELDS) + "]"


def _f(field: str) -> str:
    return f"f[{_FIELDS.index(field) + 1}]"


# The fields come out of json_extract as compact JSON fragments, so their first character is their type: '"' a
# string, '{' an object, 'n' null, '[' an array, 't'/'f' a boolean, else a number. Reading that character is
# about 3 times cheaper than json_type, which parses the fragment again. A number is an integer when it is all
# digits (doubles are written with '.' or 'e'); json_type called it BIGINT or UBIGINT only within 64 bits, and
# a wider one is written back as plain digits too, hence the range. Casts alone do not tell types apart: DuckDB
# casts the JSON '"4.99"' and 'true' to DOUBLE.
_NUMBER = r"'-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?'"
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
# Where a message may hold NaN/Infinity (any case, after ':', '[' or ',') or a trailing comma; see the docstring.
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
        return f"NOT {_is_integer(_f(field))}"
    if field in ID_FIELDS:
        return f"(NOT {_is_string(_f(field))} OR length({field}) NOT BETWEEN {ID_LENGTH[0]} AND {ID_LENGTH[1]})"
    return f"NOT {_is_string(_f(field))}"


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


def checked_sql(ingested_at: datetime, retention: timedelta) -> str:
    """One row per message of ``batch_in`` (idx, kafka_partition, kafka_offset, v, received_at) whose ``v`` is not
    null (a null ``v`` was rejected before: decode.py) with ``reason`` NULL if valid, and the UTC ``event_date`` of
    its timestamp wherever that could be read (even if rejected)."""
    ref = reference_time_sql(ingested_at, retention)
    missing = ", ".join(f"CASE WHEN {_f(name)} IS NULL THEN '{name}' END" for name in REQUIRED)
    wrong_any = " OR ".join(_wrong(name) for name in REQUIRED)
    wrong_list = ", ".join(f"CASE WHEN {_wrong(name)} THEN '{name}' END" for name in REQUIRED)
    params = _f("parameters")
    level_id, price = f"json_extract({params}, '$.level_id')", f"json_extract({params}, '$.price_usd')"
    # level_id is read as INT64 downstream; a price of 1e400 is infinite as a DOUBLE.
    level_ok = f"coalesce({_is_integer(level_id, minimum=0, maximum=_INT64_MAX)}, FALSE)"
    price_ok = (
        f"coalesce(regexp_full_match({price}, {_NUMBER}) AND isfinite(TRY_CAST({price} AS DOUBLE)) "
        f"AND TRY_CAST({price} AS DOUBLE) >= 0, FALSE)"
    )
    # Optional fields of another type than string are stored as NULL (the spec only rejects required fields).
    strings = ",\n        ".join(f'{_string(_f(name))} AS "{name}"' for name in OPTIONAL_STRINGS)
    return f"""
WITH parsed AS (
    -- f is NULL where v is not valid JSON: the JSON functions raise on malformed input, even inside CASE.
    -- A valid v is an object: decode.py only passes text that starts with '{{'.
    -- ref: the time the checks are relative to (see reference_time_sql).
    SELECT idx, kafka_partition, kafka_offset, ok, CASE WHEN ok THEN json_extract(v, {_PATHS}) END AS f, {ref} AS ref
    FROM (SELECT *, json_valid(v) AS ok FROM batch_in WHERE v IS NOT NULL) AS b
), fields AS (
    SELECT
        idx, kafka_partition, kafka_offset, ok, ref, f,
        json_extract_string({_f("event_id")}, '$') AS event_id,
        json_extract_string({_f("user_id")}, '$') AS user_id,
        TRY_CAST({_f("event_type")} AS BIGINT) AS event_type,
        json_extract_string({_f("timestamp")}, '$') AS ts_text,
        concat_ws(', ', {missing}) AS missing,
        {strings}
    FROM parsed
), judged AS (
    SELECT *,
        CASE WHEN regexp_full_match(ts_text, '{TIMESTAMP_PATTERN}') THEN TRY_CAST(ts_text AS TIMESTAMPTZ) END AS ts
    FROM fields
), reasons AS (
    SELECT *, CASE
        WHEN NOT ok THEN 'malformed_json'
        WHEN missing <> '' THEN 'missing_field'
        WHEN {wrong_any} OR left({params}, 1) NOT IN ('{{', 'n') THEN 'wrong_type'
        WHEN event_type NOT IN {sql_codes(EVENT_TYPES)} OR event_type IS NULL THEN 'unknown_event_type'
        WHEN ts IS NULL THEN 'invalid_timestamp'
        WHEN ts > ref + INTERVAL {MAX_AHEAD_SQL} THEN 'timestamp_too_far_ahead'
        WHEN ts < ref - INTERVAL {MAX_AGE_SQL} THEN 'timestamp_too_old'
        WHEN event_type IN {sql_codes(LEVEL_TYPES)} AND NOT {level_ok} THEN 'invalid_level_id'
        WHEN event_type IN {sql_codes(PURCHASE_TYPES)} AND NOT {price_ok} THEN 'invalid_price'
    END AS reason
    FROM judged
)
SELECT
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
    CASE reason
        WHEN 'malformed_json' THEN 'not a complete, valid JSON document'
        WHEN 'missing_field' THEN 'missing required field(s): ' || missing
        WHEN 'wrong_type' THEN 'wrong type or length: '
            || coalesce(nullif(concat_ws(', ', {wrong_list}), ''), 'parameters')
        WHEN 'unknown_event_type' THEN 'unknown event_type ' || {_f("event_type")}
        WHEN 'invalid_timestamp' THEN 'timestamp ' || ts_text || ' is not ISO-8601 with an offset or Z'
        WHEN 'timestamp_too_far_ahead' THEN 'timestamp ' || ts_text
            || ' is more than {MAX_AHEAD_SQL} after ingestion at ' || CAST(ref AS VARCHAR)
        WHEN 'timestamp_too_old' THEN 'timestamp ' || ts_text
            || ' is more than {MAX_AGE_SQL} before ingestion at ' || CAST(ref AS VARCHAR)
        -- CAST: coalesce() with a JSON argument would parse 'missing' as JSON (and raise).
        WHEN 'invalid_level_id' THEN 'level_id ' || coalesce(CAST({level_id} AS VARCHAR), 'missing')
            || ' is not an integer in [0, {_INT64_MAX}]'
        WHEN 'invalid_price' THEN 'price_usd ' || coalesce(CAST({price} AS VARCHAR), 'missing')
            || ' is not a finite number >= 0'
    END AS reason_text
FROM reasons
"""


def _map_table(con, name: str, columns: dict[str, list]) -> None:
    """A temp table of equal-length string lists (from parameters: no Arrow conversion, no pandas import)."""
    select = ", ".join(f"unnest(${column}::VARCHAR[]) AS {column}" for column in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}", columns)


def _distinct(con, column: str) -> list:
    return [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM checked WHERE reason IS NULL").fetchall()]


def _lookup_tables(con) -> None:
    """Create the enrichment of this batch's distinct raw values (computed by the reference functions)."""
    platforms = _distinct(con, "platform")
    _map_table(con, "platform_map", {"raw": platforms, "value": [_lower(p) for p in platforms]})
    models = _distinct(con, "device_model")
    looked = [lookup_device(m) for m in models]
    _map_table(con, "device_map", {"raw": models, "category": [c for c, _ in looked], "tier": [t for _, t in looked]})
    countries = _distinct(con, "country")
    by_country = [region_for(c, None) for c in countries]
    _map_table(con, "country_map", {"raw": countries, "value": [_upper(c) for c in countries], "region": by_country})
    # The IP only matters where the country gives no region: few distinct (country, ip) pairs.
    unknown = [c for c, r in zip(countries, by_country, strict=True) if r == UNKNOWN]
    pairs = (
        con.execute(
            "SELECT DISTINCT country, ip_address FROM checked WHERE reason IS NULL AND ip_address IS NOT NULL "
            "AND list_contains($unknown, country) IS NOT FALSE",
            {"unknown": unknown},
        ).fetchall()
        if unknown
        else []
    )
    _map_table(
        con,
        "ip_map",
        {"country": [c for c, _ in pairs], "ip": [i for _, i in pairs], "region": [region_for(c, i) for c, i in pairs]},
    )


def enriched_sql(topic: str, ingested_at: datetime, dedup: bool = True) -> str:
    """The `events` rows of the valid messages of ``checked`` (first of each event_id), staging column types."""
    now = f"TIMESTAMPTZ '{ingested_at.isoformat()}'"
    quoted_topic = topic.replace("'", "''")
    return f"""
SELECT
    c.event_id, c.user_id, c.session_id, c.event_type, c.event_name, c.ts AS "timestamp",
    c.parameters,
    p.value AS platform, c.app_version, k.value AS country, c.device_model,
    c.event_date, CAST(hour(c.ts) AS BIGINT) AS event_hour,
    CAST(dayofweek(c.ts) + 1 AS BIGINT) AS day_of_week,
    coalesce(d.category, '{UNKNOWN}') AS device_category, coalesce(d.tier, '{UNKNOWN}') AS device_tier,
    coalesce(i.region, k.region, '{UNKNOWN}') AS region,
    '{quoted_topic}' AS kafka_topic, c.kafka_partition, c.kafka_offset, {now} AS ingested_at
FROM checked AS c
LEFT JOIN platform_map AS p ON c.platform IS NOT DISTINCT FROM p.raw
LEFT JOIN device_map AS d ON c.device_model IS NOT DISTINCT FROM d.raw
LEFT JOIN country_map AS k ON c.country IS NOT DISTINCT FROM k.raw
LEFT JOIN ip_map AS i ON c.country IS NOT DISTINCT FROM i.country AND c.ip_address = i.ip
WHERE c.reason IS NULL
{"QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY c.idx) = 1" if dedup else ""}
"""


def _reject_not_strict(con) -> None:
    """Mark the messages of ``batch_in`` that DuckDB took for JSON but are not strict JSON as ``malformed_json``."""
    suspects = con.execute(f"SELECT idx, v FROM batch_in WHERE ({_MAYBE_NOT_STRICT}) AND json_valid(v)").fetchall()
    found = [(idx, problem) for idx, text in suspects if (problem := strictness_problem(text))]
    if found:
        con.execute(
            "UPDATE checked SET reason = 'malformed_json', reason_text = 'not strict JSON: ' || s.problem "
            "FROM (SELECT unnest($idx::BIGINT[]) AS idx, unnest($problem::VARCHAR[]) AS problem) AS s "
            "WHERE checked.idx = s.idx",
            {"idx": [i for i, _ in found], "problem": [p for _, p in found]},
        )


def check_batch(con, batch_in: pa.Table, ingested_at: datetime, retention: timedelta) -> None:
    """Fill the DuckDB table ``checked``: every message of ``batch_in``, with its reason (NULL when valid)."""
    con.register("batch_in", batch_in)
    con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {checked_sql(ingested_at, retention)}")
    _reject_not_strict(con)


def enrich_batch(con, topic: str, ingested_at: datetime, materialize: bool = True) -> None:
    """Define the DuckDB view ``good`` (rows to load) over the valid messages of ``checked``, and ``good_keys``
    (event_date, timestamp, kafka_partition of those rows) for the batch's counts, dates and watermarks.

    Without ``materialize`` and without duplicate event_ids, ``good`` is the enrichment query itself: the Parquet
    file is written straight from it and ``good_keys`` reads ``checked``, so no table of the batch's rows is built
    (about a seventh of preparing a batch). Otherwise the rows are a table first (``good_rows``), so a row that
    makes the query fail, fails here (the bisection relies on it)."""
    _lookup_tables(con)
    # The window that keeps the first row of an event_id costs more than the rest; skip it when not needed.
    duplicates = con.execute("SELECT count(*) - count(DISTINCT event_id) FROM checked WHERE reason IS NULL")
    dedup = bool(duplicates.fetchone()[0])
    rows = enriched_sql(topic, ingested_at, dedup)
    if materialize or dedup:
        con.execute(f"CREATE OR REPLACE TEMP TABLE good_rows AS {rows}")
        rows = "SELECT * FROM good_rows"
        keys = 'SELECT event_date, "timestamp", kafka_partition FROM good_rows'
    else:
        keys = 'SELECT event_date, ts AS "timestamp", kafka_partition FROM checked WHERE reason IS NULL'
    con.execute(f"CREATE OR REPLACE TEMP VIEW good AS {rows}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW good_keys AS {keys}")
