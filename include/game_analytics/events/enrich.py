"""Turn a valid event into an `events` row, and load such rows into the warehouse idempotently.

:func:`enrich` is the single place where derived and enrichment columns are computed, shared by the Kafka
ingestion and the direct load, so both paths store identical rows. It assumes the event already passed
validation. Rows hold Python values (``datetime``, ``date``, ``dict``); :func:`row_to_json` renders one as a
BigQuery NDJSON line.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from game_analytics.config import Settings
from game_analytics.reference import lookup_device, region_for

# The columns of sql/events/schema.sql, in order (tests compare them with the real table).
EVENT_COLUMNS = (
    "event_id", "user_id", "session_id", "event_type", "event_name", "timestamp", "parameters", "platform",
    "app_version", "country", "device_model", "event_date", "event_hour", "day_of_week", "device_category",
    "device_tier", "region", "kafka_topic", "kafka_partition", "kafka_offset", "ingested_at",
)  # fmt: skip

_PASSTHROUGH = ("event_id", "user_id", "session_id", "event_name", "app_version", "device_model")


def parse_timestamp(value: str | datetime) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (a value without offset is taken as UTC).

    Digits beyond microseconds are dropped, as BigQuery TIMESTAMP keeps microseconds.
    """
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def bigquery_day_of_week(day: date) -> int:
    """BigQuery's EXTRACT(DAYOFWEEK): 1 = Sunday ... 7 = Saturday."""
    return day.isoweekday() % 7 + 1


def _lineage(lineage: Mapping[str, Any] | None, name: str) -> Any:
    # Accept both confluent_kafka's names (topic/partition/offset) and the column names (kafka_topic...).
    if not lineage:
        return None
    return lineage.get(name, lineage.get(f"kafka_{name}"))


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def enrich(event: Mapping[str, Any], ingested_at: datetime, lineage: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One `events` row from a valid event; ``lineage`` is the Kafka topic/partition/offset (None if direct).

    ``ip_address`` only feeds ``region`` and is never part of the row.
    """
    ts = parse_timestamp(event["timestamp"])
    category, tier = lookup_device(event.get("device_model"))
    parameters = event.get("parameters")
    row: dict[str, Any] = {name: event.get(name) for name in _PASSTHROUGH}
    row.update(
        event_type=int(event["event_type"]),
        timestamp=ts,
        parameters={} if parameters is None else parameters,
        platform=_lower(event.get("platform")),
        country=_upper(event.get("country")),
        event_date=ts.date(),
        event_hour=ts.hour,
        day_of_week=bigquery_day_of_week(ts.date()),
        device_category=category,
        device_tier=tier,
        region=region_for(event.get("country"), event.get("ip_address")),
        kafka_topic=_lineage(lineage, "topic"),
        kafka_partition=_lineage(lineage, "partition"),
        kafka_offset=_lineage(lineage, "offset"),
        ingested_at=parse_timestamp(ingested_at),
    )
    return {name: row[name] for name in EVENT_COLUMNS}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return parse_timestamp(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to a BigQuery JSON load: {value!r}")


def row_to_json(row: Mapping[str, Any]) -> str:
    """One NDJSON line for a BigQuery load job (the JSON column takes the parameters object as is)."""
    return json.dumps(row, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _merge_sql(settings: Settings, staging: str) -> str:
    columns = ", ".join(f"`{c}`" for c in EVENT_COLUMNS)
    values = ", ".join(f"S.`{c}`" for c in EVENT_COLUMNS)
    # The constant date list is the partition filter `events` requires and keeps the scan to the batch's days.
    return (
        f"MERGE {settings.table('events')} T USING {staging} S\n"
        "ON T.event_id = S.event_id AND T.event_date IN UNNEST(@dates)\n"
        f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})"
    )


def load_rows(client, settings: Settings, rows: Iterable[Mapping[str, Any]]) -> int:
    """Add enriched rows to `events` unless their event_id is already there; returns the rows inserted.

    A load job into a private staging table, then one MERGE: safe to repeat with the same rows (a re-run or a
    retried task adds nothing), and within a batch the first row of an event_id wins.
    """
    from google.cloud import bigquery

    unique: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["event_id"], row)
    if not unique:
        return 0
    events = client.get_table(f"{settings.bq_project}.{settings.bq_dataset}.events")
    staging_id = f"{settings.bq_project}.{settings.bq_dataset}._events_load_{uuid.uuid4().hex[:12]}"
    staging = bigquery.Table(staging_id, schema=events.schema)
    staging.expires = datetime.now(UTC) + timedelta(hours=6)  # cleans up after a crash between the steps
    staging = client.create_table(staging)
    try:
        payload = "\n".join(row_to_json(r) for r in unique.values()).encode()
        load_config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            schema=events.schema,
        )
        client.load_table_from_file(io.BytesIO(payload), staging, job_config=load_config).result()
        dates = sorted({_as_date(r["event_date"]) for r in unique.values()})
        merge = client.query(
            _merge_sql(settings, f"`{staging.project}.{staging.dataset_id}.{staging.table_id}`"),
            job_config=bigquery.QueryJobConfig(query_parameters=[bigquery.ArrayQueryParameter("dates", "DATE", dates)]),
        )
        merge.result()
        return merge.num_dml_affected_rows or 0
    finally:
        client.delete_table(staging, not_found_ok=True)
