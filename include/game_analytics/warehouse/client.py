"""BigQuery clients for code that runs outside an Airflow task (tests, setup, benchmarks, the producer).

Inside tasks use the Google provider's ``BigQueryHook(gcp_conn_id).get_client()`` so the Airflow connection
decides credentials. Here: anonymous credentials when ``BIGQUERY_EMULATOR_HOST`` points at the local emulator,
Application Default Credentials otherwise.
"""

from __future__ import annotations

import os

from game_analytics.config import Settings


def bigquery_client(settings: Settings):
    from google.cloud import bigquery

    emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
    if emulator:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=settings.bq_project,
            location=settings.bq_location,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    return bigquery.Client(project=settings.bq_project, location=settings.bq_location)
