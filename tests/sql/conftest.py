"""A BigQuery-emulator dataset per test module, so a module's tests can share one set of input rows."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from tests.sql.rows import Warehouse


@pytest.fixture(scope="module")
def wh(local_stack) -> Warehouse:
    """A fresh dataset with every table created by the real setup step, for the whole test module."""
    from game_analytics.config import load_settings
    from game_analytics.warehouse.client import bigquery_client
    from game_analytics.warehouse.schema import create_dataset_and_tables

    settings = dataclasses.replace(load_settings(), bq_dataset=f"t_{uuid.uuid4().hex[:12]}")
    client = bigquery_client(settings)
    create_dataset_and_tables(client, settings)
    return Warehouse(client, settings)
