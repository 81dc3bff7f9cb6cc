"""The `game-events-dlq` topic: every rejected message, keyed as it came, with the reason in headers.

Ordering: dead letters are produced and flushed *before* the warehouse transaction of their batch, and a
failed flush fails the batch (nothing committed, the batch is re-read). So the topic is at-least-once: after
a crash between the flush and the transaction the same dead letter is sent again. Its headers carry the
original topic/partition/offset, which is the key to deduplicate on. The `events_dlq` table, written in the
batch's transaction, is the authoritative exactly-once record; the topic is a notification/replay feed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from game_analytics.ingest.batch import DeadLetter

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
    def __init__(self, kafka_config: Mapping, topic: str):
        from confluent_kafka import Producer

        self.topic = topic
        self._producer = Producer(producer_config(kafka_config))

    def send(self, dead_letters: Sequence[DeadLetter], timeout: float = 60.0) -> int:
        """Produce and flush all; raises :class:`DeadLetterError` unless the broker acknowledged each one."""
        if not dead_letters:
            return 0
        failures: list = []

        def on_delivery(err, _msg) -> None:
            if err is not None:
                failures.append(err)

        for dead in dead_letters:
            while True:
                try:
                    self._producer.produce(
                        self.topic, key=dead.key, value=dead.value, headers=headers(dead), on_delivery=on_delivery
                    )
                    break
                except BufferError:
                    self._producer.poll(0.1)
        left = self._producer.flush(timeout)
        if failures or left:
            raise DeadLetterError(
                f"{len(failures)} of {len(dead_letters)} dead letters to {self.topic!r} failed, {left} unacknowledged"
                + (f"; first error: {failures[0]}" if failures else "")
            )
        return len(dead_letters)
