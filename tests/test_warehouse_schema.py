"""The table catalogue (sql/<table>/metadata.yaml) agrees with the SQL next to it, and the set-up step creates
every catalogue table, with its column descriptions, on a fresh warehouse and is safe to run again."""

from __future__ import annotations

import re

import pytest

from game_analytics.catalogue import KINDS, load_catalogue
from game_analytics.dag_defaults import DAILY_DAG, HEALTH_DAG, INGEST_DAG
from game_analytics.warehouse.schema import create_dataset_and_tables, created_tables

CATALOGUE = load_catalogue()
_COLUMN = re.compile(r"^\s+`?(\w+)`?\s+[A-Z]", re.MULTILINE)
_READS = re.compile(r"\{\{ dataset \}\}\.(\w+)`")


def ddl_columns(ddl: str) -> list[str]:
    body = ddl[ddl.index("(") : ddl.index("\n)")]
    return _COLUMN.findall(body)


@pytest.mark.parametrize("table", [t.name for t in CATALOGUE])
def test_metadata_agrees_with_the_sql_next_to_it(table):
    t = CATALOGUE[table]
    assert t.kind in KINDS and t.description and t.owner and t.built_by
    if t.schema_sql:
        ddl = (t.folder / "schema.sql").read_text()
        assert ddl_columns(ddl) == list(t.columns), "metadata columns must list the DDL's columns, in order"
        if t.partition_field:
            partition = re.escape(t.partition_field)
            if t.partition_column_type == "TIMESTAMP":
                partition = rf"DATE\({partition}\)"
            elif t.partition_column_type == "INT64":  # integer-range partitioning
                partition = rf"RANGE_BUCKET\(`?{partition}`?, GENERATE_ARRAY\(0, \d+, 1\)\)"
            assert re.search(rf"PARTITION BY `?{partition}`?", ddl), partition
        if t.clustering:
            assert "CLUSTER BY " + ", ".join(t.clustering) in ddl
        assert ("require_partition_filter = TRUE" in ddl) == t.require_partition_filter
    reads = {
        name for f in (t.query_sql, t.export_sql) if f for name in _READS.findall((t.folder.parent / f).read_text())
    }
    assert reads <= set(t.depends_on) | {t.name}, f"{table} reads {sorted(reads)} but depends_on {t.depends_on}"


def test_the_lineage_is_the_pipeline():
    assert CATALOGUE.names(kind="metric") == ["level_metrics", "revenue_daily_metrics", "user_daily_metrics"]
    assert CATALOGUE.upstream("level_features") == ["events", "level_metrics"]
    assert {t.built_by for t in CATALOGUE} == {INGEST_DAG, DAILY_DAG, HEALTH_DAG}


def test_setup_is_idempotent_partitions_by_date_and_describes_columns(warehouse, settings):
    again = create_dataset_and_tables(warehouse, settings)  # second run on an existing warehouse
    expected = [t.name for t in created_tables()]
    assert again == expected and "level_features" not in expected  # a feature export is not a table
    names = {t.table_id for t in warehouse.list_tables(f"{settings.bq_project}.{settings.bq_dataset}")}
    assert names == set(expected)
    for table in created_tables():
        stored = warehouse.get_table(f"{settings.bq_project}.{settings.bq_dataset}.{table.name}")
        if table.day_column:
            assert stored.time_partitioning is not None and stored.time_partitioning.field == table.day_column
        assert {f.name: f.description for f in stored.schema} == table.columns, table.name


def test_the_ddl_script_keeps_each_separator_out_of_a_trailing_comment(warehouse, settings):
    """The tables' DDL is one script: a file that ends in a comment must not swallow the next statement."""
    from game_analytics.warehouse.client import query_rows
    from game_analytics.warehouse.schema import ddl_script

    table = f"`{settings.bq_project}.{settings.bq_dataset}.ddl_probe`"
    script = ddl_script([f"CREATE TABLE {table} (x INT64) -- a trailing comment", f"INSERT INTO {table} VALUES (1);"])
    warehouse.query(script).result()
    assert query_rows(warehouse, f"SELECT x FROM {table}") == [{"x": 1}]
