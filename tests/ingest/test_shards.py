"""Shards: a run split over ``shards`` processes, each owning the raw topic's partitions p % shards == its index.

Against the real broker and emulator, on an 8-partition topic: one shard SIGKILLed mid-batch while another keeps
going, then restarted; and the number of shards changed between runs (1 → 3 → 2), each layout interrupted part
way. Every valid event ends up once in `events` and every bad message once in `events_dlq`, because offsets,
the offset check and watermarks are per partition, whoever reads it.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import uuid
from collections import Counter

import pytest

from game_analytics.ingest.consumer import shard_partitions
from tests.ingest.sample import produce_sample
from tests.ingest.test_crash_recovery import finish, run, start
from tests.ingest.test_ingestion import stored

pytestmark = pytest.mark.stack

PARTITIONS = 8


@pytest.fixture
def eight_partitions(settings, warehouse, kafka_config):
    """Settings with a fresh 8-partition raw topic (and DLQ topic) and the test's own dataset."""
    from confluent_kafka.admin import AdminClient, NewTopic

    raw, dlq = f"raw8-{uuid.uuid4().hex[:8]}", f"dlq-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_config["bootstrap.servers"]})
    for future in admin.create_topics([NewTopic(raw, PARTITIONS, 1), NewTopic(dlq, 2, 1)]).values():
        future.result(timeout=10)
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
    messages, _ = produce_sample(kafka_config, settings.raw_topic, seed=11, players=60, bad_rate=0.1, at_least=700)
    good = {m.event["event_id"] for m in messages if m.event}
    bad = Counter(str(m.planted_reason) for m in messages if m.planted_reason)
    return good, bad


def _assert_each_once(warehouse, settings, good, bad):
    events, dlq = stored(warehouse, settings)
    assert len(events) == len({e["event_id"] for e in events}), "an event stored twice"
    assert {e["event_id"] for e in events} == good
    assert Counter(r["reason_code"] for r in dlq) == bad
    assert len(dlq) == len({(r["kafka_partition"], r["kafka_offset"]) for r in dlq})


def test_one_shard_killed_mid_batch_while_the_other_drains(eight_partitions, warehouse, kafka_config):
    settings = eight_partitions
    good, bad = _sample(settings, kafka_config)
    killed = start(settings, kafka_config, "mid_batch@2", shard=0, shards=2)
    other = run(settings, kafka_config, None, shard=1, shards=2)
    assert other.returncode == 0, other.stderr[-3000:]
    report = json.loads(other.stdout.strip().splitlines()[-1])
    assert sorted(int(p) for p in report["partitions"]) == [1, 3, 5, 7]
    assert report["consumer_lag"] == 0 and report["shard"] == 1
    assert finish(killed).returncode == -signal.SIGKILL

    restarted = run(settings, kafka_config, None, shard=0, shards=2)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert sorted(int(p) for p in json.loads(restarted.stdout.strip().splitlines()[-1])["partitions"]) == [0, 2, 4, 6]
    _assert_each_once(warehouse, settings, good, bad)


def test_changing_the_number_of_shards_between_runs_loses_and_repeats_nothing(
    eight_partitions, warehouse, kafka_config
):
    """1 shard killed at its third batch, then 3 shards each killed at their second, then 2 shards to the end."""
    settings = eight_partitions
    good, bad = _sample(settings, kafka_config)
    assert run(settings, kafka_config, "mid_batch@3").returncode == -signal.SIGKILL
    three = [start(settings, kafka_config, "after_warehouse_commit@1", shard=i, shards=3) for i in range(3)]
    assert [finish(p).returncode for p in three] == [-signal.SIGKILL] * 3
    two = [start(settings, kafka_config, None, shard=i, shards=2) for i in range(2)]
    done = [finish(p) for p in two]
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-2000:] for d in done]
    assert sum(json.loads(d.stdout.strip().splitlines()[-1])["consumer_lag"] for d in done) == 0
    _assert_each_once(warehouse, settings, good, bad)
