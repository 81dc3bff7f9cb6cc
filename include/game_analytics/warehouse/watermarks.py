"""Write ``ingestion_watermarks``: per (topic, partition), how far ingestion has read (see the events spec).

The statement is ``sql/ingestion_watermarks/upsert.sql``; the topic is inlined through its ``sql_string`` filter
(one MERGE for all partitions, no parameters, as the ingestion's other statements).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from game_analytics.config import Settings
from game_analytics.warehouse.sql_templates import render_sql


@dataclass(frozen=True)
class Watermark:
    topic: str
    partition: int
    caught_up_at: datetime
    max_event_timestamp: datetime | None
    committed_offset: int | None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def upsert_sql(settings: Settings, marks: Iterable[Watermark]) -> str:
    """One MERGE for all partitions; a watermark never moves backwards."""
    rows = [
        {
            "topic": m.topic,
            "partition": int(m.partition),
            "caught_up_at": _iso(m.caught_up_at),
            "max_event_timestamp": _iso(m.max_event_timestamp),
            "committed_offset": None if m.committed_offset is None else int(m.committed_offset),
        }
        for m in marks
    ]
    return render_sql("ingestion_watermarks/upsert.sql", settings, watermarks=rows)


def record_watermarks(client, settings: Settings, marks: list[Watermark]) -> None:
    if marks:
        client.query(upsert_sql(settings, marks)).result()
