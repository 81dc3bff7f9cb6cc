"""The raw topic's end offsets per partition, as the broker knows them: the minuend of the ingestion's lag.

ListOffsets (``get_watermark_offsets(cached=False)``, ``AdminClient.list_offsets``) is not enough on Tansu, the
local broker: it answers with the last produce request's *base* offset + 1, short of the end whenever that request
held several records (see ingest/consumer.py). A fetch response carries the partition's exact high watermark, so
this module assigns every partition at the offset ListOffsets gave, polls until each one has answered a fetch
(a message or end of partition), and reads the watermarks librdkafka cached from those responses. It reads at most
the last produce request per partition, and commits nothing (its consumer never joins the ingestion's group).

An unreachable broker raises :class:`~game_analytics.kafka_connection.BrokerUnreachable` (the ingestion's too),
which names the bootstrap servers and the Airflow connection that holds them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

FETCH_TIMEOUT = 10.0  # seconds for every partition to answer a fetch


@dataclass(frozen=True)
class PartitionEnds:
    low: int  # the oldest offset the broker still holds
    high: int  # the offset the next produced message will get


def partition_ends(kafka_config: dict, topic: str, conn_id: str) -> dict[int, PartitionEnds]:
    """Partition -> its low and high watermark, for every partition of ``topic``."""
    from confluent_kafka import Consumer, TopicPartition

    from game_analytics.kafka_connection import BrokerWatch, consumer_config, consumer_group, topic_partitions

    watch = BrokerWatch(kafka_config)
    group = f"{consumer_group(kafka_config)}.health-probe"
    consumer = Consumer({**consumer_config(kafka_config, group), "error_cb": watch})
    try:
        partitions = topic_partitions(consumer, watch, kafka_config, topic, conn_id)
        listed = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=FETCH_TIMEOUT, cached=False)
            for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, max(listed[p][1] - 1, listed[p][0], 0)) for p in partitions])
        answered: set[int] = set()
        deadline = time.monotonic() + FETCH_TIMEOUT
        while len(answered) < len(partitions) and time.monotonic() < deadline:
            for message in consumer.consume(1000, timeout=0.2):
                answered.add(message.partition())
        ends = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), cached=True)
            listed_low, listed_high = listed[p]
            ends[p] = PartitionEnds(
                low=low if low is not None and low >= 0 else listed_low,
                high=max(h for h in (high, listed_high) if h is not None),
            )
        return ends
    finally:
        consumer.close()
