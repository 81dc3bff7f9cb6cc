"""Events as Kafka messages: keyed by user, JSON or Avro, with a share of planted bad messages.

Bad messages come *in addition* to the valid ones (each derived from the event just before it), so the valid
messages always carry exactly the simulated events and metrics computed from them can be checked exactly.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from game_analytics.events.reasons import Reason
from game_analytics.producer.bad_messages import BAD_KINDS, Format, bad_message, encode_event

MessageFormat = Literal["json", "avro", "mixed"]


@dataclass(frozen=True, slots=True)
class ProducedMessage:
    """One Kafka message; ``event`` is the valid event it carries, None for a planted bad message."""

    key: bytes
    value: bytes
    planted_reason: Reason | None = None
    event: Mapping[str, Any] | None = None


def make_messages(
    events: Iterable[Mapping[str, Any]],
    fmt: MessageFormat = "json",
    bad_rate: float = 0.0,
    seed: int = 0,
    now: datetime | None = None,
) -> Iterator[ProducedMessage]:
    """One message per event, plus bad ones so that about ``bad_rate`` of all messages are bad.

    ``fmt="mixed"`` picks JSON or Avro per message. ``now`` is the ingestion time that planted too-old and
    too-far-ahead timestamps are relative to; it is required when ``bad_rate > 0``.
    """
    if fmt not in ("json", "avro", "mixed"):
        raise ValueError(f"fmt must be json, avro or mixed, not {fmt!r}")
    if not 0.0 <= bad_rate <= 0.5:
        raise ValueError(f"bad_rate must be within [0, 0.5], not {bad_rate}")
    if bad_rate and now is None:
        raise ValueError("planting bad messages needs `now`")
    rng = random.Random(f"{seed}:messages")
    # One extra bad message per valid one with probability r/(1-r) makes the bad share r overall.
    extra = bad_rate / (1 - bad_rate)

    def pick() -> Format:
        return rng.choice(("json", "avro")) if fmt == "mixed" else fmt

    for event in events:
        key = str(event["user_id"]).encode()
        yield ProducedMessage(key, encode_event(event, pick()), None, event)
        if extra and rng.random() < extra:
            kind = rng.choice(BAD_KINDS)
            yield ProducedMessage(key, bad_message(event, kind, now=now, fmt=pick()), kind, None)
