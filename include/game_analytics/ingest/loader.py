"""The warehouse side of a batch: staging loads, then ONE script that appends the batch's new messages.

Per batch:

1. load jobs replace the run's two staging tables (``_ingest_events_<run>`` from the batch's Parquet file,
   ``_ingest_dlq_<run>`` from its dead letters); a crash here leaves only staging data behind;
2. one script (``sql/ingest_batch.sql``), a transaction unless ``GA_INGEST_USE_TRANSACTION=false``: it appends to
   ``events`` and ``events_dlq`` the batch's messages whose offset is at or past the next offset recorded in
   ``ingestion_offsets`` for their partition by any consumer group (so a replay of the topic with a new group adds
   nothing), and their counts per 5-minute window, event type and platform to ``live_event_counts`` (through the
   same offset check, right after the rows), then moves the batch's offsets forward (never backwards). **Exactly
   once per Kafka message, from the offsets**: rows, counts and offsets commit together, and a batch read again (a
   crash after the commit and before the Kafka commit, a zombie try, a replay) finds its offsets recorded and
   appends nothing. Nothing in it reads ``events``, ``live_event_counts`` or ``events_dlq``: each statement reads
   the batch's staging table and the ``ingestion_offsets`` rows of the batch's Kafka partitions (that table is
   partitioned by Kafka partition), so its cost follows the batch, never the history. It returns how many rows and
   dead letters it appended (counted before the offsets move); only when it appended some of the batch's dead
   letters but not all, a read of the batch's own ``events_dlq`` rows
   (``ingestion_runs/batch_dead_letters_by_reason.sql``, bounded to its ``failed_at``) says which per reason.

**event_id de-duplication happens once per day, not per batch.** Two messages with one event_id (a client retry, a
producer re-send) are two rows of ``events`` until the daily DAG's sensor (``wait_for_events``, once D is complete)
deletes every copy of day D but the first (``sql/events/deduplicate.sql``), before any table reads D; the health
measurements count distinct event_ids. Scope: copies whose dates lie within the validator's maximum event age
(:data:`~game_analytics.events.contract.MAX_AGE_SQL`, 30 days) of each other; the copy on the earliest day wins,
then the one stored first.

Without the transaction (the local stack: the emulator implements one by copying every table it touches, all of
``events``) the script still runs whole on the server once submitted, so a SIGKILL of the ingesting process at
any point changes nothing; only a statement that fails after an earlier one succeeded could leave rows whose
offsets are not recorded, which the re-read appends again: the daily de-duplication removes such copies from
``events``, but a dead letter would stay twice in ``events_dlq``. Production runs the transaction.

Values are inlined as literals (the ``sql_string`` filter of :mod:`~game_analytics.warehouse.sql_templates`)
instead of query parameters: the emulator ignores parameters inside multi-statement scripts. Topic and
consumer-group names come from the settings and the caller; the filter quotes any text.
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from game_analytics.config import Settings
from game_analytics.events.enrich import EVENT_COLUMNS
from game_analytics.ingest.batch import PreparedBatch
from game_analytics.warehouse.sql_templates import render_sql

log = logging.getLogger(__name__)

STAGING_TTL = timedelta(days=1)  # staging tables of a crashed run expire by themselves (on real BigQuery)
# BigQuery cancels a transaction that mutates a table another transaction is mutating ("Transaction is aborted due
# to concurrent update against table ..."): shards committing at the same moment. Retried with jittered backoff.
CONFLICT_RETRIES = 6
CONFLICT_BACKOFF_SECONDS = 0.5


def _aborted_by_a_concurrent_update(exc: BaseException) -> bool:
    return "concurrent update" in str(exc).lower()


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
        # The Parquet file carries `parameters` as JSON text; the batch's INSERT parses it (PARSE_JSON).
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

    # -- the script -----------------------------------------------------------------------------------
    def transaction_sql(self, batch: PreparedBatch, attempt_sql: str = "") -> str:
        """Step 2 as one script (``sql/ingest_batch.sql``); a statement with nothing to do is left out.
        ``attempt_sql``: the MERGE of the attempt's ``ingestion_runs`` row (ingest/attempts.py), after the offsets."""
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
            offsets=[(int(p), int(o)) for p, o in sorted(batch.next_offsets.items())],
            attempt_sql=attempt_sql,
        )

    def stage(self, batch: PreparedBatch) -> None:
        """Step 1: the batch's rows and dead letters into the staging tables (no visible effect)."""
        self._load_staging(batch)

    def commit(self, batch: PreparedBatch, attempt_sql: str = "") -> LoadResult:
        """Step 2: the script, which returns the counts of what it appended; run again when BigQuery aborted its
        transaction for a concurrent update of the same table (another shard's offsets MERGE), which it does per
        table, not per partition. Running it again is safe: an aborted transaction changed nothing, and the offset
        check makes the script idempotent anyway."""
        sql = self.transaction_sql(batch, attempt_sql)
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                rows = list(self.client.query(sql).result())
                break
            except Exception as exc:
                if attempt == CONFLICT_RETRIES or not _aborted_by_a_concurrent_update(exc):
                    raise
                pause = CONFLICT_BACKOFF_SECONDS * 2**attempt * (0.5 + random.random())
                log.info("batch transaction aborted by a concurrent update, again in %.1f s: %s", pause, exc)
                time.sleep(pause)
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


def forget_offsets(client, settings: Settings, topic: str) -> None:
    """Delete every offset recorded for ``topic`` (``ingestion_offsets/forget.sql``), if the table exists yet."""
    from google.api_core.exceptions import NotFound

    try:
        client.query(render_sql("ingestion_offsets/forget.sql", settings, topic=topic)).result()
    except NotFound:
        pass  # a warehouse without the table has no offsets
