"""A sample of raw-topic messages for the ingestion tests, as large as a test needs on any date.

How many events a seed yields depends on the days generated (weekday activity, sessions), so a fixed
``players`` gave 831 messages on one date and more than 900 on another. ``at_least`` grows the player count
until the sample is big enough, whatever ``now`` is.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from game_analytics.producer import generate_events, make_messages, produce

SAMPLE_DAYS = 2


def sample_messages(now: datetime, seed: int, players: int, bad_rate: float, at_least: int = 0) -> tuple[list, date]:
    """Events of two full days that ended at least a day before ``now`` (so completeness can be decided), JSON and
    Avro mixed; at least ``at_least`` messages."""
    start = (now.astimezone(UTC) - timedelta(days=SAMPLE_DAYS + 1)).date()
    while True:
        events = generate_events(seed, start, SAMPLE_DAYS, players)
        messages = list(make_messages(events, "mixed", bad_rate, seed=seed, now=now))
        if len(messages) >= at_least:
            return messages, start
        players = math.ceil(players * max(1.2, 1.05 * at_least / max(len(messages), 1)))


def produce_sample(kafka_config, topic, seed=7, players=60, bad_rate=0.12, at_least=0) -> tuple[list, date]:
    """:func:`sample_messages` of the current time, sent to ``topic``."""
    messages, start = sample_messages(datetime.now(UTC), seed, players, bad_rate, at_least)
    produce(messages, {"bootstrap.servers": kafka_config["bootstrap.servers"]}, topic)
    return messages, start
