"""Create the dataset and every catalogue table idempotently, on a fresh warehouse (local emulator or real BigQuery).

The tables are those of the catalogue (``game_analytics.catalogue``) that have a ``sql/<table>/schema.sql``
(``CREATE TABLE IF NOT EXISTS``, then ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` for a column added later, so
existing tables catch up), so running this again is a no-op. Each column's description comes from the table's
``metadata.yaml`` and is written to BigQuery only when it differs from what the table holds.

The tables' DDL goes to the warehouse as one script, one request instead of one per table (about 0.3 s less on
the local stack, where every test's warehouse is set up this way).
"""

from __future__ import annotations

from game_analytics.catalogue import Table, load_catalogue
from game_analytics.config import Settings
from game_analytics.warehouse.sql_templates import render_sql


def created_tables(settings: Settings | None = None) -> list[Table]:
    """The catalogue's tables that the set-up creates, in dependency order."""
    return load_catalogue(settings).created()


def _describe_columns(client, settings: Settings, table: Table) -> None:
    from google.cloud import bigquery

    bq_table = client.get_table(f"{settings.bq_project}.{settings.bq_dataset}.{table.name}")
    schema = [
        bigquery.SchemaField.from_api_repr({**f.to_api_repr(), "description": table.columns.get(f.name)})
        for f in bq_table.schema
    ]
    if [f.description for f in schema] != [f.description for f in bq_table.schema]:
        bq_table.schema = schema
        client.update_table(bq_table, ["schema"])


def create_dataset_and_tables(client, settings: Settings) -> list[str]:
    """Ensure the dataset and all tables exist, with their column descriptions; returns the table names."""
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{settings.bq_project}.{settings.bq_dataset}")
    dataset.location = settings.bq_location
    client.create_dataset(dataset, exists_ok=True)
    tables = created_tables(settings)
    client.query(ddl_script([render_sql(table.schema_sql, settings) for table in tables])).result()
    for table in tables:
        _describe_columns(client, settings, table)
    return [t.name for t in tables]


def ddl_script(statements: list[str]) -> str:
    """The tables' DDL files as one script: each ends in a ';' on a line of its own, so a comment that ends a file
    cannot take the separator."""
    return "\n".join(f"{sql.rstrip().removesuffix(';')}\n;" for sql in statements)
