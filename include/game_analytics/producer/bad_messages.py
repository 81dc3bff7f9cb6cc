"""Bad messages of every kind the ingestion must dead-letter, derived from valid events.

Each kind breaks exactly one rule of the contract, so the expected reason code is unambiguous: a planted
message may be rejected for its planted reason and no other. The randomness of a bad message is seeded from
the event id and the kind, so the same event always turns into the same bytes.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from game_analytics.events.avro import HEADER, confluent_header, encode_avro_body, encode_confluent_avro
from game_analytics.events.contract import EVENT_TYPES, MAX_MESSAGE_BYTES, REQUIRED_FIELDS, EventType
from game_analytics.events.reasons import Reason
from game_analytics.schemas import SCHEMAS

# The kinds the producer plants, each named by the reason code ingestion must give it.
BAD_KINDS: tuple[Reason, ...] = (
    Reason.MALFORMED_JSON,
    Reason.TRUNCATED_AVRO,
    Reason.UNKNOWN_SCHEMA_ID,
    Reason.MISSING_FIELD,
    Reason.WRONG_TYPE,
    Reason.UNKNOWN_EVENT_TYPE,
    Reason.TIMESTAMP_TOO_FAR_AHEAD,
    Reason.TIMESTAMP_TOO_OLD,
    Reason.OVERSIZE,
    Reason.INVALID_LEVEL_ID,
    Reason.INVALID_PRICE,
)
# Avro's schema cannot express a missing or mistyped field, and malformed JSON is JSON by definition.
JSON_ONLY = frozenset({Reason.MALFORMED_JSON, Reason.MISSING_FIELD, Reason.WRONG_TYPE})

Format = Literal["json", "avro"]
# Codes a buggy or future client might send: the unknown ones among them (so a new event type cannot make a planted
# `unknown_event_type` message valid).
_UNKNOWN_CODES = (0, 1004, 2002, 4001, 9999)


def encode_json(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def encode_event(event: Mapping[str, Any], fmt: Format) -> bytes:
    """A valid event's message value in the given wire format."""
    return encode_confluent_avro(event) if fmt == "avro" else encode_json(event)


def format_timestamp(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _new_id(rng: random.Random) -> str:
    # A fresh id, so a wrongly accepted bad message can never hide behind the dedup of its valid original.
    return f"bad-{rng.getrandbits(96):024x}"


def _broken_event(event: Mapping[str, Any], kind: Reason, rng: random.Random, now: datetime | None):
    """A copy of the event that breaks the contract the way ``kind`` says (or is intact for framing kinds)."""
    bad: dict[str, Any] = copy.deepcopy(dict(event))
    bad["event_id"] = _new_id(rng)
    if kind == Reason.MISSING_FIELD:
        del bad[rng.choice(tuple(REQUIRED_FIELDS))]
    elif kind == Reason.WRONG_TYPE:
        field = rng.choice(("event_type", "user_id", "event_id"))
        bad[field] = str(bad[field]) if field == "event_type" else rng.randrange(10**8, 10**9)
    elif kind == Reason.UNKNOWN_EVENT_TYPE:
        bad["event_type"] = rng.choice([code for code in _UNKNOWN_CODES if code not in EVENT_TYPES])
    elif kind in (Reason.TIMESTAMP_TOO_FAR_AHEAD, Reason.TIMESTAMP_TOO_OLD):
        if now is None:
            raise ValueError(f"{kind} needs `now` (the ingestion time the timestamp is relative to)")
        # Far past the limits (1 hour ahead / 30 days old), so a late consumer still sees them as bad.
        ahead = kind == Reason.TIMESTAMP_TOO_FAR_AHEAD
        days = rng.uniform(1, 7) if ahead else -rng.uniform(45, 400)
        bad["timestamp"] = format_timestamp(now + timedelta(days=days))
    elif kind == Reason.OVERSIZE:
        # A runaway debug dump: a stack trace repeated past the limit.
        lines = (rng.randrange(900) for _ in range(16))
        frames = "".join(f"at com.game.board.Match3Solver.cascade(Match3Solver.kt:{n})\n" for n in lines)
        trace = frames * (MAX_MESSAGE_BYTES // len(frames) + 2)
        bad["parameters"] = {**bad.get("parameters", {}), "debug_trace": trace}
    elif kind == Reason.INVALID_LEVEL_ID:
        level = EventType.LEVEL_START
        bad.update(event_type=int(level), event_name=level.event_name, parameters={"level_id": -rng.randint(1, 50)})
    elif kind == Reason.INVALID_PRICE:
        price = -rng.choice((0.99, 4.99, 9.99))
        bad.update(
            event_type=int(EventType.PURCHASE),
            event_name=EventType.PURCHASE.event_name,
            parameters={"product_id": "gems_small", "price_usd": price, "currency": "USD"},
        )
    return bad


def bad_message(event: Mapping[str, Any], kind: Reason, now: datetime | None = None, fmt: Format = "json") -> bytes:
    """The raw value of a message that ingestion must reject with reason ``kind``.

    ``fmt`` is the wire format where the kind allows both; JSON-only and Avro-only kinds ignore it. ``now``
    (the ingestion time) is needed by the timestamp kinds.
    """
    kind = Reason(kind)
    if kind not in BAD_KINDS:
        raise ValueError(f"cannot plant {kind!r}; plantable kinds: {[str(k) for k in BAD_KINDS]}")
    rng = random.Random(f"{event['event_id']}:{kind}")
    bad = _broken_event(event, kind, rng, now)
    if kind == Reason.MALFORMED_JSON:
        text = encode_json(bad)
        return text[: rng.randint(len(text) // 2, len(text) - 1)]  # an object without its end never parses
    if kind == Reason.TRUNCATED_AVRO:
        full = encode_confluent_avro(bad)
        return full[: rng.randint(HEADER.size, len(full) - 1)]  # header intact, record cut short
    if kind == Reason.UNKNOWN_SCHEMA_ID:
        schema_id = rng.choice([i for i in (2, 7, 42, 100_001) if i not in SCHEMAS])
        return confluent_header(schema_id) + encode_avro_body(bad)
    return encode_json(bad) if kind in JSON_ONLY else encode_event(bad, fmt)
