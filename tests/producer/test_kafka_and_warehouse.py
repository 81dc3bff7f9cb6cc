"""Against the real local broker and BigQuery emulator: messages arrive as sent, loads are idempotent."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from game_analytics.events.avro import decode_confluent_avro
from game_analytics.events.enrich import EVENT_COLUMNS, enrich, load_rows
from game_analytics.producer import generate_events, make_messages, produce
from game_analytics.producer.__main__ import main as cli
from game_analytics.producer.kafka import ProduceError, kafka_config_from_env
from game_analytics.reference import lookup_device, region_for
from game_analytics.warehouse.schema import created_tables

pytestmark = pytest.mark.stack

START = date(2026, 11, 1)
NOW = datetime(2026, 11, 3, tzinfo=UTC)


@pytest.fixture
def bootstrap(local_stack) -> str:
    return json.loads(os.environ["AIRFLOW_CONN_KAFKA_DEFAULT"])["extra"]["bootstrap.servers"]


@pytest.fixture
def topic(bootstrap) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    name = f"producer-test-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the futures
    for future in admin.create_topics([NewTopic(name, 4, 1)]).values():
        future.result(timeout=10)
    return name


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list:
    """Read the topic from the start by assigning its partitions (no group join to wait for)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        got, deadline = [], time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                assert message.error() is None, message.error()
                got.append(message)
        return got
    finally:
        consumer.close()


def test_produced_messages_arrive_keyed_and_intact(bootstrap, topic):
    events = list(generate_events(5, START, 1, 40))
    sent = list(make_messages(events, "mixed", 0.05, seed=5, now=NOW))
    assert produce(sent, kafka_config_from_env(), topic) == len(sent)
    got = consume_all(bootstrap, topic, len(sent))
    assert len(got) == len(sent)
    assert Counter(m.key() for m in got) == Counter(m.key for m in sent)
    assert Counter(m.value() for m in got) == Counter(m.value for m in sent)
    # Keyed by user: all of a user's messages on one partition, in the order they were sent.
    partitions_by_user = {}
    for m in got:
        partitions_by_user.setdefault(m.key(), set()).add(m.partition())
    assert all(len(p) == 1 for p in partitions_by_user.values()) and len(partitions_by_user) > 1
    for key in partitions_by_user:
        assert [m.value() for m in got if m.key() == key] == [m.value for m in sent if m.key == key]
    avro = [m.value() for m in got if m.value()[:1] == b"\x00"]
    valid = {m.value: m.event for m in sent if m.event is not None}
    assert any(decode_confluent_avro(v) == valid[v] for v in avro if v in valid)


def test_produce_raises_when_the_broker_never_acknowledges():
    messages = list(make_messages(generate_events(5, START, 1, 10)))
    assert messages
    with pytest.raises(ProduceError, match="failed"):
        produce(messages, {"bootstrap.servers": "127.0.0.1:9", "message.timeout.ms": 1500}, "nowhere")


def _table_rows(client, settings) -> list[dict]:
    sql = f"""SELECT *, TO_JSON_STRING(parameters) AS params, EXTRACT(DAYOFWEEK FROM `timestamp`) AS bq_dow
              FROM {settings.table("events")} WHERE event_date >= '2000-01-01'"""
    return [dict(r) for r in client.query(sql).result()]


def test_load_rows_twice_stores_each_event_once_enriched(warehouse, settings):
    events = list(generate_events(9, START, 2, 25))
    ingested = datetime(2026, 11, 3, 1, 2, 3, tzinfo=UTC)
    rows = [enrich(e, ingested, None) for e in events]
    assert load_rows(warehouse, settings, rows) == len(events)
    assert load_rows(warehouse, settings, rows[: len(rows) // 2] + rows) == 0, "a repeat adds nothing"

    stored = _table_rows(warehouse, settings)
    assert len(stored) == len({r["event_id"] for r in stored}) == len(events)
    assert Counter(r["event_date"] for r in stored) == Counter(r["event_date"] for r in rows)
    assert set(Counter(r["event_date"] for r in stored)) == {date(2026, 11, 1), date(2026, 11, 2)}
    source = {e["event_id"]: e for e in events}
    for r in stored:
        e = source[r["event_id"]]
        assert r["timestamp"] == datetime.fromisoformat(e["timestamp"])
        assert (r["event_date"], r["event_hour"]) == (r["timestamp"].date(), r["timestamp"].hour)
        assert r["day_of_week"] == r["bq_dow"]
        assert (r["device_category"], r["device_tier"]) == lookup_device(e.get("device_model"))
        assert r["region"] == region_for(e.get("country"), e.get("ip_address"))
        assert json.loads(r["params"]) == e.get("parameters", {})
        assert r["kafka_topic"] is None and r["ingested_at"] == ingested
    # No staging table is left behind.
    names = {t.table_id for t in warehouse.list_tables(f"{settings.bq_project}.{settings.bq_dataset}")}
    assert names == {t.name for t in created_tables()}


def test_table_columns_are_the_enrichment_columns(warehouse, settings):
    table = warehouse.get_table(f"{settings.bq_project}.{settings.bq_dataset}.events")
    assert tuple(f.name for f in table.schema) == EVENT_COLUMNS


def test_cli_loads_valid_events_into_the_warehouse(warehouse, settings, monkeypatch, capsys):
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    argv = "--seed 4 --start-date 2026-11-01 --days 2 --players 15 --bad-rate 0.1 --to warehouse".split()
    assert cli(argv) == 0
    summary = json.loads(capsys.readouterr().err)
    assert summary["bad"] > 0 and summary["inserted"] == summary["valid"]
    expected = len(list(generate_events(4, START, 2, 15)))
    assert len(_table_rows(warehouse, settings)) == summary["valid"] == expected
