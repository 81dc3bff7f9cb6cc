"""The ingestion's SQL moved from Python f-strings to sql/ templates without changing a token.

The warehouse step's cost is the statements BigQuery runs, so they must stay the same: each rendered template is
compared, up to whitespace, with what the f-strings built before the move (frozen below, as they were). The
names here are plain (no quote), where the old quoting and the new one agree.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from game_analytics.config import Settings
from game_analytics.events.contract import MAX_AGE_SQL as MAX_AGE
from game_analytics.events.enrich import EVENT_COLUMNS
from game_analytics.ingest.batch import DeadLetter, PreparedBatch
from game_analytics.ingest.loader import DLQ_COLUMNS, WarehouseLoader
from game_analytics.warehouse.watermarks import Watermark, upsert_sql

INGESTED_AT = datetime(2026, 11, 8, 12, 30, 1, 123456, tzinfo=UTC)
DEAD = DeadLetter(key=b"k", value=b"{", reason="invalid_json", reason_text="bad", topic="raw", partition=1, offset=7)


def _old_lit(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _old_transaction_sql(loader: WarehouseLoader, batch: PreparedBatch) -> str:
    """ingest/loader.py's WarehouseLoader.transaction_sql before the SQL moved to sql/ (verbatim)."""
    s = loader.settings
    transaction = s.ingest_use_transaction
    statements = ["BEGIN TRANSACTION"] if transaction else []
    dates = ", ".join(f"DATE '{d.isoformat()}'" for d in batch.dates)
    if batch.rows:
        first, last = min(batch.dates).isoformat(), max(batch.dates).isoformat()
        scope = (
            f"T.event_date BETWEEN DATE_SUB(DATE '{first}', INTERVAL {MAX_AGE}) "
            f"AND DATE_ADD(DATE '{last}', INTERVAL {MAX_AGE})"
        )
        columns = ", ".join(f"`{c}`" for c in EVENT_COLUMNS)
        values = ", ".join(f"S.`{c}`" for c in EVENT_COLUMNS)
        source = ", ".join(
            "PARSE_JSON(parameters, wide_number_mode => 'round') AS parameters" if c == "parameters" else f"`{c}`"
            for c in EVENT_COLUMNS
        )
        statements.append(
            f"MERGE {s.table('events')} AS T\n"
            f"USING (SELECT {source} FROM `{loader.staging_events}` WHERE event_date IN ({dates})) AS S\n"
            f"ON T.event_id = S.event_id AND {scope}\n"
            f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})"
        )
    if batch.dead_letters:
        columns = ", ".join(DLQ_COLUMNS)
        statements.append(
            f"INSERT INTO {s.table('events_dlq')} ({columns})\n"
            f"SELECT {columns} FROM `{loader.staging_dlq}` AS S\n"
            f"WHERE NOT EXISTS (SELECT 1 FROM {s.table('events_dlq')} AS T WHERE T.kafka_topic = S.kafka_topic "
            "AND T.kafka_partition = S.kafka_partition AND T.kafka_offset = S.kafka_offset)"
        )
    if batch.next_offsets:
        rows = " UNION ALL ".join(
            f"SELECT {_old_lit(loader.topic)} AS topic, {int(p)} AS `partition`, "
            f"{_old_lit(loader.group_id)} AS consumer_group, {int(o)} AS next_offset"
            for p, o in sorted(batch.next_offsets.items())
        )
        statements.append(
            f"MERGE {s.table('ingestion_offsets')} AS T\nUSING ({rows}) AS S\n"
            "ON T.topic = S.topic AND T.`partition` = S.`partition` AND T.consumer_group = S.consumer_group\n"
            "WHEN MATCHED THEN UPDATE SET next_offset = GREATEST(T.next_offset, S.next_offset), "
            "updated_at = CURRENT_TIMESTAMP()\n"
            "WHEN NOT MATCHED THEN INSERT (topic, `partition`, consumer_group, next_offset, updated_at)\n"
            "VALUES (S.topic, S.`partition`, S.consumer_group, S.next_offset, CURRENT_TIMESTAMP())"
        )
    if transaction:
        statements.append("COMMIT TRANSACTION")
    at = f"TIMESTAMP {_old_lit(batch.ingested_at.astimezone(UTC).isoformat())}"
    loaded = (
        f"(SELECT COUNT(*) FROM {s.table('events')} WHERE event_date IN ({dates}) AND ingested_at = {at} "
        f"AND kafka_topic = {_old_lit(loader.topic)})"
        if batch.rows
        else "0"
    )
    dead = (
        f"(SELECT COUNT(*) FROM {s.table('events_dlq')} WHERE DATE(failed_at) = DATE({at}) AND failed_at = {at} "
        f"AND kafka_topic = {_old_lit(loader.topic)})"
        if batch.dead_letters
        else "0"
    )
    statements.append(f"SELECT {loaded} AS loaded, {dead} AS dead_lettered")
    return ";\n".join(statements) + ";"


