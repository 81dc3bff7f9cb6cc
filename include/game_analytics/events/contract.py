"""The event contract of ``shared/spec/game-events.md`` as data: the one home of its codes, fields and limits.

The producer writes events by it, the batch validator (DuckDB SQL) checks messages against it, and the tests
read it instead of restating it, so a change to the contract is one edit here. Plain Python only (no Airflow, no
pyarrow, no DuckDB): cheap to import from the runtime ingestion, the producer CLI and the tests alike. The wire
format (the Avro codec) is :mod:`game_analytics.events.avro`; the reason codes of rejected messages are
:mod:`game_analytics.events.reasons`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import IntEnum
from types import MappingProxyType


class EventType(IntEnum):
    """The ``event_type`` codes; the member name, lower-cased, is the spec's ``event_name``."""

    LEVEL_START = 1001
    LEVEL_COMPLETE = 1002
    LEVEL_FAIL = 1003
    PURCHASE = 2001
    SESSION_START = 3001
    SESSION_END = 3002

    @property
    def event_name(self) -> str:
        return self.name.lower()


EVENT_TYPES: tuple[EventType, ...] = tuple(EventType)
EVENT_NAMES: Mapping[int, str] = MappingProxyType({int(t): t.event_name for t in EventType})
# The families the validation rules name: level events need a level_id, purchases a price_usd.
LEVEL_TYPES = (EventType.LEVEL_START, EventType.LEVEL_COMPLETE, EventType.LEVEL_FAIL)
PURCHASE_TYPES = (EventType.PURCHASE,)
SESSION_TYPES = (EventType.SESSION_START, EventType.SESSION_END)

# Required fields and their JSON types (a rejection names the field); missing one is `missing_field`, another type
# `wrong_type`. The ids are strings of ID_LENGTH characters; the timestamp a string matching TIMESTAMP_PATTERN.
REQUIRED_FIELDS: Mapping[str, type] = MappingProxyType(
    {"event_id": str, "user_id": str, "event_type": int, "timestamp": str}
)
ID_FIELDS = ("event_id", "user_id")
ID_LENGTH = (1, 64)  # inclusive bounds, in characters
# ISO-8601 with seconds and an explicit offset or Z, the only form the spec accepts (match it whole).
TIMESTAMP_PATTERN = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
# Optional fields are strings; another type is kept as NULL, never a rejection. `parameters` is an optional JSON
# object (absent: {}).
OPTIONAL_STRINGS = ("session_id", "event_name", "platform", "app_version", "country", "device_model", "ip_address")

# The parameters each type carries, as the JSON types a well-behaved client sends them in (a number is an int or a
# float, an array of strings a list). Only level_id and price_usd are rules (see LEVEL_TYPES, PURCHASE_TYPES); a
# wrongly typed optional parameter is NULL in the metrics, and unknown keys are kept.
NUMBER = (int, float)
PARAMETERS: Mapping[EventType, Mapping[str, type | tuple[type, ...]]] = MappingProxyType(
    {
        EventType.LEVEL_START: {"level_id": int},
        EventType.LEVEL_COMPLETE: {
            "level_id": int, "moves_used": int, "time_seconds": int, "boosters_used": list, "score": int,
        },
        EventType.LEVEL_FAIL: {"level_id": int, "moves_used": int, "time_seconds": int, "boosters_used": list},
        EventType.PURCHASE: {"product_id": str, "price_usd": NUMBER, "currency": str},
        EventType.SESSION_START: {},
        EventType.SESSION_END: {"duration_sec": int},
    }
)  # fmt: skip

MAX_MESSAGE_BYTES = 64 * 1024  # a larger message value is `oversize`

# The time window, relative to when a message was ingested: at most MAX_AHEAD ahead, at most MAX_AGE old.
MAX_AHEAD = timedelta(hours=1)
MAX_AGE = timedelta(days=30)
# How long `game-events-raw` keeps a message (a topic fact of the spec; the default of GA_RAW_TOPIC_RETENTION_DAYS).
RAW_TOPIC_RETENTION = timedelta(days=7)


def sql_interval(span: timedelta) -> str:
    """``span`` as what follows ``INTERVAL`` in SQL (``30 DAY``, ``1 HOUR``), the same in BigQuery and DuckDB.

    The largest unit that divides it evenly, so the text also reads well in a reason text.
    """
    for unit, size in (("DAY", timedelta(days=1)), ("HOUR", timedelta(hours=1)), ("MINUTE", timedelta(minutes=1))):
        if span % size == timedelta(0):
            return f"{span // size} {unit}"
    if span % timedelta(seconds=1):
        raise ValueError(f"{span!r} is not a whole number of seconds; SQL intervals here are")
    return f"{span // timedelta(seconds=1)} SECOND"


MAX_AHEAD_SQL = sql_interval(MAX_AHEAD)  # "1 HOUR"
MAX_AGE_SQL = sql_interval(MAX_AGE)  # "30 DAY"


def sql_codes(codes: tuple[int, ...]) -> str:
    """An SQL list of event codes, ``(1001, 1002, 1003)``, for ``IN``."""
    return "(" + ", ".join(str(int(code)) for code in codes) + ")"
