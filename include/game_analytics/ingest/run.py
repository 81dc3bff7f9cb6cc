"""One ingestion run: bounded micro-batches until the topic is drained or the run's time is up.

Order of effects per batch (each step only after the previous one succeeded):

1. consume (bounded by messages and seconds); 2. decode, validate, enrich (DuckDB); 3. produce + flush dead
letters to the DLQ topic; 4. load staging tables; 5. ONE warehouse script: the batch's messages past the recorded
offsets appended to events and events_dlq, ingestion_offsets last (a transaction unless
``GA_INGEST_USE_TRANSACTION=false``, see loader.py); 6. commit the batch's end offsets to Kafka, synchronously.
Steps 3-5 run on a warehouse thread while the next batch goes through 1-2; step 6 waits for them. Only one batch is
in the warehouse at a time, so batches land in order.

A crash before 5 leaves nothing visible (the batch is re-read); the script of 5 runs whole on the warehouse once
sent, whatever happens to this process; a crash after 5 and before 6 is covered by starting from the warehouse
offsets; a repeat of any step changes nothing (only messages past the recorded offsets are appended, offsets only
move forward, the same verdict per message).

Shards: a run is ``shards`` processes (the DAG's mapped ``ingest`` tasks, on any workers), shard ``i`` reading the
partitions p with p % shards == i (consumer.py: shard_partitions). Everything above is per partition (start
offsets, the offset check, watermarks, lag), so the shards need no coordination, and changing ``shards`` between
runs moves partitions to other shards with their offsets: nothing is lost or read twice.

Test hook: ``GA_INGEST_CRASH_AT=<point>[@<n>]`` makes the process SIGKILL itself the n-th time (default the
first) it reaches ``point``: one of :data:`CRASH_POINTS`. Tests use it to prove the guarantee; it is inert
unless the variable is set.

Every attempt records itself in ``ingestion_runs`` (ingest/attempts.py), keyed by ``run_id`` (the Airflow run id
from the DAG), ``try_number`` and shard: each batch's script counts the batch in the row, the end marks it success
or failed, so the DLQ rate and events/s the health measurements read include what a failed or killed try committed.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from game_analytics.config import Settings
from game_analytics.crash_points import crash_point
from game_analytics.ingest.attempts import batch_row_sql, mark_progress, record_attempt, record_failure
from game_analytics.ingest.batch import PreparedBatch, prepare_batch
from game_analytics.ingest.consumer import Tracker, collect, open_consumer
from game_analytics.ingest.dlq import DeadLetterProducer
from game_analytics.ingest.loader import LoadResult, WarehouseLoader
from game_analytics.ingest.report import IngestionReport
from game_analytics.ingest.schema_registry import writer_schemas
from game_analytics.kafka_connection import consumer_group
from game_analytics.laps import Laps
from game_analytics.warehouse.watermarks import Watermark, record_watermarks

log = logging.getLogger(__name__)

CRASH_POINTS = ("mid_batch", "after_staging", "after_warehouse_commit", "during_kafka_commit", "after_kafka_commit")
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # caught_up_at of a partition that has not caught up yet


def _consumer_lag(consumer, tracker: Tracker) -> dict[int, int | None]:
    """Per partition: end offset - durable offset; the end is the larger of the fetch and ListOffsets views."""
    from confluent_kafka import KafkaException, TopicPartition

    lags: dict[int, int | None] = {}
    for p, state in tracker.partitions.items():
        tp = TopicPartition(tracker.topic, p)
        ends = []
        try:
            # The last fetch response's high watermark (local, exact); ask the broker only without one.
            ends.append(consumer.get_watermark_offsets(tp, cached=True)[1])
            if ends[-1] is None or ends[-1] < 0:
                ends.append(consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1])
        except KafkaException as exc:
            log.warning("watermark of partition %d unavailable: %s", p, exc)
        ends = [e for e in ends if e is not None and e >= 0]
        position = state.durable if state.durable is not None else state.position
        lags[p] = max(0, max(ends) - (position or 0)) if ends else None
    return lags


@dataclass
class _Written:
    """A batch handed to the warehouse thread, with the partitions that were at their end when it was read."""

    batch: PreparedBatch
    at_end: dict[int, datetime]
    result: Future  # of LoadResult


def _write(batch: PreparedBatch, loader: WarehouseLoader, dlq: DeadLetterProducer, report, started) -> LoadResult:
    """The warehouse thread's part of a batch: dead letters to the DLQ topic, staging load, the one script (which
    counts the batch in the attempt's row; ``report`` holds the batches before, all acknowledged)."""
    clock = Laps(report.timings)
    dlq.send(batch.dead_letters)
    clock.lap("dlq_topic")
    loader.stage(batch)
    if batch.parquet_path:
        os.unlink(batch.parquet_path)
    clock.lap("staging_load")
    crash_point("after_staging")
    result = loader.commit(batch, batch_row_sql(loader.settings, report, batch, started))
    clock.lap("transaction")
    return result


