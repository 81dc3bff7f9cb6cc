"""SIGKILL at the named points of a batch, restart, and still get exactly N-K events and K dead letters, and live
counts equal to the stored events' (a batch's counts are added in the same script as its rows); every attempt,
killed ones included, has its ``ingestion_runs`` row, and together they count exactly what was stored.

The runs are subprocesses of ``run_ingestion``; ``GA_INGEST_CRASH_AT=<point>@<n>`` (the ingestion's documented
test hook) makes the process kill itself with SIGKILL the n-th time it reaches ``point``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from tests.health.test_ingestion_runs import stored_runs
from tests.ingest.live_counts import counts_from_events, live_counts
from tests.ingest.sample import produce_sample
from tests.ingest.test_ingestion import stored

pytestmark = pytest.mark.stack

RUNNER = """
import json, sys
from game_analytics.config import load_settings
from game_analytics.ingest import run_ingestion
config, shard, shards = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
report = run_ingestion(load_settings(), config, max_messages_per_batch=100, max_batch_seconds=10,
                       max_run_seconds=120, group_id="crashy", shard=shard, shards=shards)
print(json.dumps(report.to_dict()))
"""
# Each run crashes at a later batch than the previous one got to, so every run makes some progress.
CRASHES = (
    "mid_batch@2",
    "after_warehouse_commit@1",
    "during_kafka_commit@2",
    "after_staging@2",
    "after_warehouse_commit@2",
    "after_kafka_commit@1",
)
MESSAGES = 100 * 9 + 1  # enough batches of 100 for every crash above to happen at its batch


def start(settings, kafka_config, crash_at: str | None, shard: int = 0, shards: int = 1) -> subprocess.Popen:
    """An ingestion run (shard ``shard`` of ``shards``) in a subprocess, killed at ``crash_at`` if given."""
    env = {**os.environ, "GA_BQ_DATASET": settings.bq_dataset, "GA_RAW_TOPIC": settings.raw_topic,
           "GA_DLQ_TOPIC": settings.dlq_topic, "GA_BQ_PROJECT": settings.bq_project}  # fmt: skip
    env.pop("GA_INGEST_CRASH_AT", None)
    # Without BEGIN/COMMIT (the local stack's setting): the guarantee must hold from idempotent, ordered statements.
    env["GA_INGEST_USE_TRANSACTION"] = "false"
    if crash_at:
        env["GA_INGEST_CRASH_AT"] = crash_at
    argv = [sys.executable, "-c", RUNNER, json.dumps(kafka_config), str(shard), str(shards)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=180)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run(settings, kafka_config, crash_at: str | None, shard: int = 0, shards: int = 1) -> subprocess.CompletedProcess:
    return finish(start(settings, kafka_config, crash_at, shard, shards))


def test_killed_at_every_point_and_restarted_stores_each_event_once(ingest_settings, warehouse, kafka_config):
    settings = ingest_settings
    # Batches of 100: every crash must happen at its batch, and each run gets further than the one before.
    messages, _ = produce_sample(kafka_config, settings.raw_topic, seed=9, players=60, bad_rate=0.1, at_least=MESSAGES)
    good = {m.event["event_id"] for m in messages if m.event}
    bad = Counter(str(m.planted_reason) for m in messages if m.planted_reason)

    for crash_at in CRASHES:
        done = run(settings, kafka_config, crash_at)
        assert done.returncode == -signal.SIGKILL, f"{crash_at}: {done.returncode}\n{done.stderr[-3000:]}"
        events, dlq = stored(warehouse, settings)
        assert len(events) == len({e["event_id"] for e in events}), f"duplicate event_id after {crash_at}"
        assert len(dlq) == len({(r["kafka_partition"], r["kafka_offset"]) for r in dlq}), crash_at
        # The killed attempt's row holds what it committed, however it was killed (the batch script writes it).
        attempts = stored_runs(warehouse, settings)
        assert {a["state"] for a in attempts} <= {"running"}, crash_at
        assert sum(a["loaded"] for a in attempts) == len(events), crash_at
        assert sum(a["dead_lettered"] for a in attempts) == len(dlq), crash_at

    final = run(settings, kafka_config, None)
    assert final.returncode == 0, final.stderr[-3000:]
    report = json.loads(final.stdout.strip().splitlines()[-1])
    assert report["stopped_because"] == "caught_up" and report["consumer_lag"] == 0
    events, dlq = stored(warehouse, settings)
    assert len(events) == len({e["event_id"] for e in events}) == len(good)
    assert {e["event_id"] for e in events} == good
    assert Counter(r["reason_code"] for r in dlq) == bad
    attempts = stored_runs(warehouse, settings)
    assert sorted(a["state"] for a in attempts)[-1] == "success" and len(attempts) <= len(CRASHES) + 1
    assert sum(a["loaded"] for a in attempts) == len(good) and sum(a["dead_lettered"] for a in attempts) == len(dlq)
    assert sum(a["consumed"] for a in attempts) >= len(messages)  # a batch read but not committed is read again
    # Checked once, at the end, for every crash point: live counts are only ever appended, so a batch counted twice
    # (or counted without its rows, or its rows without their counts) at any crash would still show here.
    live = live_counts(warehouse, settings)
    assert live == counts_from_events(warehouse, settings)
    assert sum(events for events, _, _ in live.values()) == len(good)
