"""The setup step adds `events_dlq.event_date` to a table created before the column existed (on the emulator)."""

from __future__ import annotations

import dataclasses
import uuid

from game_analytics.ingest.loader import DLQ_COLUMNS


def test_setup_adds_event_date_to_an_existing_dlq_table_and_reruns_as_a_no_op(local_stack):
    from google.cloud import bigquery

    from game_analytics.config import load_settings
    from game_analytics.warehouse.client import bigquery_client
    from game_analytics.warehouse.schema import create_dataset_and_tables

    settings = dataclasses.replace(load_settings(), bq_dataset=f"t_{uuid.uuid4().hex[:12]}")
    client = bigquery_client(settings)
    client.create_dataset(bigquery.Dataset(f"{settings.bq_project}.{settings.bq_dataset}"))
    old_columns = [c for c in DLQ_COLUMNS if c != "event_date"]
    client.query(
        f"CREATE TABLE {settings.table('events_dlq')} (raw_value STRING, raw_value_encoding STRING, "
        "message_key STRING, reason_code STRING NOT NULL, reason_text STRING, kafka_topic STRING, "
        "kafka_partition INT64, kafka_offset INT64, failed_at TIMESTAMP NOT NULL) PARTITION BY DATE(failed_at)"
    ).result()
    client.query(
        f"INSERT INTO {settings.table('events_dlq')} ({', '.join(old_columns)}) "
        "VALUES ('x', 'utf-8', 'k', 'malformed_json', 't', 'raw', 0, 1, TIMESTAMP '2026-01-02 10:00:00+00')"
    ).result()

    create_dataset_and_tables(client, settings)
    create_dataset_and_tables(client, settings)  # again: nothing changes

    table = client.get_table(f"{settings.bq_project}.{settings.bq_dataset}.events_dlq")
    assert [f.name for f in table.schema] == list(DLQ_COLUMNS)
    assert table.schema[-1].field_type == "DATE" and table.schema[-1].mode == "NULLABLE"
    rows = list(client.query(f"SELECT kafka_offset, event_date FROM {settings.table('events_dlq')}").result())
    assert [(r["kafka_offset"], r["event_date"]) for r in rows] == [(1, None)]
