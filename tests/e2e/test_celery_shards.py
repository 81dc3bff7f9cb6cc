"""`GA_EXECUTOR=celery`: the ingestion's two shards run on two Celery workers, and together store each message once.

Why: production adds workers to ingest more (docker-compose's `airflow-worker --scale`, the Helm chart), and the
shards are what spreads one run over them. Only a real CeleryExecutor shows that the mapped `ingest` tasks are
picked up by different workers and that their disjoint partitions still add up to exactly once. The stack is the
launcher's celery mode (Redis, two `airflow celery worker` processes of concurrency 1, each recording its own
hostname), on the session's BigQuery emulator and Kafka broker (tests/conftest.py) with a PostgreSQL, an Airflow,
topics and a dataset of its own, so it never sees the other tests' runs or messages.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from game_analytics.config import load_settings
from game_analytics.dag_defaults import INGEST_DAG
from game_analytics.localstack import celery_mode
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.environment import REPO_ROOT
from game_analytics.localstack.launcher import LocalStack
from game_analytics.localstack.servers import free_port
from game_analytics.producer import produce
from game_analytics.warehouse.client import bigquery_client
from tests.ingest.sample import sample_messages
from tests.ingest.test_ingestion import stored
from tests.test_local_stack import assert_listening_on_loopback_only

pytestmark = pytest.mark.airflow_e2e

SHARDS = 2
# CI (.ci/run) installs Debian's redis-server and sets this: there a missing Redis fails the test instead of skipping.
REDIS_REQUIRED = os.environ.get("GA_REQUIRE_REDIS") == "1"


@pytest.fixture(scope="module")
def celery_stack(local_stack):
    """The launcher's celery mode (GA_EXECUTOR=celery) with GA_INGEST_SHARDS=2, on the session's emulator and broker."""
    if not shutil.which(celery_mode.REDIS_PACKAGE) and not REDIS_REQUIRED:
        pytest.skip(f"{celery_mode.REDIS_PACKAGE} is not installed (Debian's package; .ci/run installs it)")
    # Right under the temp folder: PostgreSQL runs as nobody when the suite runs as root (see tests/conftest.py)
    root = Path(tempfile.mkdtemp(prefix="game-analytics-celery-test-"))
    ports = dataclasses.replace(local_stack.ports, airflow=free_port(), postgres=free_port(), redis=free_port())
    stack = LocalStack(root, ports, executor="celery", say=lambda _msg: None)
    dags = root / "dags"  # the ingestion DAG alone: its dag-processor parses one file, not the daily DAG's imports
    dags.mkdir()
    (dags / "game_events_ingest.py").symlink_to(REPO_ROOT / "dags" / "game_events_ingest.py")
    suffix = uuid.uuid4().hex[:8]
    stack.env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "GA_RAW_TOPIC": f"raw-celery-{suffix}",
            "GA_DLQ_TOPIC": f"dlq-celery-{suffix}",
            "GA_BQ_DATASET": f"t_celery_{suffix}",
            "GA_INGEST_SHARDS": str(SHARDS),
            # Small batches make each shard last several seconds, longer than a worker takes to wind down after its
            # previous task (create_tables): both shards are then in flight at once, and with one task at a time per
            # worker they must run on both. With one quick batch each, one worker could take both in turn.
            "GA_INGEST_MAX_BATCH_MESSAGES": "40",
        }
    )
    try:
        stack.create_topics()  # the raw topic's 8 partitions: 4 for each shard
        stack.start_airflow()  # fails naming the redis-server package when it is missing
        yield stack
    finally:
        stack.stop()
        if not os.environ.get("GA_KEEP_TEST_STATE"):  # as tests/conftest.py: set it to keep the servers' logs
            shutil.rmtree(root, ignore_errors=True)


def test_two_shards_run_on_two_workers_and_store_each_message_once(celery_stack):
    # Redis and the workers too (these run without log servers): nothing of the stack is open to the network
    assert_listening_on_loopback_only(celery_stack, {celery_stack.ports.airflow, celery_stack.ports.redis})
    settings = load_settings(celery_stack.env)
    messages, _ = sample_messages(datetime.now(UTC), seed=23, players=40, bad_rate=0.05)
    produce(messages, f"127.0.0.1:{celery_stack.ports.kafka}", settings.raw_topic)
    good = [m.event["event_id"] for m in messages if m.event]
    bad = len(messages) - len(good)
    assert bad > 0 and len(set(good)) == len(good)

    api = AirflowApi(celery_stack.ports.airflow)
    api.wait_for_dags({INGEST_DAG})
    run = api.run_now(INGEST_DAG, timeout=300)
    assert run["state"] == "success", run
    shards = sorted(
        (ti for ti in api.task_instances(INGEST_DAG, run["dag_run_id"]) if ti["task_id"] == "ingest"),
        key=lambda ti: ti["map_index"],
    )
    assert [(ti["map_index"], ti["state"]) for ti in shards] == [(i, "success") for i in range(SHARDS)], shards
    # Each worker names itself <machine>-<worker> (celery_mode.worker_hostname): two names, two workers
    hosts = [ti["hostname"] for ti in shards]
    assert len(set(hosts)) == SHARDS, hosts
    assert all(host.endswith(celery_mode.WORKERS) for host in hosts), hosts

    reports = [api.xcom(INGEST_DAG, run["dag_run_id"], "ingest", map_index=ti["map_index"]) for ti in shards]
    assert sum(r["consumed"] for r in reports) == len(messages), reports
    assert all(r["consumed"] > 0 for r in reports), reports  # each shard read its own partitions' messages
    events, dlq = stored(bigquery_client(settings), settings)
    assert Counter(e["event_id"] for e in events) == Counter(good)  # every valid message once, nothing else
    assert len(dlq) == bad and len({(d["kafka_partition"], d["kafka_offset"]) for d in dlq}) == bad