def _old_upsert_sql(settings: Settings, marks: list[Watermark]) -> str:
    """warehouse/watermarks.py's upsert_sql before the SQL moved to sql/ (verbatim)."""

    def _ts(value):
        return "NULL" if value is None else f"TIMESTAMP '{value.isoformat()}'"

    rows = " UNION ALL ".join(
        f"SELECT '{m.topic}' AS topic, {m.partition} AS `partition`, {_ts(m.caught_up_at)} AS caught_up_at, "
        f"{_ts(m.max_event_timestamp)} AS max_event_timestamp, "
        f"{'NULL' if m.committed_offset is None else m.committed_offset} AS committed_offset"
        for m in marks
    )
    return f"""
MERGE {settings.table("ingestion_watermarks")} AS t
USING ({rows}) AS s
ON t.topic = s.topic AND t.`partition` = s.`partition`
WHEN MATCHED THEN UPDATE SET
    caught_up_at = GREATEST(COALESCE(t.caught_up_at, s.caught_up_at), s.caught_up_at),
    max_event_timestamp = GREATEST(
        COALESCE(t.max_event_timestamp, s.max_event_timestamp), COALESCE(s.max_event_timestamp, t.max_event_timestamp)),
    committed_offset = GREATEST(COALESCE(t.committed_offset, s.committed_offset), COALESCE(s.committed_offset, -1)),
    updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (topic, `partition`, caught_up_at, max_event_timestamp, committed_offset, updated_at)
    VALUES (s.topic, s.`partition`, s.caught_up_at, s.max_event_timestamp, s.committed_offset, CURRENT_TIMESTAMP())
"""


def tokens(sql: str) -> str:
    """The SQL up to whitespace: runs collapsed, none inside parentheses or before a comma or semicolon."""
    sql = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"\( | (?=[),;])", lambda m: m.group(0).strip(), sql)


def batch(rows: int, dead_letters: int, offsets: dict[int, int]) -> PreparedBatch:
    return PreparedBatch(
        ingested_at=INGESTED_AT, consumed=rows + dead_letters, valid=rows, rows=rows,
        parquet_path="x.parquet" if rows else None,
        dates=[date(2026, 11, 8), date(2026, 10, 30), date(2026, 11, 7)] if rows else [],
        dead_letters=[DEAD] * dead_letters, next_offsets=offsets, max_event_timestamp={}, avro=0,
    )  # fmt: skip


@pytest.mark.parametrize("transaction", [True, False])
@pytest.mark.parametrize(
    ("rows", "dead_letters", "offsets"),
    [(5, 2, {3: 40, 0: 12, 1: 9}), (5, 0, {0: 12}), (0, 2, {1: 9}), (0, 0, {2: 1}), (0, 0, {})],
)
def test_the_batch_script_is_the_same_sql_as_before(transaction, rows, dead_letters, offsets):
    settings = Settings(ingest_use_transaction=transaction)
    loader = WarehouseLoader(None, settings, "game-events-raw", "game-events-ingest")
    sample = batch(rows, dead_letters, offsets)
    new, old = loader.transaction_sql(sample), _old_transaction_sql(loader, sample)
    assert tokens(new) == tokens(old)
    # The statements are still separated as the tests (and BigQuery's job history) show them.
    assert [s.split()[0] for s in new.split(";\n")] == [s.split()[0] for s in old.split(";\n")]


def test_the_watermark_merge_is_the_same_sql_as_before():
    marks = [
        Watermark("game-events-raw", 0, datetime(2026, 11, 9, 0, 45, tzinfo=UTC), INGESTED_AT, 120),
        Watermark("game-events-raw", 1, datetime(2026, 11, 9, 0, 45, tzinfo=UTC), None, None),
    ]
    settings = Settings()
    assert tokens(upsert_sql(settings, marks)) == tokens(_old_upsert_sql(settings, marks))
