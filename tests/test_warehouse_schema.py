"""The setup step creates every table on a fresh warehouse and is safe to run again."""

from __future__ import annotations

from game_analytics.warehouse.schema import TABLES, create_dataset_and_tables, missing_schema_files


def test_every_table_has_its_ddl():
    assert missing_schema_files() == []


def test_setup_is_idempotent_and_partitions_by_date(warehouse, settings):
    again = create_dataset_and_tables(warehouse, settings)  # second run on an existing warehouse
    assert sorted(again) == sorted(TABLES)
    names = {t.table_id for t in warehouse.list_tables(f"{settings.bq_project}.{settings.bq_dataset}")}
    assert names == set(TABLES)
    partition_field = {
        "events": "event_date",
        "level_metrics": "date",
        "user_daily_metrics": "date",
        "revenue_daily_metrics": "date",
    }
    for table, column in partition_field.items():
        tp = warehouse.get_table(f"{settings.bq_project}.{settings.bq_dataset}.{table}").time_partitioning
        assert tp is not None and tp.field == column, f"{table} is not partitioned by {column}: {tp}"
