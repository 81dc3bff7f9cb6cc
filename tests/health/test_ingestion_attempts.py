"""Every ingestion attempt is recorded, keyed by (run_id, try_number, shard), a failed one with what it committed,
and the DLQ rate and events/s count every attempt of a run (ingest/attempts.py, sql/health_measurements/measure.sql).

The failing attempt is a real run (broker + emulator) with a planted fault: preparing its third batch raises, after
two batches committed. (A SIGKILL at every point of a batch: tests/ingest/test_crash_recovery.py.) The measurement
test seeds rows relative to an explicit instant.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.health.measure import measure
from game_analytics.ingest import run as ingest_run
from game_analytics.ingest import run_ingestion
from game_analytics.warehouse.watermarks import Watermark, record_watermarks
from tests.health.conftest import FIXED
from tests.health.rows import by_subject, run_row, single
from tests.health.test_ingestion_runs import stored_runs
from tests.ingest.test_dedup_scope import event_json, send
from tests.ingest.test_ingestion import stored
from tests.sql.rows import Warehouse

pytestmark = pytest.mark.stack
MINUTE = timedelta(minutes=1)
RUN = "scheduled__2026-03-10T14:30:00+00:00"


def test_a_failed_attempt_records_what_it_committed_and_the_dlq_rate_counts_it(
    ingest_settings, warehouse, kafka_config, monkeypatch
):
    settings = ingest_settings
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    # One partition, in order: the first batch (of 2) is two malformed messages, the rest valid but one.
    sent = [b'{"event_id": "x", ', b"{broken"] + [event_json(f"e{i}", noon + timedelta(hours=i)) for i in range(6)]
    sent.append(b'{"event_id": "y"')
    send(kafka_config, settings.raw_topic, sent)
    bounds = {"max_messages_per_batch": 2, "max_batch_seconds": 10, "max_run_seconds": 90}

    real_prepare, calls = ingest_run.prepare_batch, []

    def failing_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("planted fault in batch 3")
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(ingest_run, "prepare_batch", failing_third_batch)
    with pytest.raises(RuntimeError, match="planted fault"):
        run_ingestion(settings, kafka_config, group_id="ingest", run_id=RUN, try_number=1, **bounds)
    (failed,) = stored_runs(warehouse, settings)
    events, dlq = stored(warehouse, settings)
    assert (failed["run_id"], failed["try_number"], failed["shard"], failed["state"]) == (RUN, 1, 0, "failed")
    assert failed["stopped_because"].startswith("error: RuntimeError: planted fault")
    # What it committed: its two batches, the malformed pair among them.
    assert (failed["consumed"], failed["loaded"], failed["dead_lettered"]) == (4, len(events), len(dlq)) == (4, 2, 2)

    monkeypatch.setattr(ingest_run, "prepare_batch", real_prepare)
    run_ingestion(settings, kafka_config, group_id="ingest", run_id=RUN, try_number=2, **bounds)
    attempts = {r["try_number"]: r for r in stored_runs(warehouse, settings)}
    events, dlq = stored(warehouse, settings)
    assert set(attempts) == {1, 2} and attempts[1] == failed and attempts[2]["state"] == "success"
    assert sum(a["consumed"] for a in attempts.values()) == len(sent)  # each message read once over the two tries
    assert sum(a["loaded"] for a in attempts.values()) == len(events) == 6
    assert sum(a["dead_lettered"] for a in attempts.values()) == len(dlq) == 3

    now = max(a["finished_at"] for a in attempts.values()) + MINUTE
    measured = measure(warehouse, settings, now)
    assert single(measured, "dlq_rate") == pytest.approx(3 / len(sent))  # both tries; the second alone: 1/5
    assert by_subject(measured, "dead_lettered_24h")["malformed_json"] == 3


def attempt(finished_at, consumed, eps, run_id="r2", shard=0, try_number=1, state="success", dead=None) -> dict:
    row = run_row(finished_at, consumed, dead, eps=eps)
    return {**row, "run_id": run_id, "shard": shard, "try_number": try_number, "state": state, "seconds": 10.0}


def test_events_per_second_and_the_dlq_rate_over_every_attempt_of_a_run(warehouse, settings):
    settings = dataclasses.replace(settings, health_dlq_rate_runs=1)
    now = FIXED
    record_watermarks(warehouse, settings, [Watermark(settings.raw_topic, 0, now - 30 * MINUTE, None, 5)])
    Warehouse(warehouse, settings).insert(
        "ingestion_runs",
        [
            attempt(now - 30 * MINUTE, 100, 10.0, run_id="r1"),  # an older run
            # r2: shard 0 failed at try 1 (50 events in 10 s) and succeeded at try 2 (150 in 10 s): 200 in 20 s;
            # shard 1 ran beside it (100 in 10 s). The run's rate: 10 + 10 events/s, not 5 + 15 + 10.
            attempt(now - 12 * MINUTE, 50, 5.0, try_number=1, state="failed", dead={"malformed_json": 20}),
            attempt(now - 5 * MINUTE, 150, 15.0, try_number=2),
            attempt(now - 6 * MINUTE, 100, 10.0, shard=1),
            # A later run, killed after its first batch: its row stays running; not a successful ingestion.
            attempt(now - 2 * MINUTE, 40, 4.0, run_id="r3", state="running", dead={"malformed_json": 4}),
        ],
    )
    measured = measure(warehouse, settings, now)
    assert single(measured, "events_per_second") == pytest.approx(4.0)  # the latest run: r3, so far
    assert single(measured, "dlq_rate") == pytest.approx(4 / 40)
    assert by_subject(measured, "dead_lettered_24h")["malformed_json"] == 24  # the failed and the killed try's
    assert single(measured, "seconds_since_successful_ingestion") == 300  # r2's try 2, not r3's running row

    settings = dataclasses.replace(settings, health_dlq_rate_runs=2)
    Warehouse(warehouse, settings).run(f"DELETE FROM {settings.table('ingestion_runs')} WHERE run_id = 'r3'")
    measured = measure(warehouse, settings, now)
    assert single(measured, "events_per_second") == pytest.approx(20.0)
    assert single(measured, "dlq_rate") == pytest.approx(20 / (50 + 150 + 100 + 100))  # r2's three rows and r1
