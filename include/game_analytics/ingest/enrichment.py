"""Enrich a batch's valid messages in DuckDB: the table ``checked`` (validate.py) to the view ``good`` of rows to load.

Enrichment stays the one of :mod:`game_analytics.events.enrich`: the lookups (device, region, the normalisation of
platform and country) are called on each batch's *distinct* values in Python and joined back, so an event gets
exactly the values ``enrich()`` gives it; only the timestamp arithmetic is SQL (tests compare both paths row by
row). Its own module because validation and enrichment change for different reasons: the contract's rules, the
reference data.
"""

from __future__ import annotations

from datetime import datetime

from game_analytics.events.enrich import _lower, _upper  # the enrichment's own normalisation
from game_analytics.reference import UNKNOWN, lookup_device, region_for


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


def enrich_batch(con, topic: str, ingested_at: datetime, materialize: bool = True) -> None:
    """Define the DuckDB view ``good`` (rows to load) over the valid messages of ``checked``, and ``good_keys``
    (event_date, timestamp, kafka_partition of those rows) for the batch's counts, dates and watermarks.

    Without ``materialize`` and without duplicate event_ids, ``good`` is the enrichment query itself: the Parquet
    file is written straight from it and ``good_keys`` reads ``checked``, so no table of the batch's rows is built
    (about a seventh of preparing a batch). Otherwise the rows are a table first (``good_rows``), so a row that
    makes the query fail, fails here (the bisection relies on it)."""
    _lookup_tables(con)
    # The window that keeps the first row of an event_id costs more than the rest; skip it when not needed. Distinct
    # hashes are cheaper to count than distinct ids; a collision only takes the window (which is right either way).
    duplicates = con.execute("SELECT count(*) - count(DISTINCT hash(event_id)) FROM checked WHERE reason IS NULL")
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
