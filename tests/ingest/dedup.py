"""The daily de-duplication of `events`, run by the ingestion tests as the daily DAG's ``deduplicate_events`` task runs
it before anything reads a day: the ingestion appends each Kafka message once, and an event_id sent twice is two rows
until then."""

from __future__ import annotations

from datetime import date

from game_analytics.warehouse.sql_templates import render_sql


def deduplicate_days(client, settings, *days: date) -> None:
    """Run ``sql/events/deduplicate.sql`` for each of ``days``, in order (as daily runs would)."""
    for day in days:
        client.query(render_sql("events/deduplicate.sql", settings, ds=day.isoformat())).result()
