"""Adding a table is adding a folder: a throwaway metric table in a copy of sql/ gets its task, its checks task
and its warehouse table, with no Python edit."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily.quality import run_table_checks
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.schema import create_dataset_and_tables
from game_analytics.warehouse.sql_templates import SQL_DIR, render_sql
from tests.conftest import DAGS_DIR

NEW = "players_per_platform"
DAY = "2026-11-02"
FOLDER = {
    "metadata.yaml": f"""
description: Distinct players per platform and day (a throwaway table of the catalogue test).
kind: metric
owner: game-analytics
built_by: {DAILY_DAG}
partitioning: {{field: date}}
clustering: [platform]
depends_on: [events]
columns:
  date: Day D.
  platform: Platform as stored.
  players: Distinct players with an event on D.
""",
    "schema.sql": """CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.players_per_platform` (
    `date` DATE NOT NULL,
    platform STRING,
    players INT64
)
PARTITION BY `date`
CLUSTER BY platform
""",
    "query.sql": """SELECT
    DATE '{{ ds }}' AS `date`,
    platform,
    COUNT(DISTINCT user_id) AS players
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
GROUP BY platform
""",
    "checks/no_empty_platform_row.sql": """-- severity: fail
-- description: every platform row counts at least one player
SELECT platform, players
FROM `{{ project }}.{{ dataset }}.players_per_platform`
WHERE `date` = DATE '{{ ds }}' AND players < 1
""",
}


@pytest.fixture
def sql_with_a_new_table(tmp_path) -> Path:
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    for name, text in FOLDER.items():
        (sql / NEW / name).parent.mkdir(parents=True, exist_ok=True)
        (sql / NEW / name).write_text(text.lstrip())
    return sql


def test_its_tasks_appear_in_the_daily_dag(sql_with_a_new_table):
    probe = f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS_DIR)!r})
assert not bag.import_errors, bag.import_errors
dag = bag.dags[{DAILY_DAG!r}]
print(json.dumps({{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}}))
print(json.dumps([a.uri for a in dag.get_task({NEW!r}).outlets]))
"""
    env = {**os.environ, "GA_SQL_DIR": str(sql_with_a_new_table)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    graph, outlets = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert graph[NEW] == ["wait_for_events"]
    assert graph[f"checks_{NEW}"] == [NEW]
    assert outlets[0].endswith(f"/{NEW}")
    assert graph["export_level_features"] == ["checks_events", "checks_level_metrics"]  # the rest is unchanged


def test_its_table_is_created_built_and_checked(sql_with_a_new_table, bq, settings):
    settings = dataclasses.replace(settings, sql_dir=str(sql_with_a_new_table))
    assert NEW in create_dataset_and_tables(bq, settings)
    table = bq.get_table(f"{settings.bq_project}.{settings.bq_dataset}.{NEW}")
    assert {f.name: f.description for f in table.schema}["players"] == "Distinct players with an event on D."
    bq.query(
        f"INSERT INTO {settings.table('events')} (event_id, user_id, event_type, `timestamp`, event_date, platform) "
        f"VALUES ('e1', 'u1', 3001, TIMESTAMP '{DAY} 10:00:00+00', DATE '{DAY}', 'ios'), "
        f"('e2', 'u2', 3001, TIMESTAMP '{DAY} 11:00:00+00', DATE '{DAY}', 'ios')"
    ).result()
    bq.query(render_sql("replace_partition.sql", settings, ds=DAY, params={"table": NEW})).result()
    rows = query_rows(bq, f"SELECT platform, players FROM {settings.table(NEW)} WHERE `date` = '{DAY}'")
    assert rows == [{"platform": "ios", "players": 2}]
    results = run_table_checks(lambda sql: query_rows(bq, sql), settings, NEW, DAY)
    assert [(r.check.name, r.passed) for r in results] == [("no_empty_platform_row", True)]
