"""The run's counts after a restart or a replay: events already stored and dead letters already kept, apart.

Against the real broker and emulator. Event times are a whole number of hours from a noon three days back (the
validator measures age from the run's clock), so the outcome is the same on any day and at any hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.ingest import run_ingestion
from tests.ingest.test_dedup_scope import BOUNDS, event_json, send

pytestmark = pytest.mark.stack


def test_a_replay_counts_what_was_stored_and_what_was_dead_lettered(ingest_settings, warehouse, kafka_config):
    settings = ingest_settings
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    valid = [event_json(f"e{i}", noon + timedelta(hours=i)) for i in range(5)]
    valid.append(valid[0])  # the same event twice in one batch: one row
    bad = [b'{"event_id": "x", ', b'{"event_id": "y", "user_id": "u1"}', event_json("z", noon, event_type=9)]
    send(kafka_config, settings.raw_topic, valid + bad)

    first = run_ingestion(settings, kafka_config, group_id="ingest", **BOUNDS)
    assert (first.consumed, first.loaded, first.dead_lettered) == (9, 5, 3)
    assert (first.already_stored, first.already_dead_lettered) == (1, 0)

    # A replay under a new group reads every message again and adds nothing, and says why for each.
    replay = run_ingestion(settings, kafka_config, group_id="ingest-replay", **BOUNDS)
    assert (replay.consumed, replay.loaded, replay.dead_lettered) == (9, 0, 0)
    assert (replay.already_stored, replay.already_dead_lettered) == (len(valid), len(bad))
    assert replay.rejected == len(bad)
    for report in (first, replay):
        assert report.consumed == sum(
            (report.loaded, report.dead_lettered, report.already_stored, report.already_dead_lettered)
        )
    assert "duplicates" not in replay.to_dict()
