"""Create the dataset and every table idempotently, on a fresh warehouse (local emulator or real BigQuery).

Each table's DDL is ``sql/<table>/schema.sql`` (``CREATE TABLE IF NOT EXISTS``, then ``ALTER TABLE ... ADD COLUMN
IF NOT EXISTS`` for a column added later, so existing tables catch up), so running this again is a no-op.
"""

from __future__ import annotations

from game_analytics.config import Settings
from game_analytics.warehouse.sql_templates import SQL_DIR, render_sql

# Order matters only for readability; none of the DDL references another table.
TABLES = (
    "events",
    "events_dlq",
    "ingestion_watermarks",
    "ingestion_offsets",
    "level_metrics",
    "user_daily_metrics",
    "revenue_daily_metrics",
)


def table_ddl(settings: Settings) -> dict[str, str]:
    """Rendered `CREATE TABLE IF NOT EXISTS` per table."""
    return {table: render_sql(f"{table}/schema.sql", settings) for table in TABLES}


def create_dataset_and_tables(client, settings: Settings) -> list[str]:
    """Ensure the dataset and all tables exist; returns the table names."""
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{settings.bq_project}.{settings.bq_dataset}")
    dataset.location = settings.bq_location
    client.create_dataset(dataset, exists_ok=True)
    for ddl in table_ddl(settings).values():
        client.query(ddl).result()
    return list(TABLES)


def missing_schema_files() -> list[str]:
    return [t for t in TABLES if not (SQL_DIR / t / "schema.sql").exists()]
