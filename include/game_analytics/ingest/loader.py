"""The warehouse side of a batch: staging loads, then ONE transaction for rows, dead letters and offsets.

Per batch:

1. load jobs replace the run's two staging tables (``_ingest_events_<run>`` from the batch's Parquet file,
   ``_ingest_dlq_<run>`` from its dead letters); a crash here leaves only staging data behind;
2. one multi-statement transaction: MERGE into ``events`` on ``event_id``, INSERT the dead letters
   not yet in ``events_dlq`` (key: topic, partition, offset), and MERGE the batch's end offsets into
   ``ingestion_offsets`` (never backwards). Either all three happen or none does. Each statement is idempotent
   and the offsets come last, so even without the transaction (``GA_INGEST_USE_TRANSACTION=false``, the local
   stack: the emulator copies whole tables for one) a crash between them only makes the batch be read again,
   and its rows already in the warehouse are skipped. The re-read gives each message the same verdict (the
   validator's time checks use the message's Kafka timestamp, not the run's clock), so a message cannot land
   in ``events`` and ``events_dlq`` both;
3. a read of how many rows this batch added (rows carry the batch's ``ingested_at``): the report's counts.

De-duplication scope: an ``event_id`` is stored once among all events whose dates lie within the validator's
maximum event age (:data:`~game_analytics.ingest.validate.MAX_AGE`, 30 days) of each other. The MERGE matches
the batch's rows against ``events`` from ``MAX_AGE`` before the batch's first date to ``MAX_AGE`` after its
last one: a copy sent again later with another timestamp (a day earlier, say) finds the first copy although it
lies outside the batch's own dates. The range is the partition filter ``events`` requires, and it is bounded:
a batch reads at most its own days plus 2 x 30 days of ``events``, never the whole table. Two copies whose
dates are further apart are two rows: that takes a producer re-sending an event with a timestamp more than a
month off the first copy's (a copy re-sent over a month later with the same timestamp is ``timestamp_too_old``).

Literal values are inlined (quoted) instead of query parameters: the emulator ignores parameters inside
multi-statement scripts, and every inlined value is ours (dates, offsets, topic and group names).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from game_analytics.config import Settings
from game_analytics.events.enrich import EVENT_COLUMNS
from game_analytics.ingest.batch import PreparedBatch
from game_analytics.ingest.validate import MAX_AGE

STAGING_TTL = timedelta(days=1)  # staging tables of a crashed run expire by themselves (on real BigQuery)
DLQ_COLUMNS = (
    "raw_value", "raw_value_encoding", "message_key", "reason_code", "reason_text",
    "kafka_topic", "kafka_partition", "kafka_offset", "failed_at", "event_date",
)  # fmt: skip


def lit(value: str) -> str:
    """A GoogleSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ts_lit(value: datetime) -> str:
    return f"TIMESTAMP {lit(value.astimezone(UTC).isoformat())}"


@dataclass(frozen=True)
class LoadResult:
    loaded: int  # rows added to `events`
    dead_lettered: int  # rows added to `events_dlq`


