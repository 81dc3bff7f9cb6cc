"""Every read of `events` filters its partition column, so no query scans the whole table.

`events` is partitioned by event_date with require_partition_filter; the emulator does not enforce that option, so
this test does: each rendered .sql under sql/ is parsed with sqlglot (BigQuery dialect) and every `events` table a
SELECT reads must be filtered, in that SELECT's own WHERE, by a top-level conjunct `event_date = ...`,
`event_date BETWEEN ... AND ...` or `event_date IN (<values>)`; a MERGE into `events` (the ingestion's) reads its
target too, and must filter it so in its ON clause. Templates are rendered with the sample values .sqlfluff gives
their own variables (the ingestion's batch, say) plus Airflow's.
"""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from game_analytics.config import load_settings
from game_analytics.warehouse.sql_templates import SQL_DIR, render_sql, sql_context

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
LINT_CONFIG = Path(__file__).resolve().parents[2] / ".sqlfluff"
EVENTS_REF = re.compile(r"\.events`")


def _sql_files_reading_events() -> list[str]:
    return sorted(
        str(p.relative_to(SQL_DIR))
        for p in SQL_DIR.rglob("*.sql")
        if p.name != "schema.sql" and not p.is_relative_to(SQL_DIR / "_macros") and EVENTS_REF.search(p.read_text())
    )


def _template_variables() -> dict[str, object]:
    """.sqlfluff's sample values (read as sqlfluff does: a Python literal, else the text), then Airflow's."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(LINT_CONFIG)
    pipeline = sql_context(load_settings())  # render_sql adds these itself
    values: dict[str, object] = {}
    for key, raw in parser["sqlfluff:templater:jinja:context"].items():
        if key in pipeline:
            continue
        try:
            values[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            values[key] = raw
    return {**values, **AIRFLOW_CONTEXT}


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _filters_event_date(condition: exp.Expression | None) -> bool:
    if condition is None:
        return False
    for cond in _conjuncts(condition):
        if isinstance(cond, exp.EQ):
            sides = (cond.left, cond.right)
        elif isinstance(cond, exp.Between) or (isinstance(cond, exp.In) and not cond.args.get("query")):
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
            if isinstance(table.parent, exp.Merge) and table.parent.this is table:  # reads its target too
                reads += 1
                if not _filters_event_date(table.parent.args.get("on")):
                    offenders.append(table.parent.sql(dialect="bigquery"))
                continue
            select = table.find_ancestor(exp.Select)
            if select is None:  # a write target (INSERT / DELETE), not a read
                continue
            reads += 1
            where = select.args.get("where")
            if not _filters_event_date(where.this if where else None):
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
    sql = render_sql(path, load_settings(), **_template_variables())
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
        # IN a subquery does not prune.
        "SELECT 1 AS x FROM `p.d.events` WHERE event_date IN (SELECT d FROM `p.d.days`)",
        # A MERGE into events whose ON clause does not filter the target scans all of it.
        "MERGE `p.d.events` AS T USING `p.d.s` AS S ON T.event_id = S.event_id "
        "WHEN NOT MATCHED THEN INSERT (event_id) VALUES (S.event_id)",
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
        "SELECT 1 AS x FROM `p.d.events` WHERE event_date IN (DATE '2026-01-01', DATE '2026-01-03')",
        "MERGE `p.d.events` AS T USING `p.d.s` AS S ON T.event_id = S.event_id AND T.event_date = DATE '2026-01-02' "
        "WHEN NOT MATCHED THEN INSERT (event_id) VALUES (S.event_id)",
        "INSERT INTO `p.d.events` (event_id) SELECT event_id FROM `p.d.staging`",
    ],
)
def test_a_filtered_read_passes(sql):
    if sql.startswith("INSERT"):
        with pytest.raises(AssertionError, match="does not read events"):
            unfiltered_events_reads(sql)
    else:
        assert unfiltered_events_reads(sql) == []
