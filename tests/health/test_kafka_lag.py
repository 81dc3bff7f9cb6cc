"""The ingestion's lag per raw-topic partition against the real broker: the broker's end offsets minus what the
ingestion's consumer group has taken into the warehouse (``ingestion_offsets``), in messages and in seconds since
the partition last caught up. Messages are produced in one request per partition, the case where the broker's
ListOffsets answer falls short of the end (see health/kafka_lag.py)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from game_analytics.health.measure import measure
from game_analytics.health.metrics import METRICS
from game_analytics.ingest.consumer import BrokerUnreachable
from game_analytics.localstack.servers import free_port
from tests.health.conftest import FIXED
from tests.health.rows import by_subject, naive
from tests.sql.rows import Warehouse

pytestmark = pytest.mark.stack
GROUP = "ingest-o'brien"  # a quote in the name, as the SQL must handle


def produce(kafka_config: dict, topic: str, per_partition: dict[int, int]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": kafka_config["bootstrap.servers"], "linger.ms": 200})
    for partition, count in per_partition.items():
        for n in range(count):
            producer.produce(topic, value=b"x%d" % n, partition=partition)
    assert producer.flush(30) == 0


def test_lag_in_messages_and_seconds_per_partition(warehouse, ingest_settings, kafka_config):
    settings = ingest_settings
    produce(kafka_config, settings.raw_topic, {0: 50, 1: 10, 2: 0, 3: 5})
    wh = Warehouse(warehouse, settings)
    updated = naive(FIXED)
    wh.insert(
        "ingestion_offsets",
        [
            {"topic": settings.raw_topic, "partition": 0, "consumer_group": GROUP, "next_offset": 20,
             "updated_at": updated},
            {"topic": settings.raw_topic, "partition": 1, "consumer_group": GROUP, "next_offset": 10,
             "updated_at": updated},
            # Another group's progress does not count.
            {"topic": settings.raw_topic, "partition": 3, "consumer_group": "other", "next_offset": 5,
             "updated_at": updated},
        ],
    )  # fmt: skip
    wh.insert(
        "ingestion_watermarks",
        [
            {"topic": settings.raw_topic, "partition": 0, "caught_up_at": naive(FIXED - timedelta(seconds=120)),
             "updated_at": updated},
            {"topic": settings.raw_topic, "partition": 1, "caught_up_at": naive(FIXED - timedelta(seconds=60)),
             "updated_at": updated},
        ],
    )  # fmt: skip

    measured = measure(warehouse, settings, FIXED, {**kafka_config, "group.id": GROUP})
    # Partition 3: nothing taken by this group, so all 5 messages wait; it never caught up, so no age.
    assert by_subject(measured, "kafka_lag_messages") == {"0": 30, "1": 0, "2": 0, "3": 5}
    assert by_subject(measured, "kafka_lag_seconds") == {"0": 120, "1": 0, "2": 0}
    assert {m.metric for m in measured} >= set(METRICS) - {"daily_metrics_late_seconds", "failed_checks",
                                                            "warned_checks"}  # fmt: skip
    assert not {m.metric for m in measure(warehouse, settings, FIXED)} & {"kafka_lag_messages", "kafka_lag_seconds"}


def test_an_unreachable_broker_names_the_servers_and_the_connection(warehouse, settings):
    nowhere = f"127.0.0.1:{free_port()}"
    settings = dataclasses.replace(settings, kafka_conn_id="kafka_default")
    with pytest.raises(BrokerUnreachable) as err:
        measure(warehouse, settings, FIXED, {"bootstrap.servers": nowhere, "group.id": GROUP})
    assert nowhere in str(err.value) and "'kafka_default'" in str(err.value)
