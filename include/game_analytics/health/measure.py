"""The pipeline's health measurements at one instant: what the ``pipeline_health`` DAG measures every 5 minutes.

``now`` is always an argument: a retried run measures the same instant (and :func:`record_measurements` replaces
its rows), and tests choose the instant. The warehouse side is one statement (``health_measurements/measure.sql``)
plus one for the ingestion's progress per partition (``kafka_progress.sql``); the broker side asks the raw topic's
end offsets (:mod:`.kafka_lag`). Every query reads only the partitions it needs (tests/sql/
test_events_partition_filter.py parses them). Metric names and labels are :data:`~.metrics.METRICS`; a
measurement's subject is the label's value ("" for a metric without one). A value of None is "no data yet":
freshness and the time since the last ingestion before ingestion has ever succeeded (an empty stack is not an
incident); it is recorded (the page shows it) and no rule fires on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from game_analytics.config import Settings
from game_analytics.dag_defaults import DAILY_DAG, HEALTH_DAG, INGEST_DAG
from game_analytics.events.contract import LEVEL_TYPES, PURCHASE_TYPES, SESSION_TYPES, sql_codes
from game_analytics.events.reasons import Reason
from game_analytics.health.kafka_lag import PartitionEnds, partition_ends
from game_analytics.health.metrics import METRICS
from game_analytics.health.records import sql_literal, write_rows
from game_analytics.warehouse.sql_templates import render_sql

# The event groups of the volume chart and events_24h, from the contract's families.
EVENT_GROUPS = {"level": LEVEL_TYPES, "purchase": PURCHASE_TYPES, "session": SESSION_TYPES}
# The DAGs whose latest outcome dag_run_failed reports.
WATCHED_DAGS = (INGEST_DAG, DAILY_DAG, HEALTH_DAG)


@dataclass(frozen=True)
class Measurement:
    metric: str
    subject: str
    value: float | None  # None: no data yet

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r} (health/metrics.py names them)")


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError(f"now={now!r} has no timezone (pass an aware UTC datetime)")
    return now.astimezone(UTC)


def refresh_event_volume(client, settings: Settings, now: datetime) -> None:
    """MERGE ``event_volume_hourly`` for the 24 whole hours before ``now`` and the current hour."""
    codes = tuple(code for types in EVENT_GROUPS.values() for code in types)
    sql = render_sql(
        "event_volume_hourly/merge.sql",
        settings,
        now_ts=sql_literal(_utc(now)),
        event_groups=[(group, sql_codes(types)) for group, types in EVENT_GROUPS.items()],
        grouped_codes=sql_codes(codes),
    )
    client.query(sql).result()


def warehouse_measurements(client, settings: Settings, now: datetime) -> list[Measurement]:
    """Everything measured from the warehouse alone (all metrics but the Kafka lag)."""
    sql = render_sql(
        "health_measurements/measure.sql",
        settings,
        now_ts=sql_literal(_utc(now)),
        dlq_rate_runs=int(settings.health_dlq_rate_runs),
        horizon_days=int(settings.alert_horizon_days),
        reasons=[reason.value for reason in Reason],
        event_groups=list(EVENT_GROUPS),
        dag_ids=list(WATCHED_DAGS),
        daily_dag=DAILY_DAG,
        topic=settings.raw_topic,
    )
    return [
        Measurement(row["metric"], row["subject"], None if row["value"] is None else float(row["value"]))
        for row in client.query(sql).result()
    ]


def kafka_measurements(
    client, settings: Settings, now: datetime, kafka_config: dict, ends: dict[int, PartitionEnds]
) -> list[Measurement]:
    """Per raw-topic partition: messages not yet ingested by the ingestion's consumer group (``ends``: the broker's
    end offsets), and for how long (``now - caught_up_at`` while messages wait, else 0; no value before the
    partition first caught up)."""
    from game_analytics.kafka_connection import consumer_group

    sql = render_sql(
        "health_measurements/kafka_progress.sql",
        settings,
        topic=settings.raw_topic,
        consumer_group=consumer_group(kafka_config),
    )
    progress = {row["partition"]: row for row in client.query(sql).result()}
    now = _utc(now)
    measurements = []
    for partition, end in sorted(ends.items()):
        row = progress.get(partition, {})
        read_up_to = row.get("next_offset")
        lag = max(0, end.high - max(read_up_to if read_up_to is not None else 0, end.low))
        measurements.append(Measurement("kafka_lag_messages", str(partition), float(lag)))
        caught_up_at = row.get("caught_up_at")
        if lag == 0:
            measurements.append(Measurement("kafka_lag_seconds", str(partition), 0.0))
        elif caught_up_at is not None and caught_up_at.year > 1970:  # 1970: never caught up (ingest/run.py)
            waited = max(0.0, (now - caught_up_at).total_seconds())
            measurements.append(Measurement("kafka_lag_seconds", str(partition), waited))
    return measurements


def measure(client, settings: Settings, now: datetime, kafka_config: dict | None = None) -> list[Measurement]:
    """Every health measurement at ``now``; without ``kafka_config`` the broker's (the lag) are left out.

    Call :func:`refresh_event_volume` first: events_24h reads its table."""
    if kafka_config is None:
        return warehouse_measurements(client, settings, now)
    # The broker is asked on a thread while the warehouse answers: a run takes the longer of the two, not the sum.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-lag") as broker:
        ends = broker.submit(partition_ends, kafka_config, settings.raw_topic, settings.kafka_conn_id)
        measurements = warehouse_measurements(client, settings, now)
        return measurements + kafka_measurements(client, settings, now, kafka_config, ends.result())


def record_measurements(client, settings: Settings, now: datetime, measurements: Sequence[Measurement]) -> None:
    """Write ``measurements`` at measured_at = ``now``, replacing what an earlier run of that instant wrote."""
    now = _utc(now)
    rows = [{"measured_at": now, "metric": m.metric, "subject": m.subject, "value": m.value} for m in measurements]
    write_rows(
        client, settings, "health_measurements/replace.sql", "health_measurements", rows, now_ts=sql_literal(now)
    )
