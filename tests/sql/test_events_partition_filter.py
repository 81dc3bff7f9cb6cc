"""Every read of `events` filters its partition column, so no query scans the whole table.

`events` is partitioned by event_date with require_partition_filter; the emulator does not enforce that option, so
this test does: each rendered .sql under sql/ is parsed with sqlglot (BigQuery dialect) and every `events` table a
SELECT reads must be filtered, in that SELECT's own WHERE, by a top-level conjunct `event_date = ...` or
`event_date BETWEEN ... AND ...`.
"""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from game_analytics.config import load_settings
from game_analytics.warehouse.sql_templates import SQL_DIR, render_sql

DS = "2026-01-02"
# Airflow template variables besides the pipeline's own, for templates that use them.
AIRFLOW_CONTEXT = {
    "ds": DS,
    "ds_nodash": DS.replace("-", ""),
    "ts": f"{DS}T00:00:00+00:00",
    "data_interval_start": f"{DS}T00:00:00+00:00",
    "data_interval_end": "2026-01-03T00:00:00+00:00",
    "logical_date": f"{DS}T00:00:00+00:00",
}
EVENTS_REF = re.compile(r"\.events`")


def _sql_files_reading_events() -> list[str]:
    return sorted(
        str(p.relative_to(SQL_DIR))
        for p in SQL_DIR.rglob("*.sql")
        if p.name != "schema.sql" and not p.is_relative_to(SQL_DIR / "_macros") and EVENTS_REF.search(p.read_text())
    )


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _filters_event_date(select: exp.Select) -> bool:
    where = select.args.get("where")
    if where is None:
        return False
    for cond in _conjuncts(where.this):
        if isinstance(cond, exp.EQ):
            sides = (cond.left, cond.right)
        elif isinstance(cond, exp.Between):
            sides = (cond.this,)
        else:
            continue
        if any(isinstance(side, exp.Column) and side.name == "event_date" for side in sides):
            return True
    return False


def unfiltered_events_reads(sql: str) -> list[str]:
    """The SELECTs (as SQL) that read `events` without an event_date filter; the SQL must read `events`."""
    reads = 0
    offenders = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            if table.name != "events":
                continue
            select = table.find_ancestor(exp.Select)
            if select is None:  # a write target (INSERT / MERGE / DELETE), not a read
                continue
            reads += 1
            if not _filters_event_date(select):
                offenders.append(select.sql(dialect="bigquery"))
    assert reads, "the SQL does not read events"
    return offenders


FILES = _sql_files_reading_events()


def test_the_metric_queries_and_checks_are_covered():
    expected = {
        "level_metrics/query.sql",
        "user_daily_metrics/query.sql",
        "revenue_daily_metrics/query.sql",
        "events/checks/level_complete_volume.sql",
        "events_dlq/checks/dlq_share_fail.sql",
        "events_dlq/checks/dlq_share_warn.sql",
    }
    assert expected <= set(FILES)


@pytest.mark.parametrize("path", FILES)
def test_every_read_of_events_filters_event_date(path):
    sql = render_sql(path, load_settings(), **AIRFLOW_CONTEXT)
    assert unfiltered_events_reads(sql) == [], f"{path} reads events without an event_date filter"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT COUNT(*) AS n FROM `p.d.events`",
        "SELECT user_id FROM `p.d.events` WHERE user_id = 'u1'",
        # A filter on an outer query does not restrict the inner scan.
        "SELECT * FROM (SELECT event_date FROM `p.d.events`) WHERE event_date = DATE '2026-01-02'",
        # Only a CTE is filtered; the second scan of events is not.
        "WITH a AS (SELECT 1 AS x FROM `p.d.events` WHERE event_date = DATE '2026-01-02') "
        "SELECT * FROM a CROSS JOIN (SELECT COUNT(*) AS n FROM `p.d.events`)",
        # OR-ed filters do not prune.
        "SELECT 1 AS x FROM `p.d.events` WHERE event_date = DATE '2026-01-02' OR user_id = 'u1'",
        # A scalar subquery without a filter.
        "SELECT (SELECT COUNT(*) FROM `p.d.events`) AS n",
    ],
)
def test_an_unfiltered_read_is_caught(sql):
    assert unfiltered_events_reads(sql) != []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS x FROM `p.d.events` WHERE event_date = DATE '2026-01-02'",
        "SELECT 1 AS x FROM `p.d.events` AS e WHERE e.user_id = 'u' AND (e.event_date = DATE '2026-01-02')",
        "SELECT 1 AS x FROM `p.d.events` WHERE event_date BETWEEN DATE '2026-01-01' AND DATE '2026-01-02'",
        "INSERT INTO `p.d.events` (event_id) SELECT event_id FROM `p.d.staging`",
    ],
)
def test_a_filtered_read_passes(sql):
    if "INSERT" in sql:
        with pytest.raises(AssertionError, match="does not read events"):
            unfiltered_events_reads(sql)
    else:
        assert unfiltered_events_reads(sql) == []
