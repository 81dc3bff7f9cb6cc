"""A real ingestion run (broker + emulator) records its row in ``ingestion_runs``: counts, dead letters per reason
that this run added, its run id; a run with the same id replaces the row. Event times are whole hours from a noon
three days back (the validator measures age from the run's clock), so the outcome holds on any day, at any hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.ingest import run_ingestion
from game_analytics.warehouse.client import query_rows
from tests.ingest.test_dedup_scope import BOUNDS, event_json, send

pytestmark = pytest.mark.stack


def stored_runs(client, settings) -> list[dict]:
    return query_rows(client, f"SELECT * FROM {settings.table('ingestion_runs')} WHERE finished_at > '2000-01-01'")


def test_an_ingestion_run_records_its_row(ingest_settings, warehouse, kafka_config):
    settings = ingest_settings
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    valid = [event_json(f"e{i}", noon + timedelta(hours=i)) for i in range(4)]
    malformed = [b'{"event_id": "x", ', b'{"event_id": "y"']
    send(kafka_config, settings.raw_topic, valid + [valid[0]] + malformed + [event_json("z", noon, event_type=9)])

    before = datetime.now(UTC)
    report = run_ingestion(settings, kafka_config, group_id="ingest", run_id="scheduled__run-1", **BOUNDS)
    (row,) = stored_runs(warehouse, settings)
    assert report.dead_lettered_by_reason == {"malformed_json": 2, "unknown_event_type": 1}
    assert row["run_id"] == "scheduled__run-1" and row["consumer_group"] == "ingest"
    assert (row["consumed"], row["loaded"], row["duplicates"], row["dead_lettered"]) == (8, 4, 1, 3)
    assert row["already_dead_lettered"] == 0 and row["stopped_because"] == "caught_up" and row["consumer_lag"] == 0
    assert json.loads(row["dead_lettered_by_reason"]) == {"malformed_json": 2, "unknown_event_type": 1}
    assert before <= row["started_at"] <= row["finished_at"] <= datetime.now(UTC)
    assert row["seconds"] == report.seconds and row["events_per_second"] == report.events_per_second

    # A replay under another group adds one new bad message to the three already kept: the batch added some of its
    # dead letters but not all, so the count per reason comes from the rows it wrote. Same run id: replaced.
    send(kafka_config, settings.raw_topic, [b"{broken"])
    replay = run_ingestion(settings, kafka_config, group_id="ingest-replay", run_id="scheduled__run-1", **BOUNDS)
    (row,) = stored_runs(warehouse, settings)
    assert (row["consumer_group"], row["consumed"], row["dead_lettered"], row["already_dead_lettered"]) == (
        "ingest-replay", 9, 1, 3,
    )  # fmt: skip
    assert json.loads(row["dead_lettered_by_reason"]) == replay.dead_lettered_by_reason == {"malformed_json": 1}

    # Without a run id, a run gets its own (a uuid): a second row.
    run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    rows = stored_runs(warehouse, settings)
    assert len(rows) == 2 and {r["consumed"] for r in rows if r["run_id"] != "scheduled__run-1"} == {1}