class WarehouseLoader:
    """Loads prepared batches of one topic for one consumer group, with the run's private staging tables."""

    def __init__(self, client, settings: Settings, topic: str, group_id: str):
        self.client = client
        self.settings = settings
        self.topic = topic
        self.group_id = group_id
        run = uuid.uuid4().hex[:12]
        base = f"{settings.bq_project}.{settings.bq_dataset}"
        self.staging_events = f"{base}._ingest_events_{run}"
        self.staging_dlq = f"{base}._ingest_dlq_{run}"
        self._created = False

    # -- offsets -------------------------------------------------------------------------------------------
    def read_offsets(self) -> dict[int, int]:
        """partition -> next offset the warehouse has taken, for this topic and group."""
        sql = (
            f"SELECT `partition`, next_offset FROM {self.settings.table('ingestion_offsets')} "
            f"WHERE topic = {lit(self.topic)} AND consumer_group = {lit(self.group_id)}"
        )
        return {row["partition"]: row["next_offset"] for row in self.client.query(sql).result()}

    # -- staging -------------------------------------------------------------------------------------------
    def _create_staging(self) -> None:
        from google.cloud import bigquery

        events = self.client.get_table(f"{self.settings.bq_project}.{self.settings.bq_dataset}.events")
        # The Parquet file carries `parameters` as JSON text; the MERGE parses it (PARSE_JSON).
        schema = [bigquery.SchemaField("parameters", "STRING") if f.name == "parameters" else f for f in events.schema]
        dlq = self.client.get_table(f"{self.settings.bq_project}.{self.settings.bq_dataset}.events_dlq")
        for table_id, fields in ((self.staging_events, schema), (self.staging_dlq, dlq.schema)):
            table = bigquery.Table(table_id, schema=fields)
            table.expires = datetime.now(UTC) + STAGING_TTL
            self.client.create_table(table, exists_ok=True)
        self._events_schema, self._dlq_schema = schema, dlq.schema
        self._created = True

    def _load_staging(self, batch: PreparedBatch) -> None:
        from google.cloud import bigquery

        if not self._created:
            self._create_staging()
        truncate = bigquery.WriteDisposition.WRITE_TRUNCATE
        if batch.parquet_path:
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET, write_disposition=truncate, schema=self._events_schema
            )
            with open(batch.parquet_path, "rb") as handle:
                self.client.load_table_from_file(handle, self.staging_events, job_config=config).result()
        if batch.dead_letters:
            ndjson = "\n".join(json.dumps(d.row(batch.ingested_at)) for d in batch.dead_letters).encode()
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                write_disposition=truncate,
                schema=self._dlq_schema,
            )
            self.client.load_table_from_file(io.BytesIO(ndjson), self.staging_dlq, job_config=config).result()

    # -- the transaction -----------------------------------------------------------------------------------
    def transaction_sql(self, batch: PreparedBatch) -> str:
        s = self.settings
        transaction = s.ingest_use_transaction
        statements = ["BEGIN TRANSACTION"] if transaction else []
        dates = ", ".join(f"DATE '{d.isoformat()}'" for d in batch.dates)
        if batch.rows:
            # The de-duplication scope (module docstring): the batch's dates widened by MAX_AGE on each side.
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
                f"USING (SELECT {source} FROM `{self.staging_events}` WHERE event_date IN ({dates})) AS S\n"
                f"ON T.event_id = S.event_id AND {scope}\n"
                f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})"
            )
        if batch.dead_letters:
            columns = ", ".join(DLQ_COLUMNS)
            statements.append(
                f"INSERT INTO {s.table('events_dlq')} ({columns})\n"
                f"SELECT {columns} FROM `{self.staging_dlq}` AS S\n"
                f"WHERE NOT EXISTS (SELECT 1 FROM {s.table('events_dlq')} AS T WHERE T.kafka_topic = S.kafka_topic "
                "AND T.kafka_partition = S.kafka_partition AND T.kafka_offset = S.kafka_offset)"
            )
        if batch.next_offsets:
            statements.append(self._offsets_merge(batch.next_offsets.items()))
        if transaction:
            statements.append("COMMIT TRANSACTION")
        at = ts_lit(batch.ingested_at)
        loaded = (
            f"(SELECT COUNT(*) FROM {s.table('events')} WHERE event_date IN ({dates}) AND ingested_at = {at} "
            f"AND kafka_topic = {lit(self.topic)})"
            if batch.rows
            else "0"
        )
        dead = (
            f"(SELECT COUNT(*) FROM {s.table('events_dlq')} WHERE DATE(failed_at) = DATE({at}) AND failed_at = {at} "
            f"AND kafka_topic = {lit(self.topic)})"
            if batch.dead_letters
            else "0"
        )
        statements.append(f"SELECT {loaded} AS loaded, {dead} AS dead_lettered")
        return ";\n".join(statements) + ";"

    def _offsets_merge(self, offsets: Iterable[tuple[int, int]]) -> str:
        rows = " UNION ALL ".join(
            f"SELECT {lit(self.topic)} AS topic, {int(p)} AS `partition`, {lit(self.group_id)} AS consumer_group, "
            f"{int(o)} AS next_offset"
            for p, o in sorted(offsets)
        )
        return (
            f"MERGE {self.settings.table('ingestion_offsets')} AS T\nUSING ({rows}) AS S\n"
            "ON T.topic = S.topic AND T.`partition` = S.`partition` AND T.consumer_group = S.consumer_group\n"
            "WHEN MATCHED THEN UPDATE SET next_offset = GREATEST(T.next_offset, S.next_offset), "
            "updated_at = CURRENT_TIMESTAMP()\n"
            "WHEN NOT MATCHED THEN INSERT (topic, `partition`, consumer_group, next_offset, updated_at)\n"
            "VALUES (S.topic, S.`partition`, S.consumer_group, S.next_offset, CURRENT_TIMESTAMP())"
        )

    def stage(self, batch: PreparedBatch) -> None:
        """Step 1: the batch's rows and dead letters into the staging tables (no visible effect)."""
        self._load_staging(batch)

    def commit(self, batch: PreparedBatch) -> LoadResult:
        """Step 2 and 3: the transaction, then the counts of what it added."""
        rows = list(self.client.query(self.transaction_sql(batch)).result())
        return LoadResult(loaded=int(rows[0]["loaded"]), dead_lettered=int(rows[0]["dead_lettered"]))

    def drop_staging(self) -> None:
        for table_id in (self.staging_events, self.staging_dlq):
            self.client.delete_table(table_id, not_found_ok=True)
