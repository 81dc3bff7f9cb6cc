"""An independent reading of the validation rules of shared spec game-events.md, for the producer's tests.

Written from the spec, not from the producer's code, so a producer bug cannot hide behind itself: valid events
must break no rule, and each planted bad message must break exactly the rule it is planted for.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta

import fastavro

from game_analytics.schemas import SCHEMAS

CODES = {1001: "level_start", 1002: "level_complete", 1003: "level_fail", 2001: "purchase"}
CODES |= {3001: "session_start", 3002: "session_end"}
LEVEL_CODES = {1001, 1002, 1003}
# ISO-8601 with an explicit offset or Z (the spec's only accepted form).
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PARAMETER_TYPES = {
    1001: {"level_id": int},
    1002: {"level_id": int, "moves_used": int, "time_seconds": int, "boosters_used": list, "score": int},
    1003: {"level_id": int, "moves_used": int, "time_seconds": int, "boosters_used": list},
    2001: {"product_id": str, "price_usd": (int, float), "currency": str},
    3001: {},
    3002: {"duration_sec": int},
}


def _is(value, kind) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def decode(value: bytes):
    """(event or None, decoding problem or None)."""
    if value.lstrip()[:1] == b"{":
        try:
            return json.loads(value), None
        except ValueError:
            return None, "malformed_json"
    if value[:1] != b"\x00":
        return None, "invalid_encoding"
    if len(value) < 5:
        return None, "truncated_avro"
    schema_id = int.from_bytes(value[1:5], "big")
    if schema_id not in SCHEMAS:
        return None, "unknown_schema_id"
    try:
        record = fastavro.schemaless_reader(io.BytesIO(value[5:]), SCHEMAS[schema_id], None)
    except EOFError:
        return None, "truncated_avro"
    event = {k: v for k, v in record.items() if v is not None and k != "parameters_json"}
    if record["parameters_json"] is not None:
        event["parameters"] = json.loads(record["parameters_json"])
    return event, None


def event_violations(event, now: datetime | None) -> set[str]:
    """The rules a decoded event breaks (``now`` None skips the time-window rules)."""
    if not isinstance(event, dict):
        return {"not_an_object"}
    found = set()
    for field, kind in (("event_id", str), ("user_id", str), ("event_type", int), ("timestamp", str)):
        if field not in event:
            found.add("missing_field")
        elif not _is(event[field], kind) or (kind is str and not 1 <= len(event[field]) <= 64):
            found.add("wrong_type")
    code = event.get("event_type")
    if _is(code, int) and code not in CODES:
        found.add("unknown_event_type")
    ts = event.get("timestamp")
    if isinstance(ts, str) and TIMESTAMP.match(ts) and now is not None:
        parsed = datetime.fromisoformat(ts)
        if parsed > now + timedelta(hours=1):
            found.add("timestamp_too_far_ahead")
        if parsed < now - timedelta(days=30):
            found.add("timestamp_too_old")
    elif isinstance(ts, str) and not TIMESTAMP.match(ts):
        found.add("invalid_timestamp")
    params = event.get("parameters", {})
    if code in LEVEL_CODES and not (_is(params.get("level_id"), int) and params["level_id"] >= 0):
        found.add("invalid_level_id")
    if code == 2001 and not (_is(params.get("price_usd"), (int, float)) and params["price_usd"] >= 0):
        found.add("invalid_price")
    return found


def violations(value: bytes, now: datetime | None) -> set[str]:
    """Every rule a raw message value breaks."""
    found = {"oversize"} if len(value) > 64 * 1024 else set()
    event, problem = decode(value)
    return found | ({problem} if problem else event_violations(event, now))


def strict_type_problems(event: dict) -> list[str]:
    """Type problems a well-behaved client never has (optional fields and parameters included)."""
    optional = "session_id event_name platform app_version country device_model ip_address".split()
    problems = [f"{k} is not a string" for k in optional if k in event and not isinstance(event[k], str)]
    expected = PARAMETER_TYPES.get(event.get("event_type"), {})
    params = event.get("parameters", {})
    if not isinstance(params, dict):
        return [*problems, "parameters is not an object"]
    problems += [f"parameters.{k}: not {t}" for k, t in expected.items() if not _is(params.get(k), t)]
    if event.get("event_name") != CODES.get(event.get("event_type")):
        problems.append("event_name does not match event_type")
    return problems
