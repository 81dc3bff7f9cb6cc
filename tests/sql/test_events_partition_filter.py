"""Every read of `events` filters its partition column, so no query scans the whole table; and the health
queries (run every 5 minutes) read only the partitions they need of every partitioned table.

`events` is partitioned by event_date with require_partition_filter; the emulator does not enforce that option, so
this test does: each rendered .sql under sql/ is parsed with sqlglot (BigQuery dialect) and every `events` table a
SELECT reads must be filtered, in that SELECT's own WHERE, by a top-level conjunct `event_date = ...`,
`event_date BETWEEN ... AND ...` or `event_date IN (<values>)`; a MERGE into `events` (the ingestion's) reads its
target too, and must filter it so in its ON clause. The health queries (the folders of the operational tables they
read and write) are held to the same rule for every partitioned table of the catalogue, its partition column
bounded by a conjunct as above or a range comparison (`finished_at > ...`); a MERGE target's filter may also be a
WHEN clause's condition (the replace-MERGE's `WHEN NOT MATCHED BY SOURCE AND day = ...`), and a DELETE's is its
WHERE. Templates are
rendered with the sample values .sqlfluff gives their own variables (the ingestion's batch, say; a folder's own
.sqlfluff adds its templates' variables, as sqlfluff reads it) plus Airflow's.
"""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from game_analytics.catalogue import load_catalogue
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
_IN_FILE_CONTEXT = re.compile(r"^--\s*sqlfluff:templater:jinja:context:(\w+):(.*?)\s*$", re.MULTILINE)


# Parts of the ingestion's batch script (sql/ingest_batch.sql includes them; they append to events, live_event_counts
# and events_dlq and read nothing of them): tested whole below, in test_no_statement_of_a_batch_reads_the_history.
BATCH_PARTS = {"events/ingest_insert.sql", "live_event_counts/ingest_insert.sql", "events_dlq/ingest_insert.sql"}


def _sql_files_reading_events() -> list[str]:
    return sorted(
        str(p.relative_to(SQL_DIR))
        for p in SQL_DIR.rglob("*.sql")
        if p.name != "schema.sql"
        and not p.is_relative_to(SQL_DIR / "_macros")
        and str(p.relative_to(SQL_DIR)) not in BATCH_PARTS
        and EVENTS_REF.search(p.read_text())
    )


