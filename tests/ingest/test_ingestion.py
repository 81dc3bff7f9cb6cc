"""Against the real broker and emulator: exact counts, dead letters, replay, mixed formats, watermarks."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.daily.completeness import fetch_status
from game_analytics.ingest import run_ingestion
from game_analytics.producer import BAD_KINDS
from game_analytics.warehouse.client import query_rows
from tests.ingest.live_counts import counts_from_events, live_counts
from tests.ingest.sample import produce_sample

pytestmark = pytest.mark.stack

BOUNDS = {"max_messages_per_batch": 400, "max_batch_seconds": 10, "max_run_seconds": 90}


def stored(client, settings):
    events = query_rows(
        client,
        f"SELECT event_id, event_date, kafka_partition, kafka_offset FROM {settings.table('events')} "
        "WHERE event_date >= '2000-01-01'",
    )
    dlq = query_rows(client, f"SELECT reason_code, kafka_partition, kafka_offset FROM {settings.table('events_dlq')}")
    return events, dlq


def dlq_topic_messages(kafka_config, topic, expected, timeout=20.0):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": kafka_config["bootstrap.servers"], "group.id": uuid.uuid4().hex})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        got, deadline = [], time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            got += [m for m in consumer.consume(500, timeout=0.5) if m.error() is None]
        return got
    finally:
        consumer.close()


def test_exact_counts_dead_letters_replay_and_watermarks(ingest_settings, warehouse, kafka_config):
    # The production path: each batch in one BEGIN/COMMIT TRANSACTION (the local stack turns it off for speed; the
    # crash test covers that path).
    settings = dataclasses.replace(ingest_settings, ingest_use_transaction=True)
    messages, start = produce_sample(kafka_config, settings.raw_topic)
    bad = [m for m in messages if m.planted_reason]
    good = [m for m in messages if m.event]
    assert {m.planted_reason for m in bad} == set(BAD_KINDS), "the sample must plant every kind"
    assert {m.value[:1] for m in good} == {b"{", b"\x00"}, "JSON and Avro in one topic"

    report = run_ingestion(settings, kafka_config, group_id="ingest-a", **BOUNDS)
    assert report.batches > 1 and report.stopped_because == "caught_up"
    assert report.consumed == len(messages)
    assert (report.loaded, report.dead_lettered) == (len(good), len(bad))
    assert (report.already_stored, report.already_dead_lettered) == (0, 0)
    assert report.consumed == report.loaded + report.dead_lettered  # nothing was there before
    assert report.avro > 0 and report.consumer_lag == 0

    events, dlq = stored(warehouse, settings)
    assert len(events) == len({e["event_id"] for e in events}) == len(good)
    expected_days = Counter(datetime.fromisoformat(m.event["timestamp"]).astimezone(UTC).date() for m in good)
    assert Counter(e["event_date"] for e in events) == expected_days
    assert set(expected_days) == {start, start + timedelta(days=1)}
    assert Counter(r["reason_code"] for r in dlq) == Counter(str(m.planted_reason) for m in bad)
    assert len({(r["kafka_partition"], r["kafka_offset"]) for r in dlq}) == len(bad)
    # Live counts: what the batches added equals a grouping of what reached `events`.
    live = live_counts(warehouse, settings)
    assert live == counts_from_events(warehouse, settings)
    assert sum(events for events, _, _ in live.values()) == len(good)

    # The DLQ topic got every rejected message, keyed as it came, with the reason in its headers.
    dead = dlq_topic_messages(kafka_config, settings.dlq_topic, len(bad))
    assert Counter(dict(m.headers())["dlq.reason"].decode() for m in dead) == Counter(
        str(m.planted_reason) for m in bad
    )
    assert Counter(m.key() for m in dead) == Counter(m.key for m in bad)

    # Watermarks: a row per partition of the topic, caught up now; the daily sensor sees both days complete.
    marks = query_rows(warehouse, f"SELECT * FROM {settings.table('ingestion_watermarks')}")
    assert sorted(m["partition"] for m in marks) == [0, 1, 2, 3]
    assert all(m["caught_up_at"] > datetime.now(UTC) - timedelta(minutes=5) for m in marks)
    assert sum(m["committed_offset"] for m in marks) == len(messages)
    for day in expected_days:
        status = fetch_status(warehouse, settings, day)
        assert status.complete, status.reason
    first_caught_up = {m["partition"]: m["caught_up_at"] for m in marks}

    # Same group again: nothing new to read, but the watermark advances.
    again = run_ingestion(settings, kafka_config, group_id="ingest-a", **BOUNDS)
    assert (again.consumed, again.loaded, again.stopped_because) == (0, 0, "caught_up")
    marks = query_rows(warehouse, f"SELECT * FROM {settings.table('ingestion_watermarks')}")
    assert all(m["caught_up_at"] > first_caught_up[m["partition"]] for m in marks)

    # Replay with a new group (offsets from the start): every event already stored, every dead letter kept.
    replay = run_ingestion(settings, kafka_config, group_id="ingest-replay", **BOUNDS)
    assert replay.consumed == len(messages)
    assert (replay.loaded, replay.dead_lettered) == (0, 0)
    assert (replay.already_stored, replay.already_dead_lettered) == (len(good), len(bad))
    assert [len(x) for x in stored(warehouse, settings)] == [len(good), len(bad)]
    assert live_counts(warehouse, settings) == live  # the replay counted nothing again


def test_offsets_in_the_warehouse_win_over_the_group(ingest_settings, warehouse, kafka_config):
    """A group whose Kafka offsets were lost (or never committed) resumes from the warehouse's offsets."""
    settings = ingest_settings
    messages, _ = produce_sample(kafka_config, settings.raw_topic, seed=8, players=15, bad_rate=0.05)
    first = run_ingestion(settings, kafka_config, group_id="g1", **BOUNDS)
    assert first.consumed == len(messages)
    # Move the rows' offsets to another group name: its Kafka offsets are empty, the warehouse's are full.
    warehouse.query(
        f"UPDATE {settings.table('ingestion_offsets')} SET consumer_group = 'g2' WHERE consumer_group = 'g1'"
    ).result()
    second = run_ingestion(settings, kafka_config, group_id="g2", **BOUNDS)
    assert second.consumed == 0


