"""Benchmark of the Kafka ingestion, end to end, against a local stack this script starts and stops itself.

    .venv/bin/python benchmarks/ingest.py                  # 1,000,000 events, 1 % bad, JSON
    .venv/bin/python benchmarks/ingest.py --events 200000 --format mixed

Steps: produce the events to a fresh topic (8 partitions); read them once with a plain confluent-kafka loop
(fresh group, assigned partitions, ``fetch.queue.backoff.ms=10``) for the raw consume rate; then ingest them
with the real ``run_ingestion`` into a fresh dataset. Prints both rates, their ratio (goal: >= 0.35), the
ingestion's time per phase and the peak memory of the ingesting process (ru_maxrss).

The events are generated and produced in a child process: an ingesting process that also holds the generator's
millions of objects consumed at half speed (measured: 7.7 s instead of 4.0 s per 1M), and an Airflow task does
not hold them either.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import resource
import shlex
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path


def raw_consume_rate(bootstrap: str, topic: str, expected: int) -> tuple[int, float]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4().hex}", "enable.auto.commit": False,
         "fetch.queue.backoff.ms": 10}
    )  # fmt: skip
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        count, started = 0, time.monotonic()
        deadline = started + 300
        while count < expected and time.monotonic() < deadline:
            count += sum(1 for m in consumer.consume(10_000, timeout=0.5) if m.error() is None)
        return count, time.monotonic() - started
    finally:
        consumer.close()


def produce_events(bootstrap: str, topic: str, count: int, fmt: str, bad_rate: float) -> tuple[int, int, float, float]:
    """In a child process: generate ``count`` messages and produce them; (produced, bad, generate s, produce s)."""
    from game_analytics.producer import APPROX_EVENTS_PER_PLAYER_DAY, generate_events, make_messages, produce

    now = datetime.now(UTC)
    players = max(1, int(count / (2 * APPROX_EVENTS_PER_PLAYER_DAY)) + 1)
    started = time.monotonic()
    events = generate_events(42, (now - timedelta(days=3)).date(), 2, players)
    messages = list(itertools.islice(make_messages(events, fmt, bad_rate, 42, now), count))
    generated = time.monotonic() - started
    started = time.monotonic()
    produced = produce(messages, {"bootstrap.servers": bootstrap}, topic)
    return produced, sum(1 for m in messages if m.planted_reason), generated, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="messages to produce (default 1,000,000)")
    parser.add_argument("--bad-rate", type=float, default=0.01)
    parser.add_argument("--format", choices=["json", "avro", "mixed"], default="json")
    parser.add_argument("--batch", type=int, default=200_000, help="max messages per micro-batch")
    args = parser.parse_args(argv)

    from confluent_kafka.admin import AdminClient, NewTopic

    from game_analytics.config import load_settings
    from game_analytics.ingest import run_ingestion
    from game_analytics.localstack.environment import StackPorts
    from game_analytics.localstack.launcher import LocalStack
    from game_analytics.localstack.servers import free_port
    from game_analytics.warehouse.client import bigquery_client
    from game_analytics.warehouse.schema import create_dataset_and_tables

    ports = StackPorts(bigquery=free_port(), bigquery_grpc=free_port(), kafka=free_port(), airflow=free_port())
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as state:
        with LocalStack(Path(state), ports, with_airflow=False, say=lambda _m: None) as stack:
            os.environ.update(stack.env)
            kafka = json.loads(stack.env["AIRFLOW_CONN_KAFKA_DEFAULT"])["extra"]
            bootstrap = kafka["bootstrap.servers"]
            suffix = uuid.uuid4().hex[:8]
            settings = load_settings(stack.env)
            settings = type(settings)(
                **{**settings.__dict__, "bq_dataset": f"bench_{suffix}", "raw_topic": f"bench-raw-{suffix}",
                   "dlq_topic": f"bench-dlq-{suffix}"}
            )  # fmt: skip
            admin = AdminClient({"bootstrap.servers": bootstrap})
            for future in admin.create_topics(
                [NewTopic(settings.raw_topic, 8, 1), NewTopic(settings.dlq_topic, 2, 1)]
            ).values():
                future.result(timeout=10)
            create_dataset_and_tables(bigquery_client(settings), settings)

            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
                job = child.submit(
                    produce_events, bootstrap, settings.raw_topic, args.events, args.format, args.bad_rate
                )
                produced, bad, generated, produce_seconds = job.result()

            raw_count, raw_seconds = raw_consume_rate(bootstrap, settings.raw_topic, produced)
            report = run_ingestion(
                settings, kafka, max_messages_per_batch=args.batch, max_batch_seconds=60, max_run_seconds=1800,
                group_id=f"bench-{suffix}",
            )  # fmt: skip

    raw_rate = raw_count / raw_seconds
    e2e_rate = report.consumed / report.seconds
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"command:              {shlex.join([sys.executable, *sys.argv])}")
    print(f"messages:             {produced:,} ({args.format}, {bad:,} bad), generated in {generated:.1f} s, "
          f"produced in {produce_seconds:.1f} s")  # fmt: skip
    print(f"raw consume:          {raw_count:,} in {raw_seconds:.2f} s = {raw_rate:,.0f} events/s")
    print(f"ingestion end to end: {report.consumed:,} in {report.seconds:.2f} s = {e2e_rate:,.0f} events/s "
          f"({report.batches} batches: {report.loaded:,} loaded, {report.dead_lettered:,} dead-lettered, "
          f"{report.already_stored:,} already stored, {report.already_dead_lettered:,} already dead-lettered, "
          f"lag {report.consumer_lag})")  # fmt: skip
    print(f"ratio:                {e2e_rate / raw_rate:.3f} (goal >= 0.35)")
    print(f"phases (s):           {report.timings}")
    print(f"peak memory:          {peak_mib:,.0f} MiB (ru_maxrss of the ingesting process)")
    ok = report.consumed == produced and report.loaded + report.dead_lettered == produced
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
