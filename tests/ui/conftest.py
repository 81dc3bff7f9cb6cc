"""Fixtures of the health page's tests: the api-server's own dataset seeded with known rows, and a scrape token.

``GA_METRICS_TOKEN`` must be in the api-server's environment, which is this process's environment when the
``airflow_stack`` fixture starts it: conftest files are imported while tests are collected, before any fixture
runs, so setting it here reaches the api-server whichever test starts the stack.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

import pytest

from game_analytics.config import load_settings
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.environment import admin_password
from game_analytics.warehouse.client import bigquery_client
from game_analytics.warehouse.schema import create_dataset_and_tables
from tests.sql.rows import Warehouse
from tests.ui import seed as seeding

os.environ.setdefault("GA_METRICS_TOKEN", secrets.token_urlsafe(24))


@pytest.fixture(scope="module")
def server(airflow_stack) -> str:
    return f"http://127.0.0.1:{airflow_stack.ports.airflow}"


@pytest.fixture(scope="module")
def user_token(airflow_stack) -> str:
    return AirflowApi(airflow_stack.ports.airflow, password=admin_password()).token()


@pytest.fixture(scope="module")
def seeded(airflow_stack):
    """The seed rows in the dataset the api-server reads (GA_BQ_DATASET of the session), removed afterwards.

    Planted at the session's now: the page reads as of the api-server's clock, so the rows must be recent.
    """
    yield from planted(seeding)


def planted(seed_module):
    """(warehouse, seed) with ``seed_module``'s rows (tests.ui.seed, tests.ui.kpi_seed: build, plant, restore) planted
    at now in the dataset the api-server reads, and what they replaced put back afterwards: a fixture's body."""
    settings = load_settings()
    client = bigquery_client(settings)
    create_dataset_and_tables(client, settings)
    warehouse = Warehouse(client, settings)
    seed = seed_module.build(datetime.now(UTC))
    replaced = seed_module.plant(warehouse, seed)
    yield warehouse, seed
    seed_module.restore(warehouse, seed, replaced)
