"""Benchmark: one health run of the ``pipeline_health`` DAG on the local stack with 30 days of history (goal <= 5 s).

    .venv/bin/python benchmarks/pipeline_health.py                          # 1,000,000 events a day
    .venv/bin/python benchmarks/pipeline_health.py --events-per-day 200000 --repeats 5

Starts its own local stack (BigQuery emulator, Kafka broker), creates a fresh dataset and seeds ``--days`` days of
history before the measured instant: events (as benchmarks/daily_sql.py loads them, Parquet), an ingestion run every
10 minutes, every check's result and the daily run's outcome per day, an ingestion outcome per run, and the health
measurements of a run every 5 minutes; plus a raw topic of 8 partitions with messages the ingestion's group has
partly taken (so the lag is measured against the broker). Then it times :func:`health_run` at successive 5-minute
instants and prints the median. :func:`health_run` is what the DAG's task runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 8, 14, 37, tzinfo=UTC)  # the first timed instant; the history ends here
PARTITIONS = 8
GROUP = "game-events-ingest"


def health_run(client, settings, now: datetime, kafka_config: dict | None, timings: dict | None = None) -> int:
    """One health run at ``now``, exactly what the DAG's task runs (``run_health_check``): the event volume, every
    measurement and its rows, the alert rules, their states and notifications, delivered to the local stack's
    webhook receiver. Returns the measurements; ``timings`` (if given) collects the seconds of each step."""
    from game_analytics.health.run import run_health_check
    from game_analytics.notify.notifier import deliver

    report = run_health_check(client, settings, now, kafka_config, lambda body: deliver(body, settings))
    for step, seconds in report.timings.items():
        (timings if timings is not None else {}).setdefault(step, []).append(seconds)
    return report.measurements


def _load_json_rows(client, settings, table: str, rows: list[dict]) -> None:
    """``rows`` into ``table`` with one NDJSON load job (as the ingestion loads its dead letters)."""
    from google.cloud import bigquery

    schema = client.get_table(settings.table(table).strip("`")).schema
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON, write_disposition="WRITE_APPEND", schema=schema
    )
    data = "\n".join(json.dumps(r, default=str) for r in rows).encode()
    client.load_table_from_file(io.BytesIO(data), settings.table(table).strip("`"), job_config=config).result()


def _every(step: timedelta, start: datetime, end: datetime):
    at = start
    while at < end:
        yield at
        at += step


def seed_history(client, settings, days: int, events_per_day: int, workdir: Path) -> dict[str, int]:
    from daily_sql import HISTORY_ROWS_PER_LOAD, load_days

    from game_analytics.catalogue import load_catalogue
    from game_analytics.dag_defaults import DAILY_DAG, INGEST_DAG
    from game_analytics.daily.quality import discover_checks
    from game_analytics.health.metrics import METRICS

    start = NOW - timedelta(days=days)
    event_days = sorted({(start + timedelta(days=n)).date() for n in range(days + 1)})
    per_job = max(1, HISTORY_ROWS_PER_LOAD // events_per_day)
    for i in range(0, len(event_days), per_job):
        load_days(client, settings, event_days[i : i + per_job], events_per_day, workdir)

    runs, outcomes = [], []
    for finished in _every(timedelta(minutes=10), start, NOW):
        dead = {"malformed_json": 3, "invalid_price": 1} if finished.minute == 0 else {}
        runs.append({
            "run_id": f"scheduled__{finished.isoformat()}", "consumer_group": GROUP,
            "started_at": (finished - timedelta(minutes=2)).isoformat(), "finished_at": finished.isoformat(),
            "consumed": 7000, "loaded": 6990 - sum(dead.values()), "duplicates": 10,
            "dead_lettered": sum(dead.values()), "already_dead_lettered": 0,
            "dead_lettered_by_reason": json.dumps(dead), "seconds": 120.0, "events_per_second": 58.3,
            "consumer_lag": 0, "stopped_because": "caught_up",
        })  # fmt: skip
        outcomes.append({"dag_id": INGEST_DAG, "run_id": f"scheduled__{finished.isoformat()}", "day": None,
                         "state": "success", "failed_tasks": None, "finished_at": finished.isoformat()})  # fmt: skip
    checks = [c for t in load_catalogue(settings) if t.check_files for c in discover_checks(t.name, settings)]
    results = []
    for day in event_days[:-1]:
        finished = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=1)
        outcomes.append({"dag_id": DAILY_DAG, "run_id": f"scheduled__{day}", "day": day.isoformat(),
                         "state": "success", "failed_tasks": None, "finished_at": finished.isoformat()})  # fmt: skip
        for n, check in enumerate(checks):
            status = "warn" if check.severity == "warn" and (day.toordinal() + n) % 5 == 0 else "pass"
            results.append({
                "day": day.isoformat(), "table_name": check.table, "check_name": check.name,
                "severity": check.severity, "status": status, "message": None if status == "pass" else "seeded",
                "offending_rows": 0 if status == "pass" else 2, "offending_values": "[]",
                "dag_run_id": f"scheduled__{day}", "checked_at": finished.isoformat(),
            })  # fmt: skip
    measurements = [
        {"measured_at": at.isoformat(), "metric": metric, "subject": subject, "value": 1.0}
        for at in _every(timedelta(minutes=5), start, NOW)
        for metric in METRICS
        for subject in ([str(p) for p in range(PARTITIONS)] if METRICS[metric].label == "partition" else [""])
    ]
    for table, rows in (("ingestion_runs", runs), ("dag_run_outcomes", outcomes), ("check_results", results),
                        ("health_measurements", measurements)):  # fmt: skip
        _load_json_rows(client, settings, table, rows)
    return {"events": len(event_days) * events_per_day, "ingestion_runs": len(runs), "dag_run_outcomes": len(outcomes),
            "check_results": len(results), "health_measurements": len(measurements)}  # fmt: skip


def seed_topic(client, settings, kafka_config: dict, messages_per_partition: int) -> None:
    """The raw topic, with messages the ingestion's group has taken half of (its offsets and watermarks)."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": kafka_config["bootstrap.servers"]})
    admin.create_topics([NewTopic(settings.raw_topic, PARTITIONS, 1)])[settings.raw_topic].result(timeout=10)
    producer = Producer({"bootstrap.servers": kafka_config["bootstrap.servers"], "linger.ms": 20})
    for p in range(PARTITIONS):
        for _ in range(messages_per_partition):
            producer.produce(settings.raw_topic, value=b"{}", partition=p)
    producer.flush(30)
    taken = messages_per_partition // 2
    stamp = (NOW - timedelta(minutes=7)).isoformat()
    _load_json_rows(client, settings, "ingestion_offsets", [
        {"topic": settings.raw_topic, "partition": p, "consumer_group": GROUP, "next_offset": taken,
         "updated_at": stamp} for p in range(PARTITIONS)
    ])  # fmt: skip
    _load_json_rows(client, settings, "ingestion_watermarks", [
        {"topic": settings.raw_topic, "partition": p, "caught_up_at": stamp, "committed_offset": taken,
         "updated_at": stamp} for p in range(PARTITIONS)
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    parser.add_argument("--events-per-day", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5, help="timed health runs; the median is printed")
    args = parser.parse_args(argv)

    from game_analytics.config import load_settings
    from game_analytics.localstack.environment import StackPorts
    from game_analytics.localstack.launcher import LocalStack
    from game_analytics.localstack.servers import free_port
    from game_analytics.warehouse.client import bigquery_client
    from game_analytics.warehouse.schema import create_dataset_and_tables

    ports = StackPorts(bigquery=free_port(), bigquery_grpc=free_port(), kafka=free_port(), airflow=free_port())
    with tempfile.TemporaryDirectory(prefix="health-bench-") as state:
        with LocalStack(Path(state), ports, with_airflow=False, say=lambda _m: None) as stack:
            os.environ.update(stack.env)
            suffix = uuid.uuid4().hex[:8]
            settings = dataclasses.replace(
                load_settings(stack.env), bq_dataset=f"bench_{suffix}", raw_topic=f"bench-raw-{suffix}"
            )
            kafka_config = {**json.loads(stack.env["AIRFLOW_CONN_KAFKA_DEFAULT"])["extra"], "group.id": GROUP}
            client = bigquery_client(settings)
            create_dataset_and_tables(client, settings)
            started = time.monotonic()
            seeded = seed_history(client, settings, args.days, args.events_per_day, Path(state))
            seed_topic(client, settings, kafka_config, 1000)
            counted = ", ".join(f"{table} {rows:,}" for table, rows in seeded.items())
            print(f"seeded in {time.monotonic() - started:.0f} s: {counted}")

            seconds, counts, steps = [], set(), {}
            for n in range(args.repeats):
                began = time.perf_counter()
                counts.add(health_run(client, settings, NOW + timedelta(minutes=5 * n), kafka_config, steps))
                seconds.append(time.perf_counter() - began)
    print(f"command:    {shlex.join([sys.executable, *sys.argv])}")
    each = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"health run: median {statistics.median(seconds):.2f} s of {args.repeats} ({each} s), "
          f"{sorted(counts)} measurements (goal <= 5 s)")  # fmt: skip
    print("median per step: " + ", ".join(f"{step} {statistics.median(s):.2f} s" for step, s in steps.items()))
    return 0 if statistics.median(seconds) <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