def _acknowledge(written: _Written | None, consumer, tracker: Tracker, report: IngestionReport) -> None:
    """Wait for the warehouse to take a batch, then mark it durable, commit its offsets to Kafka and count it."""
    from confluent_kafka import KafkaException, TopicPartition

    if written is None:
        return
    clock = Laps(report.timings)
    batch, result = written.batch, written.result.result()  # re-raises the warehouse thread's error
    clock.lap("wait_for_warehouse")
    tracker.batch_durable(batch.next_offsets, written.at_end)
    for p, ts in batch.max_event_timestamp.items():
        state = tracker.partitions[p]
        state.max_event_timestamp = max(ts, state.max_event_timestamp) if state.max_event_timestamp else ts
    crash_point("after_warehouse_commit")
    offsets = [TopicPartition(tracker.topic, p, o) for p, o in sorted(batch.next_offsets.items())]
    crash_point("during_kafka_commit", lambda: consumer.commit(offsets=offsets, asynchronous=True))
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        # Not fatal: the warehouse holds the offsets and the next run starts from them.
        log.warning("Kafka offset commit failed after the warehouse commit (next run uses the warehouse's): %s", exc)
    clock.lap("kafka_commit")
    crash_point("after_kafka_commit")
    report.batches += 1
    report.consumed += batch.consumed
    report.loaded += result.loaded
    report.dead_lettered += result.dead_lettered
    by_reason = Counter(report.dead_lettered_by_reason) + result.dead_lettered_by_reason
    report.dead_lettered_by_reason = dict(sorted(by_reason.items()))
    report.rejected += len(batch.dead_letters)
    report.already_stored += batch.valid - result.loaded
    report.already_dead_lettered += len(batch.dead_letters) - result.dead_lettered
    report.avro += batch.avro
    log.info(
        "batch %d: %d consumed, %d loaded (%d valid, %d in-batch duplicates), %d dead-lettered (%d invalid), "
        "dates %s",
        report.batches, batch.consumed, result.loaded, batch.valid, batch.duplicates_in_batch, result.dead_lettered,
        len(batch.dead_letters), [d.isoformat() for d in batch.dates],
    )  # fmt: skip


