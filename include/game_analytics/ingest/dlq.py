"""The `game-events-dlq` topic: every rejected message, keyed as it came, with the reason in headers.

Ordering: dead letters are produced and flushed *before* the warehouse transaction of their batch, and a
failed flush fails the batch (nothing committed, the batch is re-read). So the topic is at-least-once: after
a crash between the flush and the transaction the same dead letter is sent again. Its headers carry the
original topic/partition/offset, which is the key to deduplicate on. The `events_dlq` table, written in the
batch's transaction, is the authoritative exactly-once record; the topic is a notification/replay feed.

A broker that went away fails the batch as soon as every bootstrap server has been reported down for
:data:`~game_analytics.ingest.consumer.BROKER_DOWN_GRACE`, with the error that names the servers and the
connection holding them, instead of after the whole flush timeout with a bare count.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from game_analytics.ingest.batch import DeadLetter
from game_analytics.kafka_connection import BrokerWatch, broker_unreachable

# Connection extras that matter to a producer (the shared connection also holds consumer settings).
_PRODUCER_PREFIXES = ("bootstrap.servers", "client.id", "security.protocol", "sasl.", "ssl.", "socket.")
_PRODUCER_CALLBACKS = ("error_cb", "oauth_cb", "log_cb", "throttle_cb")


class DeadLetterError(RuntimeError):
    """The DLQ topic did not acknowledge every dead letter of a batch."""


def producer_config(kafka_config: Mapping) -> dict:
    config = {k: v for k, v in kafka_config.items() if k.startswith(_PRODUCER_PREFIXES) or k in _PRODUCER_CALLBACKS}
    config.update({"acks": "all", "linger.ms": 5})
    return config


def headers(dead: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        ("dlq.reason", dead.reason.encode()),
        ("dlq.reason_text", dead.reason_text.encode()),
        ("dlq.original_topic", dead.topic.encode()),
        ("dlq.original_partition", str(dead.partition).encode()),
        ("dlq.original_offset", str(dead.offset).encode()),
    ]


class DeadLetterProducer:
    """``conn_id``: the Airflow connection ``kafka_config`` came from (named when the broker is unreachable)."""

    def __init__(self, kafka_config: Mapping, topic: str, conn_id: str):
        from confluent_kafka import Producer

        self.topic, self.conn_id, self._kafka_config = topic, conn_id, kafka_config
        self._watch = BrokerWatch(kafka_config)
        self._producer = Producer({**producer_config(kafka_config), "error_cb": self._watch})

    def send(self, dead_letters: Sequence[DeadLetter], timeout: float = 60.0) -> int:
        """Produce and flush all; raises :class:`DeadLetterError` unless the broker acknowledged each one, and
        :class:`~game_analytics.ingest.consumer.BrokerUnreachable` when no broker answers."""
        if not dead_letters:
            return 0
        failures: list = []
        started = time.monotonic()

        def on_delivery(err, _msg) -> None:
            if err is not None:
                failures.append(err)
            else:
                self._watch.alive()

        for dead in dead_letters:
            while True:
                try:
                    self._producer.produce(
                        self.topic, key=dead.key, value=dead.value, headers=headers(dead), on_delivery=on_delivery
                    )
                    break
                except BufferError:
                    self._producer.poll(0.1)
                    self._check_broker(started)
        deadline = time.monotonic() + timeout
        left = self._producer.flush(0)
        while left and time.monotonic() < deadline:
            left = self._producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
            self._check_broker(started)
        if failures or left:
            raise DeadLetterError(
                f"{len(failures)} of {len(dead_letters)} dead letters to {self.topic!r} failed, {left} unacknowledged"
                + (f"; first error: {failures[0]}" if failures else "")
            )
        return len(dead_letters)

    def _check_broker(self, since: float) -> None:
        if self._watch.given_up(since):
            raise broker_unreachable(self._kafka_config, self.conn_id, self._watch.detail())
