"""
### game_events_ingest

Every 10 minutes (one run at a time): drain `game-events-raw` into BigQuery, exactly once per Kafka message (each
`event_id` once per day after the daily DAG's `wait_for_events` de-duplicates it).

1. `create_tables` - idempotent set-up of the dataset and tables (`ingestion_offsets` included).
2. `ingest` - `GA_INGEST_SHARDS` mapped tasks (default 1), shard i reading the raw topic's partitions p with
   p % shards == i, on whichever workers are free. Each runs bounded micro-batches (`GA_INGEST_MAX_BATCH_MESSAGES`,
   `GA_INGEST_MAX_BATCH_SECONDS`; it stops after `GA_INGEST_MAX_RUN_SECONDS`). Per batch: decode JSON/Avro, validate
   (spec `game-events.md`), enrich, then ONE transaction that appends the messages past the recorded offsets to
   `events` (with their 5-minute counts to `live_event_counts`) and `events_dlq` and moves the end offsets in
   `ingestion_offsets`; only then the Kafka offsets are
   committed. An event_id sent twice is de-duplicated per day by `game_analytics_daily` (`wait_for_events`). Rejected
   messages also go to `game-events-dlq` with the reason in headers. At the end it writes one
   `ingestion_watermarks` row per partition (the daily DAG's completeness sensor reads them) and returns
   the run's counts (consumed, loaded, dead-lettered, already stored, already dead-lettered, lag, events/s) as XCom.

The provider's `ConsumeFromTopicOperator` is not used on purpose: it commits offsets itself, possibly past a
failed batch, and not atomically with the warehouse rows. Design and guarantees: `game_analytics.ingest`.

Replay a topic: trigger with a new consumer group, e.g. `airflow dags trigger game_events_ingest
--conf '{"group_id": "replay-2026-11-23"}'`; it reads the topic again and appends nothing already taken (the offsets
recorded by any group decide).
"""

from __future__ import annotations

from datetime import timedelta

# Named here so the dag-processor imports them once, not in every parse of this file (see game_analytics_daily.py):
# the bigquery:// and gs:// assets' URI handlers, 1.1 of the 1.3 s of CPU a parse took.
import airflow.providers.google.assets.bigquery  # noqa: F401
import airflow.providers.google.assets.gcs  # noqa: F401
import pendulum
from airflow.sdk import DAG, task

from game_analytics.assets import raw_topic_asset, table_asset
from game_analytics.catalogue import load_catalogue
from game_analytics.config import load_settings
from game_analytics.dag_defaults import DEFAULT_ARGS, INGEST_DAG
from game_analytics.health.dag_callbacks import outcome_callbacks
from game_analytics.warehouse.setup_task import create_tables

settings = load_settings()


@task(multiple_outputs=False, execution_timeout=timedelta(minutes=30))
def ingest(shard: int, shards: int, **context) -> dict:
    """Shard ``shard`` of ``shards`` of an ingestion run; returns its IngestionReport as a dict (XCom). The number of
    shards is the one the DAG was parsed with (``partial``), never re-read here: a worker whose environment says
    otherwise must not leave partitions unread or read one twice."""
    from airflow.providers.apache.kafka.hooks.base import KafkaBaseHook

    from game_analytics.config import load_settings
    from game_analytics.ingest import run_ingestion
    from game_analytics.warehouse.client import airflow_bigquery_client

    settings = load_settings()
    # The hook's config builder: the connection's extra JSON with callbacks and managed-Kafka OAuth resolved.
    kafka_config = KafkaBaseHook(kafka_config_id=settings.kafka_conn_id)._build_config()
    conf = context["dag_run"].conf or {}
    report = run_ingestion(
        settings,
        kafka_config,
        max_messages_per_batch=settings.ingest_max_batch_messages,
        max_batch_seconds=settings.ingest_max_batch_seconds,
        max_run_seconds=settings.ingest_max_run_seconds,
        group_id=conf.get("group_id"),
        run_id=context["run_id"],  # with the try and the shard, its row in ingestion_runs (a retry adds its own)
        try_number=context["ti"].try_number,
        client=airflow_bigquery_client(settings),
        shard=shard,
        shards=shards,
    )
    return report.to_dict()


with DAG(
    dag_id=INGEST_DAG,
    schedule=timedelta(minutes=10),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    # outcomes into dag_run_outcomes (health page, alerts); failures notified at once
    **outcome_callbacks(),
    tags=["game-analytics", "kafka", "bigquery", "ingestion"],
    doc_md=__doc__,
):
    writes = [table_asset(settings, t) for t in load_catalogue(settings) if t.built_by == INGEST_DAG]
    shards = (
        ingest.override(inlets=[raw_topic_asset(settings)], outlets=writes)
        .partial(shards=settings.ingest_shards)
        .expand(shard=list(range(settings.ingest_shards)))
    )
    create_tables() >> shards
