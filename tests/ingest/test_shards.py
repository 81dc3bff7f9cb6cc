"""Shards: a run split over ``shards`` processes, each owning the raw topic's partitions p % shards == its index.

Against the real broker and emulator, on an 8-partition topic: the number of shards changed between runs
(1 → 3 → 2), the first layout killed part way, then one shard of the second SIGKILLed mid-batch while the others
drain their partitions. Every valid event ends up once in `events` and every bad message once in `events_dlq`,
because offsets, the offset check and watermarks are per partition, whoever reads it.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from collections import Counter

import pytest

from game_analytics.ingest.consumer import shard_partitions
from tests.ingest.conftest import new_topics
from tests.ingest.sample import produce_sample
from tests.ingest.test_crash_recovery import finish, run, start
from tests.ingest.test_ingestion import stored

pytestmark = pytest.mark.stack

PARTITIONS = 8


@pytest.fixture
def eight_partitions(settings, warehouse, kafka_config):
    """Settings with a fresh 8-partition raw topic (and DLQ topic) and the test's own dataset."""
    raw, dlq = new_topics(kafka_config, PARTITIONS)
    return dataclasses.replace(settings, raw_topic=raw, dlq_topic=dlq)


def test_the_shards_own_disjoint_partitions_that_cover_the_topic():
    partitions = list(range(PARTITIONS))
    for shards in (1, 2, 3, 8, 9):
        owned = [shard_partitions(partitions, i, shards) for i in range(shards)]
        assert sorted(p for mine in owned for p in mine) == partitions, shards
    assert shard_partitions(partitions, 1, 3) == [1, 4, 7]
    with pytest.raises(ValueError, match="shard 3 is not one of the 3 shards"):
        shard_partitions(partitions, 3, 3)


def _sample(settings, kafka_config):
    messages, _ = produce_sample(kafka_config, settings.raw_topic, seed=11, players=60, bad_rate=0.1, at_least=500)
    good = {m.event["event_id"] for m in messages if m.event}
    bad = Counter(str(m.planted_reason) for m in messages if m.planted_reason)
    return good, bad


def _assert_each_once(warehouse, settings, good, bad):
    events, dlq = stored(warehouse, settings)
    assert len(events) == len({e["event_id"] for e in events}), "an event stored twice"
    assert {e["event_id"] for e in events} == good
    assert Counter(r["reason_code"] for r in dlq) == bad
    assert len(dlq) == len({(r["kafka_partition"], r["kafka_offset"]) for r in dlq})


def test_shards_killed_and_changed_between_runs_lose_and_repeat_nothing(eight_partitions, warehouse, kafka_config):
    """1 shard killed at its second batch; then 3 shards, shard 0 killed mid-batch while shards 1 and 2 drain their
    partitions; then 2 shards to the end. Every event once, every dead letter once."""
    settings = eight_partitions
    good, bad = _sample(settings, kafka_config)
    assert run(settings, kafka_config, "mid_batch@2").returncode == -signal.SIGKILL

    killed = start(settings, kafka_config, "mid_batch@1", shard=0, shards=3)
    others = [start(settings, kafka_config, None, shard=i, shards=3) for i in (1, 2)]
    for shard, done in zip((1, 2), map(finish, others), strict=True):
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert sorted(int(p) for p in report["partitions"]) == shard_partitions(list(range(PARTITIONS)), shard, 3)
        assert report["consumer_lag"] == 0 and report["shard"] == shard
    assert finish(killed).returncode == -signal.SIGKILL

    two = [finish(p) for p in [start(settings, kafka_config, None, shard=i, shards=2) for i in range(2)]]
    assert [d.returncode for d in two] == [0, 0], [d.stderr[-2000:] for d in two]
    assert sum(json.loads(d.stdout.strip().splitlines()[-1])["consumer_lag"] for d in two) == 0
    _assert_each_once(warehouse, settings, good, bad)
