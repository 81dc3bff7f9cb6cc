"""The set-up task both DAGs start with: the dataset and every table, created if missing (idempotent)."""

from __future__ import annotations

from airflow.sdk import task


@task
def create_tables() -> list[str]:
    """Idempotent set-up: the dataset and every table (CREATE ... IF NOT EXISTS)."""
    from game_analytics.config import load_settings
    from game_analytics.warehouse.client import airflow_bigquery_client
    from game_analytics.warehouse.schema import create_dataset_and_tables

    settings = load_settings()
    return create_dataset_and_tables(airflow_bigquery_client(settings), settings)
