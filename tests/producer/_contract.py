"""An independent check of produced messages against the validation rules of shared spec game-events.md.

The contract's facts (codes, fields and their types, parameters, the size limit, the time window) come from
:mod:`game_analytics.events.contract` and the wire format from :mod:`game_analytics.events.avro`, their one home;
the rules are applied here in Python, independently of the batch validator's SQL and of the producer's code, so a
producer bug cannot hide behind itself: valid events must break no rule, and each planted bad message must break
exactly the rule it is planted for.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from game_analytics.events.avro import AvroDecodeError, decode_confluent_avro
from game_analytics.events.contract import (
    EVENT_NAMES,
    EVENT_TYPES,
    ID_FIELDS,
    ID_LENGTH,
    LEVEL_TYPES,
    MAX_AGE,
    MAX_AHEAD,
    MAX_MESSAGE_BYTES,
    NUMBER,
    OPTIONAL_STRINGS,
    PARAMETERS,
    PURCHASE_TYPES,
    REQUIRED_FIELDS,
    TIMESTAMP_PATTERN,
)
from game_analytics.events.reasons import Reason

TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def _is(value, kind) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def decode(value: bytes):
    """(event or None, decoding problem or None)."""
    if value.lstrip()[:1] == b"{":
        try:
            return json.loads(value), None
        except ValueError:
            return None, Reason.MALFORMED_JSON
    if value[:1] != b"\x00":
        return None, Reason.INVALID_ENCODING
    try:
        return decode_confluent_avro(value), None
    except AvroDecodeError as exc:
        return None, exc.reason


def event_violations(event, now: datetime | None) -> set[str]:
    """The rules a decoded event breaks (``now`` None skips the time-window rules)."""
    if not isinstance(event, dict):
        return {Reason.NOT_AN_OBJECT}
    found = set()
    shortest, longest = ID_LENGTH
    for field, kind in REQUIRED_FIELDS.items():
        if field not in event:
            found.add(Reason.MISSING_FIELD)
        elif not _is(event[field], kind) or (field in ID_FIELDS and not shortest <= len(event[field]) <= longest):
            found.add(Reason.WRONG_TYPE)
    code = event.get("event_type")
    if _is(code, int) and code not in EVENT_TYPES:
        found.add(Reason.UNKNOWN_EVENT_TYPE)
    ts = event.get("timestamp")
    if isinstance(ts, str) and TIMESTAMP.fullmatch(ts) and now is not None:
        parsed = datetime.fromisoformat(ts)
        if parsed > now + MAX_AHEAD:
            found.add(Reason.TIMESTAMP_TOO_FAR_AHEAD)
        if parsed < now - MAX_AGE:
            found.add(Reason.TIMESTAMP_TOO_OLD)
    elif isinstance(ts, str) and not TIMESTAMP.fullmatch(ts):
        found.add(Reason.INVALID_TIMESTAMP)
    params = event.get("parameters", {})
    if code in LEVEL_TYPES and not (_is(params.get("level_id"), int) and params["level_id"] >= 0):
        found.add(Reason.INVALID_LEVEL_ID)
    if code in PURCHASE_TYPES and not (_is(params.get("price_usd"), NUMBER) and params["price_usd"] >= 0):
        found.add(Reason.INVALID_PRICE)
    return found


def violations(value: bytes, now: datetime | None) -> set[str]:
    """Every rule a raw message value breaks."""
    found = {Reason.OVERSIZE} if len(value) > MAX_MESSAGE_BYTES else set()
    event, problem = decode(value)
    return found | ({problem} if problem else event_violations(event, now))


def strict_type_problems(event: dict) -> list[str]:
    """Type problems a well-behaved client never has (optional fields and parameters included)."""
    problems = [f"{k} is not a string" for k in OPTIONAL_STRINGS if k in event and not isinstance(event[k], str)]
    expected = PARAMETERS.get(event.get("event_type"), {})
    params = event.get("parameters", {})
    if not isinstance(params, dict):
        return [*problems, "parameters is not an object"]
    problems += [f"parameters.{k}: not {t}" for k, t in expected.items() if not _is(params.get(k), t)]
    if event.get("event_name") != EVENT_NAMES.get(event.get("event_type")):
        problems.append("event_name does not match event_type")
    return problems