def run_ingestion(
    settings: Settings,
    kafka_config: dict,
    *,
    max_messages_per_batch: int,
    max_batch_seconds: float,
    max_run_seconds: float,
    group_id: str | None = None,
    client=None,
    run_id: str | None = None,
    shard: int = 0,
    shards: int = 1,
    try_number: int = 1,
) -> IngestionReport:
    """Drain ``settings.raw_topic`` (this shard's partitions) into the warehouse in bounded micro-batches, exactly
    once per Kafka message.

    ``kafka_config`` is the librdkafka config of the ``kafka_default`` connection; ``group_id`` overrides its
    ``group.id``. ``client`` is a BigQuery client (default: :func:`bigquery_client`). ``run_id`` keys the run's
    ``ingestion_runs`` row with ``try_number`` (the DAG passes Airflow's; default a new uuid, try 1). ``shard`` of
    ``shards``: read only the partitions p with p % shards == shard.
    """
    import duckdb

    from game_analytics.warehouse.client import bigquery_client

    started = time.monotonic()
    group = consumer_group(kafka_config, group_id)
    client = client or bigquery_client(settings)
    report = IngestionReport(
        topic=settings.raw_topic,
        consumer_group=group,
        run_id=run_id or uuid.uuid4().hex,
        shard=shard,
        shards=shards,
        try_number=try_number,
        started_at=datetime.now(UTC).isoformat(),
    )
    loader = WarehouseLoader(client, settings, settings.raw_topic, group)
    clock = Laps(report.timings)
    consumer, tracker = open_consumer(
        kafka_config, settings.raw_topic, group, loader.read_offsets(), settings.kafka_conn_id, shard, shards
    )
    dlq = DeadLetterProducer(kafka_config, settings.dlq_topic, settings.kafka_conn_id)
    schemas = writer_schemas(settings.schema_registry_url)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    clock.lap("setup")
    try:
        # One batch in the warehouse while the next is consumed and prepared: the warehouse thread mostly waits
        # on BigQuery (or the emulator, another process), so the two overlap. Batches still reach the warehouse
        # one at a time and in order, and Kafka offsets are committed in order, after their batch is durable.
        with (
            tempfile.TemporaryDirectory(prefix="ingest-") as workdir,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse") as warehouse,
        ):
            deadline = started + max_run_seconds
            written: _Written | None = None
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        report.stopped_because = "max_run_seconds"
                        break
                    clock.last = time.monotonic()
                    messages = collect(consumer, tracker, max_messages_per_batch, min(max_batch_seconds, remaining))
                    clock.lap("consume")
                    if len(messages):
                        at_end = tracker.end_snapshot()
                        crash_point("mid_batch")
                        batch = prepare_batch(
                            con, messages, datetime.now(UTC), workdir, schemas, settings.raw_topic_retention
                        )
                        clock.lap("prepare")
                        _acknowledge(written, consumer, tracker, report)
                        written = _Written(batch, at_end, warehouse.submit(_write, batch, loader, dlq, report, started))
                    else:
                        _acknowledge(written, consumer, tracker, report)
                        written = None
                        tracker.batch_durable({}, tracker.end_snapshot())
                    if tracker.all_at_end():
                        report.stopped_because = "caught_up"
                        break
            except BaseException as exc:
                # The warehouse thread may have failed too; its error would otherwise never be seen.
                failure = written.result.exception() if written is not None else None
                if failure is not None and failure is not exc:
                    log.error("the warehouse thread failed as well: %r", failure)
                raise
            _acknowledge(written, consumer, tracker, report)
        clock.last = time.monotonic()
        lags = _consumer_lag(consumer, tracker)
        clock.lap("lag")
        _record_watermarks(client, settings, tracker, lags, report)
        clock.lap("watermarks")
        loader.drop_staging()
        clock.lap("drop_staging")
    except BaseException as exc:
        mark_progress(report, started)
        record_failure(client, settings, report, exc)
        raise
    finally:
        consumer.close()
        con.close()
    mark_progress(report, started)
    record_attempt(client, settings, report, "success")
    log.info("ingestion run: %s", {k: v for k, v in report.to_dict().items() if k != "partitions"})
    return report


def _record_watermarks(client, settings: Settings, tracker: Tracker, lags: dict, report: IngestionReport) -> None:
    """One watermark row per partition of the topic, empty ones included (the daily sensor needs them all)."""
    marks = []
    for p, state in sorted(tracker.partitions.items()):
        committed = state.durable if state.durable is not None else state.position
        marks.append(Watermark(tracker.topic, p, state.caught_up_at or NEVER, state.max_event_timestamp, committed))
        report.partitions[str(p)] = {
            "next_offset": committed,
            "caught_up_at": state.caught_up_at.isoformat() if state.caught_up_at else None,
            "lag": lags.get(p),
        }
    record_watermarks(client, settings, marks)
    known = [lag for lag in lags.values() if lag is not None]
    report.consumer_lag = sum(known) if known else None
