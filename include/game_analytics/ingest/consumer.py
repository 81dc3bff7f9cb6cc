"""The Kafka side: where to start each partition, bounded batch collection, end-of-partition tracking.

The consumer *assigns* its partitions itself instead of subscribing: every partition of the topic, or with shards
the fixed set its shard owns (:func:`shard_partitions`). A run's shards are the group's only consumers
(``max_active_runs=1``), so there is nothing to balance, and assignment skips the group join (about 3 s on Tansu,
23 s with default timeouts) and any rebalance in the middle of a batch. The group id is still used to commit
offsets (each shard its own partitions'), so lag tools show the group's progress.

Start position per partition = max(the group's committed offset, the warehouse's ``ingestion_offsets``). The
Kafka commit happens only after the warehouse transaction, so the warehouse is normally ahead or equal; it
wins after a crash between the two commits.

End of partition comes from librdkafka's ``_PARTITION_EOF`` events (``enable.partition.eof``): the fetch that
reported the partition's high watermark equal to our position. ``ListOffsets`` (``get_watermark_offsets``
with ``cached=False``) is not used for that: Tansu answers it with the last batch's *base* offset + 1, which
is short of the real end whenever the last produce request held several records.

A broker that cannot be reached fails the run early, with :class:`BrokerUnreachable` naming the bootstrap
servers tried and the setting that lists them: librdkafka reports "all brokers are down" within milliseconds of
a refused connection, and only says "Broker transport failure" once its metadata request times out (30 s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from game_analytics.ingest.batch import Messages

log = logging.getLogger(__name__)

CHUNK = 10_000  # messages per consume() call
CONSUMER_SETTINGS = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,
    # librdkafka waits fetch.queue.backoff.ms (default 1 s) before refilling a full pre-fetch queue.
    "fetch.queue.backoff.ms": 10,
    # End of partition is only reported by an empty fetch: do not let the broker hold one for 500 ms.
    "fetch.wait.max.ms": 100,
}


# How long every bootstrap server may be reported down (refused, unresolvable) before a run gives up on the broker;
# a broker that restarts within it is waited for. A server that does not answer at all is waited for up to
# METADATA_TIMEOUT.
BROKER_DOWN_GRACE = 5.0
METADATA_TIMEOUT = 30.0


class BrokerUnreachable(RuntimeError):
    """No Kafka broker answered at the configured bootstrap servers (an infrastructure failure: the run fails)."""


def broker_unreachable(kafka_config: Mapping, conn_id: str, detail: object) -> BrokerUnreachable:
    """The error that names the servers tried and where they are set (the Airflow connection's extra)."""
    servers = kafka_config.get("bootstrap.servers") or "(none: bootstrap.servers is not set)"
    return BrokerUnreachable(
        f"no Kafka broker reachable at bootstrap servers {servers} ({detail}); they are the 'bootstrap.servers' "
        f"of the Airflow connection {conn_id!r} (AIRFLOW_CONN_{conn_id.upper()}'s extra; GA_KAFKA_CONN_ID names "
        "the connection): check that the broker runs there"
    )


class BrokerWatch:
    """An ``error_cb`` that follows librdkafka's reports of unreachable brokers (and calls the config's own)."""

    def __init__(self, kafka_config: Mapping):
        self.chained = kafka_config.get("error_cb")
        self.down_since: float | None = None  # first "all brokers are down" report since the last sign of life
        self.last_error: str | None = None  # the latest failed connection attempt, and when
        self.last_error_at = float("-inf")

    def __call__(self, err) -> None:
        from confluent_kafka import KafkaError

        if err.code() == KafkaError._ALL_BROKERS_DOWN:
            self.down_since = self.down_since or time.monotonic()
        elif err.code() in (KafkaError._TRANSPORT, KafkaError._RESOLVE):
            self.last_error, self.last_error_at = err.str(), time.monotonic()
        if self.chained is not None:
            self.chained(err)

    def alive(self) -> None:
        """A broker answered (a delivery, metadata): earlier reports are over."""
        self.down_since = None

    def given_up(self, since: float) -> bool:
        """All brokers reported down for the grace period, and a connection attempt failed after ``since``."""
        if self.down_since is None or self.last_error_at < since:
            return False
        return time.monotonic() - self.down_since >= BROKER_DOWN_GRACE

    def detail(self) -> str:
        return f"every broker down for over {BROKER_DOWN_GRACE:g} s; last error: {self.last_error}"


def consumer_config(kafka_config: dict, group_id: str) -> dict:
    config = dict(kafka_config)
    config.setdefault("auto.offset.reset", "earliest")
    config.update(CONSUMER_SETTINGS)
    config["group.id"] = group_id
    return config


@dataclass
class PartitionState:
    start: int | None = None  # where this run started reading (None: the beginning of the partition)
    position: int | None = None  # next offset to read (consumed in this run, or start / end of partition)
    durable: int | None = None  # next offset the warehouse has taken
    eof_offset: int | None = None  # position at the latest end-of-partition event
    eof_at: datetime | None = None
    caught_up_at: datetime | None = None  # latest eof_at whose data is durable
    max_event_timestamp: datetime | None = None

    @property
    def at_end(self) -> bool:
        return self.eof_offset is not None and (self.position is None or self.eof_offset >= self.position)


@dataclass
class Tracker:
    topic: str
    partitions: dict[int, PartitionState] = field(default_factory=dict)

    def all_at_end(self) -> bool:
        return all(state.at_end for state in self.partitions.values())

    def end_snapshot(self) -> dict[int, datetime]:
        """Partitions at their end right now, with the time it was seen: caught up once the batch is durable."""
        return {p: s.eof_at for p, s in self.partitions.items() if s.at_end and s.eof_at is not None}

    def batch_durable(self, next_offsets: dict[int, int], snapshot: dict[int, datetime]) -> None:
        for p, offset in next_offsets.items():
            state = self.partitions[p]
            state.durable = max(offset, state.durable or 0)
        for p, seen in snapshot.items():
            state = self.partitions[p]
            state.caught_up_at = max(seen, state.caught_up_at) if state.caught_up_at else seen


def topic_partitions(consumer, watch: BrokerWatch, kafka_config: dict, topic: str, conn_id: str) -> list[int]:
    """Every partition of ``topic``, in order (the ingestion's consumer and the health DAG's lag probe ask so);
    :class:`BrokerUnreachable` once the brokers have been down for the grace period."""
    metadata = _topic_metadata(consumer, watch, kafka_config, topic, conn_id).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise RuntimeError(f"topic {topic!r} not found: {metadata.error if metadata else 'no metadata'}")
    return sorted(metadata.partitions)


def _topic_metadata(consumer, watch: BrokerWatch, kafka_config: dict, topic: str, conn_id: str):
    from confluent_kafka import KafkaError, KafkaException

    started = time.monotonic()
    deadline = started + METADATA_TIMEOUT
    while True:
        try:
            return consumer.list_topics(topic, timeout=min(1.0, max(0.1, deadline - time.monotonic())))
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._TRANSPORT:
                raise
            consumer.poll(0)  # serves error_cb: the reports of refused connections
            if watch.given_up(started):
                raise broker_unreachable(kafka_config, conn_id, watch.detail()) from exc
            if time.monotonic() >= deadline:
                last = watch.last_error or exc.args[0].str()
                detail = f"no metadata within {METADATA_TIMEOUT:g} s; last error: {last}"
                raise broker_unreachable(kafka_config, conn_id, detail) from exc


def shard_partitions(partitions: list[int], shard: int, shards: int) -> list[int]:
    """The partitions shard ``shard`` of ``shards`` owns: p % shards == shard. Fixed by the partition number alone,
    so shards never overlap, together own every partition, and a partition's owner changes only with ``shards``."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of the {shards} shards (0 .. {shards - 1})")
    return [p for p in partitions if p % shards == shard]


def open_consumer(
    kafka_config: dict,
    topic: str,
    group_id: str,
    warehouse_offsets: dict[int, int],
    conn_id: str,
    shard: int = 0,
    shards: int = 1,
):
    """A consumer assigned to the partitions of ``topic`` that ``shard`` owns, at their start positions, and the
    tracker.

    ``conn_id`` is the Airflow connection ``kafka_config`` came from: an unreachable broker's error names it.
    """
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

    watch = BrokerWatch(kafka_config)
    consumer = Consumer({**consumer_config(kafka_config, group_id), "error_cb": watch})
    try:
        partitions = shard_partitions(topic_partitions(consumer, watch, kafka_config, topic, conn_id), shard, shards)
    except BaseException:
        consumer.close()
        raise
    try:
        committed = {
            tp.partition: tp.offset
            for tp in consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=15)
            if tp.error is None and tp.offset >= 0
        }
    except KafkaException as exc:  # Tansu has been seen to time out here; the warehouse offsets suffice
        log.warning("could not read the group's committed offsets (%s); starting from the warehouse's", exc)
        committed = {}
    tracker = Tracker(topic)
    assignment = []
    for p in partitions:
        known = [o for o in (committed.get(p), warehouse_offsets.get(p)) if o is not None]
        start = max(known) if known else None
        if warehouse_offsets.get(p, -1) > committed.get(p, -1):
            log.info("partition %d: warehouse offset %d is ahead of the group's %s", p, warehouse_offsets[p],
                     committed.get(p))  # fmt: skip
        tracker.partitions[p] = PartitionState(start=start, position=start, durable=warehouse_offsets.get(p))
        assignment.append(TopicPartition(topic, p, OFFSET_BEGINNING if start is None else start))
    consumer.assign(assignment)
    log.info("assigned %s from %s", topic, {tp.partition: tp.offset for tp in assignment})
    return consumer, tracker


def collect(consumer, tracker: Tracker, max_messages: int, max_seconds: float) -> Messages:
    """Consume until ``max_messages``, ``max_seconds`` or every partition is at its end, whichever is first."""
    from confluent_kafka import KafkaError

    messages = Messages(tracker.topic)
    values, keys, parts, offsets = messages.values, messages.keys, messages.partitions, messages.offsets
    stamps = messages.timestamps
    deadline = time.monotonic() + max_seconds
    eof = KafkaError._PARTITION_EOF
    scanned = 0
    while len(values) < max_messages:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        chunk = consumer.consume(min(CHUNK, max_messages - len(values)), timeout=min(remaining, 0.5))
        if not chunk:
            if tracker.all_at_end():
                break
            continue
        # Column-wise comprehensions: about twice as fast as one loop of appends.
        errors = [m for m in chunk if m.error() is not None]
        if errors:
            for m in errors:
                _handle_error(m, tracker, eof)
            chunk = [m for m in chunk if m.error() is None]
        values += [m.value() for m in chunk]
        keys += [m.key() for m in chunk]
        parts += [m.partition() for m in chunk]
        offsets += [m.offset() for m in chunk]
        # (type, ms): type 0 is TIMESTAMP_NOT_AVAILABLE. The validator's time checks are relative to this.
        stamps += [t[1] if t[0] else None for t in (m.timestamp() for m in chunk)]
        scanned = _advance(tracker, messages, scanned)
        if tracker.all_at_end():
            break
    return messages


def _handle_error(m, tracker: Tracker, eof) -> None:
    from confluent_kafka import KafkaException

    err = m.error()
    if err.code() == eof:
        state = tracker.partitions[m.partition()]
        state.eof_offset, state.eof_at = m.offset(), datetime.now(UTC)
        if state.position is None:
            state.position = m.offset()
    elif err.fatal() or not err.retriable():
        raise KafkaException(err)
    else:
        log.warning("consumer error (retried by librdkafka): %s", err)


def _advance(tracker: Tracker, messages: Messages, scanned: int) -> int:
    """Move each partition's position past the messages collected since ``scanned``; returns the new mark."""
    next_offsets = messages.next_offsets
    for p, o in zip(messages.partitions[scanned:], messages.offsets[scanned:], strict=True):
        next_offsets[p] = o + 1
    for p, o in next_offsets.items():
        tracker.partitions[p].position = o
    return len(messages.offsets)
