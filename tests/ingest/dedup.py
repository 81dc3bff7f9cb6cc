"""The daily de-duplication of `events`, run by the ingestion tests as the daily DAG's sensor runs it once day D is
complete, before anything reads D: the ingestion appends each Kafka message once, and an event_id sent twice is two
rows until then."""

from __future__ import annotations

from datetime import date

from game_analytics.daily.completeness import deduplicate_day


def deduplicate_days(client, settings, *days: date) -> None:
    """De-duplicate each of ``days``, in order (as daily runs would)."""
    for day in days:
        deduplicate_day(client, settings, day)
