"""The measured runs of ``benchmarks/ingest.py``, each in a child process of its own.

A fresh (spawned) process per run gives each its own CPU time and peak memory (``getrusage`` counts every thread
of the process: librdkafka's and DuckDB's included) and keeps the runs from sharing warm caches. Each function
here is a child's whole job and returns plain data; the CPU and wall time are taken around the measured call
only, not the imports.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PEER_FIELDS = ("session_id", "event_name", "platform", "app_version", "country", "device_model")


@dataclass(frozen=True)
class Measured:
    """One measured call: its result, wall seconds, CPU seconds (user + sys) and the process's peak RSS."""

    result: object
    started: float  # time.time() when the call began (to line up parallel runs)
    seconds: float
    cpu: float
    max_rss_mib: float


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(call: Callable[[], object]) -> Measured:
    started, wall, cpu = time.time(), time.monotonic(), _cpu()
    result = call()
    seconds, cpu = time.monotonic() - wall, _cpu() - cpu
    return Measured(result, started, seconds, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def produce_events(bootstrap: str, topic: str, count: int, fmt: str, bad_rate: float) -> tuple[int, int, list[str]]:
    """Generate ``count`` messages (two days ending the day before yesterday) and produce them; (produced, planted
    bad, the events' ISO dates). Run in a child: the ingesting process must not hold the generator's objects."""
    from game_analytics.producer import APPROX_EVENTS_PER_PLAYER_DAY, generate_events, make_messages, produce

    now = datetime.now(UTC)
    first = (now - timedelta(days=3)).date()
    players = max(1, int(count / (2 * APPROX_EVENTS_PER_PLAYER_DAY)) + 1)
    messages = list(
        itertools.islice(make_messages(generate_events(42, first, 2, players), fmt, bad_rate, 42, now), count)
    )
    produced = produce(messages, {"bootstrap.servers": bootstrap}, topic)
    days = [(first + timedelta(days=d)).isoformat() for d in range(2)]
    return produced, sum(1 for m in messages if m.planted_reason), days


def plain_consume(bootstrap: str, topic: str, expected: int) -> Measured:
    """The floor: a confluent-kafka loop that only counts the messages (assigned partitions, fresh group)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4().hex}", "enable.auto.commit": False,
         "fetch.queue.backoff.ms": 10}
    )  # fmt: skip
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])

    def loop() -> int:
        count, deadline = 0, time.monotonic() + 300
        while count < expected and time.monotonic() < deadline:
            count += sum(1 for m in consumer.consume(10_000, timeout=0.5) if m.error() is None)
        return count

    try:
        return measure(loop)
    finally:
        consumer.close()


def ingest(settings, kafka: dict, batch: int, group: str, shard: int = 0, shards: int = 1) -> Measured:
    """The real ``run_ingestion`` (shard ``shard`` of ``shards``); its result is the report as a dict. The modules it
    loads on first use are imported first: a process imports them once, not per event."""
    import duckdb  # noqa: F401
    import google.cloud.bigquery  # noqa: F401

    from game_analytics.ingest import run_ingestion

    return measure(
        lambda: run_ingestion(
            settings, kafka, max_messages_per_batch=batch, max_batch_seconds=60, max_run_seconds=1800,
            group_id=group, shard=shard, shards=shards,
        ).to_dict()
    )  # fmt: skip


def _peer_batch(client, table: str, schema, counts: dict, messages) -> None:
    """The peer's ``apply_function_batch``: json.loads and the contract's required-field checks per message,
    then the batch's valid rows in one load job (newline-delimited JSON, appended: at least once)."""
    from google.cloud import bigquery

    from game_analytics.events.contract import EVENT_TYPES, ID_LENGTH, REQUIRED_FIELDS

    types, rows = {int(t) for t in EVENT_TYPES}, []
    for m in messages:
        try:
            event = json.loads(m.value())
            ok = isinstance(event, dict) and all(isinstance(event.get(f), t) for f, t in REQUIRED_FIELDS.items())
            ok = (
                ok
                and event["event_type"] in types
                and all(ID_LENGTH[0] <= len(event[f]) <= ID_LENGTH[1] for f in ("event_id", "user_id"))
            )
            day = date.fromisoformat(event["timestamp"][:10]) if ok else None
        except (TypeError, ValueError):  # not JSON (Avro, garbage), or a bad timestamp
            ok = False
        if not ok:
            counts["bad"] += 1
            continue
        row = {f: event[f] for f in REQUIRED_FIELDS} | {f: event.get(f) for f in PEER_FIELDS}
        where = {"kafka_topic": m.topic(), "kafka_partition": m.partition(), "kafka_offset": m.offset()}
        rows.append(row | where | {"parameters": event.get("parameters"), "event_date": day.isoformat()})
    if rows:
        config = bigquery.LoadJobConfig(schema=schema, write_disposition=bigquery.WriteDisposition.WRITE_APPEND)
        client.load_table_from_json(rows, table, job_config=config).result()
    counts["loaded"] += len(rows)


def peer(settings, topic: str, expected: int, batch: int) -> Measured:
    """The Airflow Kafka provider's ``ConsumeFromTopicOperator`` run in-process on the stack's ``kafka_default``
    connection (a fresh group id), loading into ``settings``' dataset; its result is {"loaded", "bad"}."""
    from airflow.providers.apache.kafka.operators.consume import ConsumeFromTopicOperator

    from game_analytics.warehouse.client import bigquery_client

    connection = json.loads(os.environ["AIRFLOW_CONN_KAFKA_DEFAULT"])
    connection["extra"] = {**connection["extra"], "group.id": f"peer-{uuid.uuid4().hex[:8]}",
                           "auto.offset.reset": "earliest", "enable.auto.commit": "false"}  # fmt: skip
    os.environ["AIRFLOW_CONN_KAFKA_DEFAULT"] = json.dumps(connection)
    client = bigquery_client(settings)
    table = f"{settings.bq_project}.{settings.bq_dataset}.events"
    schema = client.get_table(table).schema
    counts = {"loaded": 0, "bad": 0}
    consume = ConsumeFromTopicOperator(
        task_id="consume", topics=[topic], kafka_config_id="kafka_default", apply_function_batch=_peer_batch,
        apply_function_args=(client, table, schema, counts), commit_cadence="end_of_batch",
        max_messages=expected, max_batch_size=min(batch, expected), poll_timeout=10,
    )  # fmt: skip
    return measure(lambda: (consume.execute(context={}), dict(counts))[1])


def store_history(settings, rows: int, last_day: str, days: int = 32) -> float:
    """``rows`` events spread over the ``days`` days ending ``last_day`` (the batch's dates and the 30 days
    before), written by DuckDB to one Parquet file and stored with ONE load job; returns the seconds taken."""
    import tempfile

    import duckdb
    from google.cloud import bigquery

    from game_analytics.warehouse.client import bigquery_client

    client = bigquery_client(settings)
    table = client.get_table(f"{settings.bq_project}.{settings.bq_dataset}.events")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="history-") as folder:
        path = f"{folder}/history.parquet"
        duckdb.sql(f"""
            COPY (
                SELECT 'h' || i AS event_id, 'u' || (i % 500000) AS user_id, 'sess' || (i // 40) AS session_id,
                    [1001, 1002, 1003, 2001, 3001, 3002][1 + i % 6] AS event_type, 'history' AS event_name,
                    ts AS "timestamp", '{{"level_id":' || (i % 200) || '}}' AS parameters, 'ios' AS platform,
                    '1.0.0' AS app_version, 'US' AS country, 'iPhone15,2' AS device_model,
                    CAST(ts AS DATE) AS event_date, hour(ts) AS event_hour, dayofweek(ts) + 1 AS day_of_week,
                    'phone' AS device_category, 'high' AS device_tier, 'NA' AS region, 'history' AS kafka_topic,
                    i % 64 AS kafka_partition, i AS kafka_offset, ts AS ingested_at
                FROM (SELECT i, TIMESTAMPTZ '{last_day} 00:00:00+00' - INTERVAL {days - 1} DAY
                        + to_microseconds(CAST(i * ({days} * 86400000000 // {rows}) AS BIGINT)) AS ts
                      FROM range({rows}) AS r(i))
            ) TO '{path}' (FORMAT parquet, COMPRESSION snappy)
        """)  # fmt: skip
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET, schema=table.schema,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        )  # fmt: skip
        with open(path, "rb") as handle:
            client.load_table_from_file(handle, table, job_config=config).result(timeout=1800)
    return time.monotonic() - started


def process_cpu(pid: int) -> float:
    """CPU seconds (user + sys) process ``pid`` has used so far (another process: the emulator)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 300, busy: float = 0.1) -> float:
    """Wait until process ``pid`` uses under ``busy`` of a core over 2 s (the emulator may still be writing a large
    load to disk after its job reports done); returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = process_cpu(pid)
        time.sleep(2)
        if process_cpu(pid) - before < 2 * busy:
            break
    return time.monotonic() - started
