"""The de-duplication scope of `events`, against the real broker and emulator.

The ingestion appends each Kafka message once; an event_id sent in two messages is de-duplicated once per day by the
daily DAG (sql/events/deduplicate.sql, run here as its task runs it, day by day): it is kept once among all events
whose dates lie within the validator's maximum age (30 days) of each other, the copy on the earliest day winning
(see ingest/loader.py). The events are placed relative to the run's clock only because the validator
measures their age from it: every date below is a whole number of days from a noon three days back, so the
outcome is the same on any day and at any hour.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.events.contract import MAX_AGE_SQL as MAX_AGE
from game_analytics.ingest import run_ingestion
from game_analytics.ingest.loader import forget_offsets
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import sql_string as lit
from tests.ingest.dedup import deduplicate_days

pytestmark = pytest.mark.stack

BOUNDS = {"max_messages_per_batch": 400, "max_batch_seconds": 10, "max_run_seconds": 90}
WINDOW_DAYS = int(MAX_AGE.split()[0])  # the validator's "30 DAY"


def event_json(event_id: str, at: datetime, user: str = "u1", event_type: int = 3001) -> bytes:
    """A valid JSON event of the spec (a session start unless told otherwise)."""
    return json.dumps(
        {"event_id": event_id, "user_id": user, "event_type": event_type, "timestamp": at.isoformat(),
         "parameters": {}, "platform": "ios", "country": "DE"}
    ).encode()  # fmt: skip


def send(kafka_config: dict, topic: str, values: list[bytes]) -> None:
    """Produce ``values`` in order to one partition (the broker stamps each with the time it arrives)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": kafka_config["bootstrap.servers"]})
    for value in values:
        producer.produce(topic, value=value, key=b"k", partition=0)
    assert producer.flush(30) == 0


def rows_per_event(client, settings, event_ids) -> dict[str, list[date]]:
    ids = ", ".join(lit(e) for e in event_ids)
    rows = query_rows(
        client,
        f"SELECT event_id, event_date FROM {settings.table('events')} "
        f"WHERE event_date >= '2000-01-01' AND event_id IN ({ids}) ORDER BY event_date",
    )
    found: dict[str, list[date]] = {e: [] for e in event_ids}
    for row in rows:
        found[row["event_id"]].append(row["event_date"])
    return found


def insert_stored(client, settings, event_id: str, day: date) -> None:
    """A row already in `events` (as an earlier run would have stored it) on ``day``."""
    client.query(
        f"INSERT INTO {settings.table('events')} (event_id, user_id, event_type, `timestamp`, event_date) "
        f"VALUES ({lit(event_id)}, 'u1', 3001, TIMESTAMP '{day.isoformat()} 12:00:00+00', DATE '{day.isoformat()}')"
    ).result()


def test_an_event_sent_again_a_day_earlier_is_stored_once(ingest_settings, warehouse, kafka_config):
    settings = ingest_settings
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    send(kafka_config, settings.raw_topic, [event_json("e-again", noon)])
    first = run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    assert (first.loaded, first.already_stored) == (1, 0)

    # The same event_id later, one day earlier: the batch's only date is not the first copy's.
    earlier = noon - timedelta(days=1)
    send(kafka_config, settings.raw_topic, [event_json("e-again", earlier)])
    second = run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    assert (second.consumed, second.loaded, second.already_stored) == (1, 1, 0)  # another message: appended
    assert rows_per_event(warehouse, settings, ["e-again"]) == {"e-again": [earlier.date(), noon.date()]}

    # The daily runs of both days: the copy on the earlier day wins, whichever arrived first; a re-run keeps it.
    for _ in range(2):
        deduplicate_days(warehouse, settings, earlier.date(), noon.date())
        assert rows_per_event(warehouse, settings, ["e-again"]) == {"e-again": [earlier.date()]}


def test_a_replay_adds_nothing_unless_the_offsets_are_forgotten(ingest_settings, warehouse, kafka_config):
    """A replay with a new consumer group reads every message again and appends nothing (the offsets of any group
    count); with the topic's offsets deleted first (to store messages again), the valid ones are appended again,
    and the day's de-duplication leaves each event once."""
    settings = ingest_settings
    at = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    send(kafka_config, settings.raw_topic, [event_json(f"e-{i}", at) for i in range(3)] + [b"{not json"])
    first = run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    assert (first.loaded, first.dead_lettered) == (3, 1)
    again = run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    assert again.consumed == 0
    replay = run_ingestion(settings, kafka_config, group_id="replay", **BOUNDS)
    assert (replay.consumed, replay.loaded, replay.already_stored) == (4, 0, 3)
    assert (replay.dead_lettered, replay.already_dead_lettered) == (0, 1)
    forget_offsets(warehouse, settings, settings.raw_topic)
    forgotten = run_ingestion(settings, kafka_config, group_id="replay-2", **BOUNDS)
    assert (forgotten.consumed, forgotten.loaded, forgotten.dead_lettered) == (4, 3, 1)
    assert rows_per_event(warehouse, settings, ["e-0"]) == {"e-0": [at.date(), at.date()]}
    deduplicate_days(warehouse, settings, at.date())
    assert rows_per_event(warehouse, settings, [f"e-{i}" for i in range(3)]) == {
        f"e-{i}": [at.date()] for i in range(3)
    }


def test_the_scope_is_the_validators_window_on_each_side(ingest_settings, warehouse, kafka_config):
    """Copies exactly 30 days before or after are the same event (the earlier day's copy is kept); 31 days apart,
    another row."""
    settings = ingest_settings
    at = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    day = at.date()
    stored_on = {
        "e-30-before": day - timedelta(days=WINDOW_DAYS),
        "e-31-before": day - timedelta(days=WINDOW_DAYS + 1),
        "e-30-after": day + timedelta(days=WINDOW_DAYS),
        "e-31-after": day + timedelta(days=WINDOW_DAYS + 1),
    }
    for event_id, stored_day in stored_on.items():
        insert_stored(warehouse, settings, event_id, stored_day)
    send(kafka_config, settings.raw_topic, [event_json(e, at) for e in stored_on])

    report = run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    assert (report.consumed, report.loaded, report.already_stored) == (4, 4, 0)
    deduplicate_days(warehouse, settings, *sorted(set(stored_on.values()) | {day}))
    assert rows_per_event(warehouse, settings, list(stored_on)) == {
        "e-30-before": [stored_on["e-30-before"]],
        "e-31-before": [stored_on["e-31-before"], day],
        "e-30-after": [day],  # the copy on the earlier day wins, though stored later
        "e-31-after": [day, stored_on["e-31-after"]],
    }


def test_forgetting_the_offsets_of_a_warehouse_without_the_table_is_a_no_op(settings, local_stack):
    """What the local stack does at its first start, before any table exists (launcher.py)."""
    import dataclasses

    from game_analytics.warehouse.client import bigquery_client

    forget_offsets(bigquery_client(settings), dataclasses.replace(settings, bq_dataset="no_such_dataset"), "raw")
