"""The Kafka connection as every domain opens it: consumer settings, the consumer group, unreachable brokers.

The ingestion (ingest/) consumes the raw topic and produces dead letters; the health DAG (health/kafka_lag.py)
probes the topic's end offsets. Both connect the same way and fail the same way on a broker that can't be
reached (:class:`BrokerUnreachable`, naming the bootstrap servers and the Airflow connection that holds them), so
that lives here, below both: health/ imports nothing from the pipeline it watches. No Airflow import.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

DEFAULT_CONSUMER_GROUP = "game-events-ingest"
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


def consumer_group(kafka_config: dict, group_id: str | None = None) -> str:
    """The ingestion's consumer group: ``group_id``, else the connection's ``group.id``, else the default."""
    return group_id or kafka_config.get("group.id") or DEFAULT_CONSUMER_GROUP


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
