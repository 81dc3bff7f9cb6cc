"""Write ``ingestion_watermarks``: per (topic, partition), how far ingestion has read (see the events spec)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from game_analytics.config import Settings


@dataclass(frozen=True)
class Watermark:
    topic: str
    partition: int
    caught_up_at: datetime
    max_event_timestamp: datetime | None
    committed_offset: int | None


def _ts(value: datetime | None) -> str:
    return "NULL" if value is None else f"TIMESTAMP '{value.isoformat()}'"


def upsert_sql(settings: Settings, marks: Iterable[Watermark]) -> str:
    """One MERGE for all partitions; a watermark never moves backwards."""
    rows = " UNION ALL ".join(
        f"SELECT '{m.topic}' AS topic, {m.partition} AS `partition`, {_ts(m.caught_up_at)} AS caught_up_at, "
        f"{_ts(m.max_event_timestamp)} AS max_event_timestamp, "
        f"{'NULL' if m.committed_offset is None else m.committed_offset} AS committed_offset"
        for m in marks
    )
    return f"""
MERGE {settings.table("ingestion_watermarks")} AS t
USING ({rows}) AS s
ON t.topic = s.topic AND t.`partition` = s.`partition`
WHEN MATCHED THEN UPDATE SET
    caught_up_at = GREATEST(COALESCE(t.caught_up_at, s.caught_up_at), s.caught_up_at),
    max_event_timestamp = GREATEST(
        COALESCE(t.max_event_timestamp, s.max_event_timestamp), COALESCE(s.max_event_timestamp, t.max_event_timestamp)),
    committed_offset = GREATEST(COALESCE(t.committed_offset, s.committed_offset), COALESCE(s.committed_offset, -1)),
    updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (topic, `partition`, caught_up_at, max_event_timestamp, committed_offset, updated_at)
    VALUES (s.topic, s.`partition`, s.caught_up_at, s.max_event_timestamp, s.committed_offset, CURRENT_TIMESTAMP())
"""


def record_watermarks(client, settings: Settings, marks: list[Watermark]) -> None:
    if marks:
        client.query(upsert_sql(settings, marks)).result()