def _template_variables(path: str = "") -> dict[str, object]:
    """.sqlfluff's sample values (read as sqlfluff does: a Python literal, else the text), with those of the
    template's folder's own .sqlfluff and of its in-file settings over them, then Airflow's."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read([LINT_CONFIG, SQL_DIR / Path(path).parent / ".sqlfluff"] if path else [LINT_CONFIG])
    pipeline = sql_context(load_settings())  # render_sql adds these itself
    values: dict[str, object] = {}
    context = dict(parser["sqlfluff:templater:jinja:context"])
    if path:  # in-file settings: `-- sqlfluff:templater:jinja:context:<key>:<value>`
        context.update(_IN_FILE_CONTEXT.findall((SQL_DIR / path).read_text()))
    for key, raw in context.items():
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


_RANGES = (exp.GT, exp.GTE, exp.LT, exp.LTE)


def _filters_partition(condition: exp.Expression | None, column: str = "event_date", ranges: bool = False) -> bool:
    """A top-level conjunct of ``condition`` bounds ``column``: =, BETWEEN, IN (values), and with ``ranges`` a
    comparison (<, <=, >, >=) too."""
    if condition is None:
        return False
    for cond in _conjuncts(condition):
        if isinstance(cond, exp.EQ) and isinstance(cond.left, exp.Column) and isinstance(cond.right, exp.Column):
            continue  # a join key (T.partition = S.partition) prunes nothing
        if isinstance(cond, exp.EQ) or (ranges and isinstance(cond, _RANGES)):
            sides = (cond.left, cond.right)
        elif isinstance(cond, exp.Between) or (isinstance(cond, exp.In) and not cond.args.get("query")):
            sides = (cond.this,)
        else:
            continue
        if any(isinstance(side, exp.Column) and side.name == column for side in sides):
            return True
    return False


def unfiltered_reads(sql: str, partitions: dict[str, str], ranges: bool = False, merge_when: bool = False) -> list[str]:
    """The SELECTs / MERGEs (as SQL) that read a table of ``partitions`` (table -> partition column) without a filter
    on its column (with ``merge_when``, MERGE's WHEN conditions count, and DELETEs are reads); a one-item list
    saying so when the SQL reads none of those tables."""
    reads = 0
    offenders = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            column = partitions.get(table.name)
            if column is None:
                continue
            if isinstance(table.parent, exp.Merge) and table.parent.this is table:  # reads its target too
                reads += 1
                merge = table.parent
                whens = merge.args["whens"].expressions if merge_when and merge.args.get("whens") else []
                conditions = [merge.args.get("on")] + [w.args.get("condition") for w in whens]
                if not any(_filters_partition(c, column, ranges) for c in conditions):
                    offenders.append(merge.sql(dialect="bigquery"))
                continue
            if isinstance(table.parent, exp.Delete) and merge_when:  # a DELETE scans what its WHERE bounds
                reads += 1
                where = table.parent.args.get("where")
                if not _filters_partition(where.this if where else None, column, ranges):
                    offenders.append(table.parent.sql(dialect="bigquery"))
                continue
            select = table.find_ancestor(exp.Select)
            if select is None:  # a write target (INSERT / DELETE), not a read
                continue
            reads += 1
            where = select.args.get("where")
            if not _filters_partition(where.this if where else None, column, ranges):
                offenders.append(select.sql(dialect="bigquery"))
    return offenders if reads else [f"reads none of {sorted(partitions)}"]


def unfiltered_events_reads(sql: str) -> list[str]:
    """The SELECTs (as SQL) that read `events` without an event_date filter; the SQL must read `events`."""
    offenders = unfiltered_reads(sql, {"events": "event_date"})
    assert offenders != ["reads none of ['events']"], "the SQL does not read events"
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
    sql = render_sql(path, load_settings(), **_template_variables(path))
    assert unfiltered_events_reads(sql) == [], f"{path} reads events without an event_date filter"


# The health queries: every statement of the measurements, their writers' reads, and what the page reads.
HEALTH_FOLDERS = ("ingestion_runs", "check_results", "dag_run_outcomes", "health_measurements", "event_volume_hourly")
PARTITIONED = {t.name: t.partition_field for t in load_catalogue() if t.partition_field}
# By time: what the health queries must bound. The offsets and watermarks are partitioned by Kafka partition (one
# row per partition and group: the probe of every partition's lag reads them all, a fixed size).
TIME_PARTITIONED = {
    t.name: t.partition_field for t in load_catalogue() if t.partition_field and t.partition_column_type != "INT64"
}
HEALTH_FILES = sorted(
    str(p.relative_to(SQL_DIR))
    for folder in HEALTH_FOLDERS
    for p in (SQL_DIR / folder).glob("*.sql")
    if p.name != "schema.sql"
)


def test_the_health_queries_are_covered():
    assert {
        "health_measurements/measure.sql",
        "health_measurements/replace.sql",
        "event_volume_hourly/merge.sql",
        "check_results/replace.sql",
        "ingestion_runs/batch_dead_letters_by_reason.sql",
    } <= set(HEALTH_FILES)


@pytest.mark.parametrize("path", HEALTH_FILES)
def test_every_health_query_reads_only_the_partitions_it_needs(path):
    sql = render_sql(path, load_settings(), **_template_variables(path))
    offenders = unfiltered_reads(sql, TIME_PARTITIONED, ranges=True, merge_when=True)
    assert offenders in ([], [f"reads none of {sorted(TIME_PARTITIONED)}"]), f"{path}: {offenders}"
    if path != "health_measurements/kafka_progress.sql":  # the only one that reads unpartitioned tables only
        assert offenders == [], f"{path} reads no partitioned table"


@pytest.mark.parametrize(
    "sql",
    [
        # A range on another column does not bound the partition.
        "SELECT 1 AS x FROM `p.d.ingestion_runs` WHERE started_at > TIMESTAMP '2026-01-01'",
        # The replace-MERGE without its partition in a WHEN clause deletes across the whole table.
        "MERGE `p.d.check_results` AS T USING (SELECT 1 AS v) AS S ON FALSE "
        "WHEN NOT MATCHED BY SOURCE AND T.table_name = 'x' THEN DELETE "
        "WHEN NOT MATCHED THEN INSERT (value) VALUES (S.v)",
        "DELETE FROM `p.d.health_measurements` WHERE metric = 'dlq_rate'",
        # One CTE bounded, the other scan of the table not.
        "WITH a AS (SELECT day FROM `p.d.check_results` WHERE day = DATE '2026-01-01') "
        "SELECT * FROM a CROSS JOIN (SELECT COUNT(*) AS n FROM `p.d.check_results`)",
    ],
)
def test_an_unbounded_health_read_is_caught(sql):
    assert unfiltered_reads(sql, PARTITIONED, ranges=True, merge_when=True) != []


@pytest.mark.parametrize(
    "sql",
    [
        "MERGE `p.d.check_results` AS T USING (SELECT 1 AS v) AS S ON FALSE "
        "WHEN NOT MATCHED BY SOURCE AND T.day = DATE '2026-01-02' AND T.table_name = 'x' THEN DELETE "
        "WHEN NOT MATCHED THEN INSERT (value) VALUES (S.v)",
        "DELETE FROM `p.d.health_measurements` WHERE measured_at = TIMESTAMP '2026-01-02 12:00:00+00'",
    ],
)
def test_a_bounded_replace_passes(sql):
    assert unfiltered_reads(sql, PARTITIONED, ranges=True, merge_when=True) == []


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


# -- the ingestion: per batch, cost follows the batch ------------------------------------------------------------
STAGING = {"_ingest_events_0123456789ab", "_ingest_dlq_0123456789ab"}  # the .sqlfluff sample's staging tables


def tables_read(sql: str) -> set[str]:
    """Every table a statement of ``sql`` reads: in a SELECT (a subquery included) or as a MERGE / DELETE target;
    a WITH clause's names are not tables."""
    read = set()
    for statement in sqlglot.parse(sql, read="bigquery"):
        ctes = {cte.alias for cte in statement.find_all(exp.CTE)} if statement else set()
        for table in statement.find_all(exp.Table) if statement else ():
            if not table.db and table.name in ctes:
                continue
            if isinstance(table.parent, exp.Merge | exp.Delete) or table.find_ancestor(exp.Select) is not None:
                read.add(table.name)
    return read


def test_no_statement_of_a_batch_reads_the_history():
    """The batch script reads its staging tables and the recorded offsets of the batch's own Kafka partitions:
    never `events`, `live_event_counts` or `events_dlq` (it only appends to them), never another partition's
    offsets."""
    sql = render_sql("ingest_batch.sql", load_settings(), **_template_variables("ingest_batch.sql"))
    appended = set(re.findall(r"^INSERT INTO `[^`]*\.(\w+)`", sql, re.MULTILINE))
    assert appended == {Path(part).parts[0] for part in BATCH_PARTS}  # the batch's statements are BATCH_PARTS
    assert tables_read(sql) == STAGING | {"ingestion_offsets"}
    assert unfiltered_reads(sql, {"ingestion_offsets": "partition"}, merge_when=True) == []


# Every MERGE and DELETE of the pipeline, against the catalogue's partitioning; the one exception says why.
UNPARTITIONED_STATE = {"alert_state/merge.sql": "one row per (alert rule, subject): its size is the alerts, not time"}
WRITES = sorted(
    str(p.relative_to(SQL_DIR))
    for p in SQL_DIR.rglob("*.sql")
    if p.name != "schema.sql"
    and not p.is_relative_to(SQL_DIR / "_macros")
    and re.search(r"^\s*(MERGE|DELETE FROM)\b", p.read_text(), re.MULTILINE)
)


def test_the_writes_are_covered():
    assert {
        "events/deduplicate.sql",
        "ingestion_offsets/merge.sql",
        "ingestion_watermarks/upsert.sql",
        "ingestion_runs/merge.sql",
        "dag_run_outcomes/merge.sql",
        "replace_partition.sql",
    } <= set(WRITES)


@pytest.mark.parametrize("path", WRITES)
def test_every_merge_and_delete_is_bounded_to_partitions(path):
    """An operational MERGE (a run's row, an outcome, offsets, watermarks) or a DELETE reads its target's
    partitions: each must bound them, or the cost of one write grows with the table's history."""
    if path in UNPARTITIONED_STATE:
        table = Path(path).parts[0]
        assert table not in PARTITIONED, f"{path}: {table} is partitioned now; bound the MERGE instead"
        return
    variables = _template_variables(path)
    if path == "replace_partition.sql":
        variables["params"] = {"table": "level_metrics"}
    sql = render_sql(path, load_settings(), **variables)
    partitions = {**PARTITIONED, "level_metrics": "date"}
    assert unfiltered_reads(sql, partitions, ranges=True, merge_when=True) == [], path


@pytest.mark.parametrize(
    "sql",
    [
        # A join key on the partition column is no bound.
        "MERGE `p.d.ingestion_offsets` AS T USING (SELECT 0 AS `partition`) AS S ON T.`partition` = S.`partition` "
        "WHEN NOT MATCHED THEN INSERT (`partition`) VALUES (S.`partition`)",
        "MERGE `p.d.ingestion_runs` AS T USING (SELECT 'r' AS run_id) AS S ON T.run_id = S.run_id "
        "WHEN MATCHED THEN UPDATE SET run_id = S.run_id",
    ],
)
def test_an_unbounded_merge_is_caught(sql):
    assert unfiltered_reads(sql, PARTITIONED, ranges=True, merge_when=True) != []
