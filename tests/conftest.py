"""Test session set-up: a private state folder, dev connections as AIRFLOW_CONN_* and the local servers.

The environment is fixed at import, before anything imports Airflow, so every test (and every ``airflow`` CLI
call a test makes) sees the same AIRFLOW_HOME, DAG folder and connections. The servers run on free ports, so a
``make run`` on the default ports does not collide with the suite.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from game_analytics.localstack.environment import REPO_ROOT, StackPorts, StateDirs, stack_environment
from game_analytics.localstack.servers import free_port

STATE = StateDirs(Path(tempfile.mkdtemp(prefix="game-analytics-tests-")))
if not os.environ.get("GA_KEEP_TEST_STATE"):  # set it to keep the servers' logs for debugging
    atexit.register(shutil.rmtree, STATE.root, ignore_errors=True)
PORTS = StackPorts(
    bigquery=free_port(), bigquery_grpc=free_port(), kafka=free_port(), airflow=free_port(), postgres=free_port()
)
os.environ.update(stack_environment(STATE, PORTS))
# The scheduler runs backfills but creates no scheduled runs: a run for "yesterday" would only wait for events
# no test loads, and poll the emulator from a worker for the whole session.
os.environ["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
# Retries through the real scheduler in seconds, not minutes (tests/e2e/test_rerun_recomputes.py watches one).
os.environ["GA_RETRY_DELAY_SECONDS"] = "3"
# Writing a crash point's name to this file kills the next task that reaches it, once (crash_points.py).
CRASH_AT_FILE = STATE.root / "crash-at"
os.environ["GA_CRASH_AT_FILE"] = str(CRASH_AT_FILE)

DAGS_DIR = REPO_ROOT / "dags"


AIRFLOW_GROUP = "airflow"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (pyproject's ``--dist loadgroup``) every test that needs the Airflow stack runs on one
    worker: each worker starts its own servers, and a second Airflow would cost its start and its idle load.

    xdist 3.8 tells its controller a test's group by renaming it ``<nodeid>@<group>``, which pytest 9.2's structured
    node ids silently ignore (pytest-dev/pytest-xdist#1386): the tests were spread over both workers. Until a
    release fixes it, the worker renames them here as xdist would (only under loadgroup, only when xdist has not).
    """
    for item in items:
        if "airflow_stack" not in getattr(item, "fixturenames", ()):
            continue
        item.add_marker(pytest.mark.xdist_group(AIRFLOW_GROUP))
        if config.getoption("loadgroup", False) and "@" not in item.nodeid and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid}@{AIRFLOW_GROUP}")


@pytest.fixture(scope="session")
def local_stack():
    """BigQuery emulator and Kafka broker for the whole session (Airflow components on demand)."""
    from game_analytics.localstack.launcher import LocalStack

    stack = LocalStack(STATE.root, PORTS, with_airflow=False, say=lambda _msg: None)
    with stack:
        yield stack


@pytest.fixture(scope="session")
def airflow_stack(local_stack):
    """The local stack plus PostgreSQL (the metadata DB), api-server, scheduler, dag-processor and triggerer."""
    local_stack.start_airflow()
    return local_stack


@pytest.fixture
def settings():
    """Pipeline settings with a dataset of this test's own, so tests never see each other's rows."""
    from game_analytics.config import load_settings

    return dataclasses.replace(load_settings(), bq_dataset=f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def bq(local_stack, settings):
    from game_analytics.warehouse.client import bigquery_client

    return bigquery_client(settings)


@pytest.fixture
def warehouse(bq, settings):
    """A fresh dataset with every table created by the real setup step."""
    from game_analytics.warehouse.schema import create_dataset_and_tables

    create_dataset_and_tables(bq, settings)
    return bq