def test_consumer_group_names_with_a_quote_and_a_backslash(ingest_settings, warehouse, kafka_config):
    """Kafka allows any consumer-group name (a topic name only [a-zA-Z0-9._-]; tests/daily/test_completeness.py
    covers a quoted topic setting): the offsets MERGE and the read that resumes a run must quote it."""
    from game_analytics.warehouse.sql_templates import sql_string

    settings = ingest_settings
    messages, _ = produce_sample(kafka_config, settings.raw_topic, seed=9, players=15, bad_rate=0.05)
    group = "ingest-o'brien\\x"
    first = run_ingestion(settings, kafka_config, group_id=group, **BOUNDS)
    assert (first.consumed, first.loaded + first.dead_lettered) == (len(messages), len(messages))
    offsets = query_rows(warehouse, f"SELECT consumer_group, next_offset FROM {settings.table('ingestion_offsets')}")
    assert {r["consumer_group"] for r in offsets} == {group}
    assert sum(r["next_offset"] for r in offsets) == len(messages)

    # Another quoted name whose Kafka offsets are empty: only the warehouse's offsets, read by that name, stop it
    # from reading the topic again.
    other = "ingest-\\'o\"brien"
    warehouse.query(
        f"UPDATE {settings.table('ingestion_offsets')} SET consumer_group = {sql_string(other)} "
        f"WHERE consumer_group = {sql_string(group)}"
    ).result()
    again = run_ingestion(settings, kafka_config, group_id=other, **BOUNDS)
    assert (again.consumer_group, again.consumed, again.stopped_because) == (other, 0, "caught_up")


def test_settings_bounds_exist():
    from game_analytics.config import Settings

    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {"ingest_max_batch_messages", "ingest_max_batch_seconds", "ingest_max_run_seconds"} <= fields
