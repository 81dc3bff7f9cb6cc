"""Send produced messages to Kafka, all-or-error, optionally as a paced live trickle."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping

from game_analytics.producer.messages import ProducedMessage

# Connection extras that matter to a producer; consumer settings in the shared connection (group.id, ...)
# would only make librdkafka warn.
_PRODUCER_KEYS = ("bootstrap.servers", "client.id", "security.protocol", "sasl.", "ssl.", "socket.")


class ProduceError(RuntimeError):
    """Some messages were not acknowledged by the broker."""


def kafka_config_from_env(conn_id: str = "kafka_default", environ: Mapping[str, str] | None = None) -> dict:
    """Producer settings from the Airflow connection ``AIRFLOW_CONN_<CONN_ID>`` (its JSON form)."""
    env = os.environ if environ is None else environ
    var = f"AIRFLOW_CONN_{conn_id.upper()}"
    if var not in env:
        raise KeyError(f"{var} is not set; pass the broker address explicitly instead")
    try:
        extra = json.loads(env[var]).get("extra", {})
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{var} is not a JSON connection with an `extra` object") from exc
    if isinstance(extra, str):
        extra = json.loads(extra)
    config = {k: v for k, v in extra.items() if k.startswith(_PRODUCER_KEYS)}
    if "bootstrap.servers" not in config:
        raise ValueError(f"{var} has no extra['bootstrap.servers']")
    return config


def produce(
    messages: Iterable[ProducedMessage],
    kafka: str | Mapping[str, str],
    topic: str,
    *,
    linger_ms: int = 5,
    compression: str = "lz4",
    events_per_second: float = 0.0,
    flush_timeout: float = 60.0,
) -> int:
    """Send every message, keyed by user so a user's events stay in order on one partition; returns the count.

    ``kafka`` is a bootstrap-servers string or a librdkafka config. ``events_per_second > 0`` paces sending
    for a live demo. Raises :class:`ProduceError` unless the broker acknowledged every message.
    """
    from confluent_kafka import Producer

    config = {"bootstrap.servers": kafka} if isinstance(kafka, str) else dict(kafka)
    config.setdefault("linger.ms", linger_ms)
    config.setdefault("compression.type", compression)
    producer = Producer(config)
    failures: list = []

    def on_delivery(err, _msg) -> None:
        if err is not None:
            failures.append(err)

    started, count = time.monotonic(), 0
    for message in messages:
        if events_per_second > 0:
            # Serve delivery callbacks while waiting for this message's slot.
            while (delay := started + count / events_per_second - time.monotonic()) > 0:
                producer.poll(delay)
        while True:
            try:
                producer.produce(topic, key=message.key, value=message.value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let librdkafka send some first
                producer.poll(0.1)
        producer.poll(0)
        count += 1
    undelivered = producer.flush(flush_timeout)
    if failures or undelivered:
        first = f"; first error: {failures[0]}" if failures else ""
        raise ProduceError(
            f"{len(failures)} of {count} messages to {topic!r} failed, {undelivered} unacknowledged{first}"
        )
    return count
