"""BigQuery clients for code that runs outside an Airflow task (tests, setup, benchmarks, the producer).

Inside tasks use the Google provider's ``BigQueryHook(gcp_conn_id).get_client()`` so the Airflow connection
decides credentials. Here: anonymous credentials when ``BIGQUERY_EMULATOR_HOST`` points at the local emulator,
Application Default Credentials otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from game_analytics.config import Settings


def bigquery_client(settings: Settings, environ: Mapping[str, str] | None = None):
    """A client of BigQuery, or of the emulator at ``BIGQUERY_EMULATOR_HOST`` of ``environ`` (default: the process's
    environment; the launcher passes the stack's before its own environment has it)."""
    from google.cloud import bigquery

    emulator = (os.environ if environ is None else environ).get("BIGQUERY_EMULATOR_HOST")
    if emulator:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=settings.bq_project,
            location=settings.bq_location,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    return bigquery.Client(project=settings.bq_project, location=settings.bq_location)


def airflow_bigquery_client(settings: Settings):
    """Inside an Airflow task: a client built from the ``gcp_conn_id`` connection (credentials, project)."""
    from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook

    hook = BigQueryHook(gcp_conn_id=settings.gcp_conn_id, use_legacy_sql=False, location=settings.bq_location)
    return hook.get_client(project_id=settings.bq_project, location=settings.bq_location)


def query_rows(client, sql: str) -> list[dict]:
    """Run one query and return its rows as dicts (small results only: checks, status, tests)."""
    return [dict(row) for row in client.query(sql).result()]
