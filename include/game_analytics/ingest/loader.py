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
3. a read of how many rows this batch added (rows carry the batch's ``ingested_at``): the report's counts; and,
   only when the batch added some of its dead letters but not all, which ones per reason
   (``ingestion_runs/batch_dead_letters_by_reason.sql``).

De-duplication scope: an ``event_id`` is stored once among all events whose dates lie within the validator's
maximum event age (:data:`~game_analytics.events.contract.MAX_AGE_SQL`, 30 days) of each other. The MERGE matches
the batch's rows against ``events`` from ``MAX_AGE_SQL`` before the batch's first date to ``MAX_AGE_SQL`` after its
last one: a copy sent again later with another timestamp (a day earlier, say) finds the first copy although it
lies outside the batch's own dates. The range is the partition filter ``events`` requires, and it is bounded:
a batch reads at most its own days plus 2 x 30 days of ``events``, never the whole table. Two copies whose
dates are further apart are two rows: that takes a producer re-sending an event with a timestamp more than a
month off the first copy's (a copy re-sent over a month later with the same timestamp is ``timestamp_too_old``).

The statements are SQL templates: ``sql/ingest_batch.sql`` (the script of steps 2 and 3, which includes
``events/ingest_merge.sql``, ``events_dlq/ingest_insert.sql`` and ``ingestion_offsets/merge.sql``) and
``ingestion_offsets/read.sql``. Values are inlined as literals (the ``sql_string`` filter of
:mod:`~game_analytics.warehouse.sql_templates`) instead of query parameters: the emulator ignores parameters inside
multi-statement scripts. Topic and consumer-group names come from the settings and the caller; the filter quotes
any text, a quote or a backslash included.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from game_analytics.config import Settings
from game_analytics.events.contract import MAX_AGE_SQL
from game_analytics.events.enrich import EVENT_COLUMNS
from game_analytics.ingest.batch import PreparedBatch
from game_analytics.warehouse.sql_templates import render_sql

STAGING_TTL = timedelta(days=1)  # staging tables of a crashed run expire by themselves (on real BigQuery)
DLQ_COLUMNS = (
    "raw_value", "raw_value_encoding", "message_key", "reason_code", "reason_text",
    "kafka_topic", "kafka_partition", "kafka_offset", "failed_at", "event_date",
)  # fmt: skip


@dataclass(frozen=True)
class LoadResult:
    loaded: int  # rows added to `events`
    dead_lettered: int  # rows added to `events_dlq`
    dead_lettered_by_reason: Counter = field(default_factory=Counter)  # reason code -> of those rows


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
        sql = render_sql("ingestion_offsets/read.sql", self.settings, topic=self.topic, consumer_group=self.group_id)
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
        """Steps 2 and 3 as one script (``sql/ingest_batch.sql``); a statement with nothing to do is left out."""
        return render_sql(
            "ingest_batch.sql",
            self.settings,
            use_transaction=self.settings.ingest_use_transaction,
            load_events=bool(batch.rows),
            load_dead_letters=bool(batch.dead_letters),
            topic=self.topic,
            consumer_group=self.group_id,
            staging_events=self.staging_events,
            staging_dlq=self.staging_dlq,
            event_columns=EVENT_COLUMNS,
            dlq_columns=DLQ_COLUMNS,
            event_dates=[d.isoformat() for d in batch.dates],
            max_age=MAX_AGE_SQL,
            ingested_at=batch.ingested_at.astimezone(UTC).isoformat(),
            offsets=[(int(p), int(o)) for p, o in sorted(batch.next_offsets.items())],
        )

    def stage(self, batch: PreparedBatch) -> None:
        """Step 1: the batch's rows and dead letters into the staging tables (no visible effect)."""
        self._load_staging(batch)

    def commit(self, batch: PreparedBatch) -> LoadResult:
        """Step 2 and 3: the transaction, then the counts of what it added."""
        rows = list(self.client.query(self.transaction_sql(batch)).result())
        loaded, dead_lettered = int(rows[0]["loaded"]), int(rows[0]["dead_lettered"])
        return LoadResult(loaded, dead_lettered, self._added_by_reason(batch, dead_lettered))

    def _added_by_reason(self, batch: PreparedBatch, dead_lettered: int) -> Counter:
        """Reason code -> dead letters the batch added: all of its own or none without asking the warehouse, else
        its rows in ``events_dlq`` (some of its messages had been dead-lettered by an earlier read)."""
        if dead_lettered == 0:
            return Counter()
        if dead_lettered == len(batch.dead_letters):
            return Counter(dead.reason for dead in batch.dead_letters)
        sql = render_sql(
            "ingestion_runs/batch_dead_letters_by_reason.sql",
            self.settings,
            topic=self.topic,
            ingested_at=batch.ingested_at.astimezone(UTC).isoformat(),
        )
        return Counter({row["reason_code"]: row["dead_letters"] for row in self.client.query(sql).result()})

    def drop_staging(self) -> None:
        for table_id in (self.staging_events, self.staging_dlq):
            self.client.delete_table(table_id, not_found_ok=True)
