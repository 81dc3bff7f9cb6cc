"""One micro-batch: the consumed messages, their verdicts, the rows to load and the dead letters.

A batch is columnar from the start (lists of values, keys, partitions, offsets appended by the consumer loop),
so nothing per message happens in Python after consuming but Avro decoding: the values are classified on one
joined buffer (:mod:`.decode`), validated and enriched in DuckDB, and the Parquet file is written straight from
the enrichment query when the batch has no duplicate event_ids (:func:`.enrichment.enrich_batch`).

No message may stop a batch: when decoding, validating or enriching the whole batch raises anything but an
infrastructure error, the batch is split in halves and each half prepared again, down to the single messages that
fail; those become ``processing_error`` dead letters (the exception in the reason text) and the rest load as usual.
The fast path stays one pass over the whole batch; the bisection costs only when the code has a defect.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from game_analytics.config import load_settings
from game_analytics.events.reasons import Reason
from game_analytics.ingest.columns import int64_array, timestamp_ms_array
from game_analytics.ingest.decode import Rejection, decode_values, error_text, text_or_base64
from game_analytics.ingest.enrichment import enrich_batch
from game_analytics.ingest.schema_registry import SchemaRegistryUnavailable
from game_analytics.ingest.validate import check_batch
from game_analytics.schemas import SCHEMAS

# Failures of the machine, not of a message: they fail the run (nothing is committed, the batch is read again).
INFRASTRUCTURE_ERRORS = (
    MemoryError,
    OSError,
    SchemaRegistryUnavailable,
    duckdb.IOException,
    duckdb.OutOfMemoryException,
    duckdb.InterruptException,
    duckdb.FatalException,
    duckdb.InternalException,
    duckdb.ConnectionException,
)


@dataclass
class Messages:
    """Consumed messages of one topic, as parallel columns."""

    topic: str
    values: list[bytes | None] = field(default_factory=list)
    keys: list[bytes | None] = field(default_factory=list)
    partitions: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    # partition -> the offset after the last message consumed from it in this batch
    next_offsets: dict[int, int] = field(default_factory=dict)
    # when each message reached Kafka (ms since the epoch; None when the broker gives no timestamp)
    timestamps: list[int | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class DeadLetter:
    """One `events_dlq` row (and one message on the DLQ topic)."""

    key: bytes | None
    value: bytes | None
    reason: str
    reason_text: str
    topic: str
    partition: int
    offset: int
    # The day the dead letter counts against in the DLQ-share checks: its event's UTC day when the timestamp could
    # be read, else NULL (the checks then use the day it failed).
    event_date: date | None = None

    def row(self, failed_at: datetime) -> dict:
        raw, encoding = text_or_base64(self.value)
        key, _ = text_or_base64(self.key)
        return {
            "raw_value": raw,
            "raw_value_encoding": encoding,
            "message_key": key,
            "reason_code": self.reason,
            "reason_text": self.reason_text,
            "kafka_topic": self.topic,
            "kafka_partition": self.partition,
            "kafka_offset": self.offset,
            "failed_at": failed_at.isoformat(),
            "event_date": self.event_date.isoformat() if self.event_date else None,
        }


@dataclass
class PreparedBatch:
    """What the loader needs: a Parquet file of unique valid rows, the dead letters, the offsets to record."""

    ingested_at: datetime
    consumed: int
    valid: int  # valid messages, duplicates within the batch included
    rows: int  # unique event_ids among them = rows in the Parquet file
    parquet_path: str | None
    dates: list[date]
    dead_letters: list[DeadLetter]
    next_offsets: dict[int, int]
    max_event_timestamp: dict[int, datetime]
    avro: int

    @property
    def duplicates_in_batch(self) -> int:
        return self.valid - self.rows


def _columns(messages: Messages, positions: list[int] | None, schemas: Mapping[int, Any]):
    """Decode the messages at ``positions`` (None: all); (the validator's input table, the decoded result), with
    batch indices (``idx``, rejections) counted in the whole batch. A message rejected by decoding is a null ``v``."""
    values = messages.values if positions is None else [messages.values[i] for i in positions]
    decoded = decode_values(values, schemas)
    if positions is not None:
        decoded.rejections = [Rejection(positions[r.index], r.reason, r.text, r.event_date) for r in decoded.rejections]
    idx = int64_array(range(len(messages)) if positions is None else positions)

    def column(array: pa.Array) -> pa.Array:
        return array if positions is None else array.take(idx)

    batch_in = pa.table(
        {
            "idx": idx,
            "kafka_partition": column(int64_array(messages.partitions)),
            "kafka_offset": column(int64_array(messages.offsets)),
            "v": decoded.column,
            "received_at": column(timestamp_ms_array(messages.timestamps or [None] * len(messages))),
        }
    )
    return batch_in, decoded


def _prepare(
    con, messages, positions, ingested_at, retention, schemas, materialize=True
) -> tuple[list[Rejection], int]:
    """Table ``checked`` and view ``good`` for the messages at ``positions``; (decoding's rejections, Avro count)."""
    batch_in, decoded = _columns(messages, positions, schemas)
    check_batch(con, batch_in, decoded.framed, ingested_at, retention)
    enrich_batch(con, messages.topic, ingested_at, materialize)
    return decoded.rejections, decoded.avro


def _rows_and_file(con, workdir: str) -> tuple[int, list[date], str | None]:
    """(unique valid rows, their dates, the Parquet file of ``good`` in ``workdir``, None when there are no rows)."""
    sql = "SELECT count(*), list(DISTINCT event_date ORDER BY event_date) FROM good_keys"
    rows, dates = con.execute(sql).fetchone()
    if not rows:
        return rows, list(dates or []), None
    handle, path = tempfile.mkstemp(prefix="events-", suffix=".parquet", dir=workdir)  # one per batch in flight
    os.close(handle)
    try:
        con.execute(f"COPY good TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
    except BaseException:
        os.unlink(path)
        raise
    return rows, list(dates), path


def _isolate(con, messages, ingested_at, retention, schemas) -> tuple[list[Rejection], int]:
    """The bisection: ``checked`` of every message that can be prepared; the others as processing errors."""
    rejections: list[Rejection] = []
    avro = 0
    con.execute("DROP TABLE IF EXISTS checked_parts")
    parts = [list(range(len(messages)))]
    while parts:
        part = parts.pop()
        try:
            part_rejections, part_avro = _prepare(con, messages, part, ingested_at, retention, schemas)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a message makes the code raise, it must not stop the batch
            if len(part) == 1:
                text = f"preparing the message failed: {error_text(exc)}"
                rejections.append(Rejection(part[0], Reason.PROCESSING_ERROR, text))
            else:
                middle = len(part) // 2
                parts += [part[middle:], part[:middle]]  # the first half is prepared first
            continue
        rejections += part_rejections
        avro += part_avro
        con.execute("CREATE TEMP TABLE IF NOT EXISTS checked_parts AS FROM checked LIMIT 0")
        con.execute("INSERT INTO checked_parts FROM checked")
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'checked_parts'").fetchone()[0]:
        _prepare(con, messages, [], ingested_at, retention, schemas)  # every message failed: empty tables
        return rejections, avro
    con.execute("CREATE OR REPLACE TEMP TABLE checked AS FROM checked_parts ORDER BY idx")
    con.execute("DROP TABLE checked_parts")
    enrich_batch(con, messages.topic, ingested_at)  # each valid row was enriched once already: this cannot fail
    return rejections, avro


def prepare_batch(
    con,
    messages: Messages,
    ingested_at: datetime,
    workdir: str,
    schemas: Mapping[int, Any] = SCHEMAS,
    raw_topic_retention: timedelta | None = None,
) -> PreparedBatch:
    """Decode, validate and enrich ``messages``; writes a Parquet file in ``workdir`` when there are valid rows.

    ``raw_topic_retention`` bounds how old a message's Kafka timestamp may be (default: the setting
    ``GA_RAW_TOPIC_RETENTION_DAYS``). Raises only for infrastructure errors (:data:`INFRASTRUCTURE_ERRORS`).
    """
    if raw_topic_retention is None:
        raw_topic_retention = load_settings().raw_topic_retention
    try:  # the rows go from the query straight to the Parquet file
        rejections, avro = _prepare(con, messages, None, ingested_at, raw_topic_retention, schemas, False)
        rows, dates, path = _rows_and_file(con, workdir)
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - some message breaks the code: find it, dead-letter it, keep the rest
        rejections, avro = _isolate(con, messages, ingested_at, raw_topic_retention, schemas)
        rows, dates, path = _rows_and_file(con, workdir)
    rejections += [
        Rejection(idx, Reason(reason), text, event_date)
        for idx, reason, text, event_date in con.execute(
            "SELECT idx, reason, reason_text, event_date FROM checked WHERE reason IS NOT NULL ORDER BY idx"
        ).fetchall()
    ]
    dead = [
        DeadLetter(
            messages.keys[r.index],
            messages.values[r.index],
            str(r.reason),
            r.text,
            messages.topic,
            messages.partitions[r.index],
            messages.offsets[r.index],
            r.event_date,
        )
        for r in sorted(rejections, key=lambda r: r.index)
    ]
    max_ts = dict(con.execute('SELECT kafka_partition, max("timestamp") FROM good_keys GROUP BY ALL').fetchall())
    return PreparedBatch(
        ingested_at=ingested_at,
        consumed=len(messages),
        valid=len(messages) - len(dead),
        rows=rows,
        parquet_path=path,
        dates=dates,
        dead_letters=dead,
        next_offsets=dict(messages.next_offsets),
        max_event_timestamp=max_ts,
        avro=avro,
    )
