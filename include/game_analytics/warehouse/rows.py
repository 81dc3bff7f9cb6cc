"""Rows written by a MERGE template as SQL literals: the one writer every domain uses for its own records.

The daily checks write ``check_results`` (daily/quality.py), an ingestion attempt ``ingestion_runs``
(ingest/attempts.py), the health DAG its measurements and the DAG callbacks their outcomes (health/), the model
registry its runs (ml/): each domain writes its records through this module, in the warehouse layer below them all,
so none imports another to write (health/ only reads the tables the others write). Rows reach the SQL templates as
literals made here by :func:`sql_literal` (text quoted by the one quoting helper, ``sql_string``), in the column
order of the table's ``metadata.yaml``, which is checked: a writer that misses or invents a column fails before the
warehouse sees it. No Airflow import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from game_analytics.config import Settings
from game_analytics.warehouse.sql_templates import render_sql, sql_string


def sql_literal(value: object) -> str:
    """``value`` as a GoogleSQL literal: NULL, a number, ``DATE '...'``, ``TIMESTAMP '...'`` (UTC) or a string."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no timezone (pass UTC)")
        return "TIMESTAMP " + sql_string(value.astimezone(UTC).isoformat())
    if isinstance(value, date):
        return "DATE " + sql_string(value.isoformat())
    return sql_string(str(value))


def literal_rows(settings: Settings, table: str, rows: Sequence[Mapping[str, object]]) -> list[dict[str, str]]:
    """``rows`` as SQL literals in ``table``'s column order; a row whose columns are not the table's is an error."""
    from game_analytics.catalogue import load_catalogue

    columns = list(load_catalogue(settings)[table].columns)
    literal = []
    for row in rows:
        if set(row) != set(columns):
            raise ValueError(f"a row of {table} needs exactly the columns {columns}, got {sorted(row)}")
        literal.append({column: sql_literal(row[column]) for column in columns})
    return literal


def write_rows(client, settings: Settings, template: str, table: str, rows: Sequence[Mapping], **variables) -> None:
    """Run ``template`` (a MERGE of ``rows`` into ``table``) and wait for it; nothing to write is a no-op."""
    if rows:
        sql = render_sql(template, settings, rows=literal_rows(settings, table, rows), **variables)
        client.query(sql).result()
