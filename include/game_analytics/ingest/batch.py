"""One micro-batch: the consumed messages, their verdicts, the rows to load and the dead letters.

A batch is columnar from the start (lists of values, keys, partitions, offsets appended by the consumer loop),
so nothing per message happens in Python after consuming except the first-byte check and Avro decoding.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from game_analytics.events.reasons import Reason
from game_analytics.ingest.columns import int64_array, timestamp_ms_array
from game_analytics.ingest.decode import Rejection, decode_values, text_or_base64
from game_analytics.ingest.validate import validate_batch
from game_analytics.schemas import SCHEMAS


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


def prepare_batch(
    con, messages: Messages, ingested_at: datetime, workdir: str, schemas: Mapping[int, Any] = SCHEMAS
) -> PreparedBatch:
    """Decode, validate and enrich ``messages``; writes a Parquet file in ``workdir`` when there are valid rows."""
    decoded = decode_values(messages.values, schemas)
    kept = int64_array(decoded.kept)
    everything = len(decoded.kept) == len(messages)

    def column(array: pa.Array) -> pa.Array:
        return array if everything else array.take(kept)

    batch_in = pa.table(
        {
            "idx": kept,
            "kafka_partition": column(int64_array(messages.partitions)),
            "kafka_offset": column(int64_array(messages.offsets)),
            "v": decoded.texts,
            "received_at": column(timestamp_ms_array(messages.timestamps or [None] * len(messages))),
        }
    )
    validate_batch(con, batch_in, messages.topic, ingested_at)
    rejections = list(decoded.rejections)
    rejections += [
        Rejection(idx, Reason(reason), text)
        for idx, reason, text in con.execute(
            "SELECT idx, reason, reason_text FROM checked WHERE reason IS NOT NULL ORDER BY idx"
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
        )
        for r in sorted(rejections, key=lambda r: r.index)
    ]
    rows, dates = con.execute("SELECT count(*), list(DISTINCT event_date ORDER BY event_date) FROM good").fetchone()
    path = None
    if rows:
        handle, path = tempfile.mkstemp(prefix="events-", suffix=".parquet", dir=workdir)  # one per batch in flight
        os.close(handle)
        con.execute(f"COPY good TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
    max_ts = dict(con.execute('SELECT kafka_partition, max("timestamp") FROM good GROUP BY ALL').fetchall())
    return PreparedBatch(
        ingested_at=ingested_at,
        consumed=len(messages),
        valid=len(messages) - len(dead),
        rows=rows,
        parquet_path=path,
        dates=list(dates or []),
        dead_letters=dead,
        next_offsets=dict(messages.next_offsets),
        max_event_timestamp=max_ts,
        avro=decoded.avro,
    )
