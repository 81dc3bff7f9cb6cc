"""The DagBag of the repository's DAG folder, parsed once for the DAG tests."""

from __future__ import annotations

import pytest

from tests.conftest import DAGS_DIR


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))
