"""The table catalogue: one folder per table under ``sql/``, and everything else derived from the folders.

A folder ``sql/<table>/`` holds ``metadata.yaml`` (what the table is, who owns it, how it is partitioned, which
tables it reads, which DAG builds it, what its columns mean) and, as the table needs them, ``schema.sql`` (the
DDL), ``query.sql`` (the SELECT that builds partition D), ``export.sql`` (a feature export) and ``checks/*.sql``.
The daily DAG's tasks and their order, ``create_tables``, the demo's summary and the tests' table lists are all
read from here, so adding a table is adding a folder (as in mozilla/bigquery-etl). Folders whose name starts with
``_`` (Jinja macros) are not tables.

Loading is cheap (a handful of small YAML files) because DAG files call it at every parse. No Airflow import here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from game_analytics.config import Settings, load_settings

KINDS = ("source", "metric", "state", "kpi", "feature", "operational")
REQUIRED_KEYS = ("description", "kind", "owner", "built_by", "depends_on", "columns")


class CatalogueError(ValueError):
    """A table folder that breaks the catalogue's rules; the message names the folder and the rule."""


@dataclass(frozen=True)
class Table:
    name: str
    folder: Path
    kind: str
    description: str
    owner: str
    built_by: str
    depends_on: tuple[str, ...]
    columns: dict[str, str]  # column -> description (becomes the BigQuery column description)
    partition_field: str | None = None
    partition_column_type: str = "DATE"
    require_partition_filter: bool = False
    clustering: tuple[str, ...] = ()
    # Partition D is built from partition D-1 (player state): its task waits for D-1 first (daily/previous_day.py).
    builds_on_previous_day: bool = False

    @property
    def schema_sql(self) -> str | None:
        """``<table>/schema.sql`` relative to the SQL folder, when the table is created in the warehouse."""
        return f"{self.name}/schema.sql" if (self.folder / "schema.sql").exists() else None

    @property
    def query_sql(self) -> str | None:
        return f"{self.name}/query.sql" if (self.folder / "query.sql").exists() else None

    @property
    def export_sql(self) -> str | None:
        return f"{self.name}/export.sql" if (self.folder / "export.sql").exists() else None

    @property
    def check_files(self) -> list[Path]:
        return sorted((self.folder / "checks").glob("*.sql"))

    @property
    def day_column(self) -> str | None:
        """The DATE column that holds day D (its partition), if the table has one."""
        return self.partition_field if self.partition_column_type == "DATE" else None


def _table(folder: Path) -> Table:
    path = folder / "metadata.yaml"
    if not path.exists():
        raise CatalogueError(f"{folder}: a table folder needs a metadata.yaml (see README, 'The table catalogue')")
    try:
        meta = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise CatalogueError(f"{path}: missing key(s) {', '.join(missing)}")
    if meta["kind"] not in KINDS:
        raise CatalogueError(f"{path}: kind {meta['kind']!r} is not one of {', '.join(KINDS)}")
    if not isinstance(meta["columns"], dict) or not meta["columns"]:
        raise CatalogueError(f"{path}: columns must map each column to its description")
    partitioning = meta.get("partitioning") or {}
    return Table(
        name=folder.name,
        folder=folder,
        kind=meta["kind"],
        description=str(meta["description"]).strip(),
        owner=str(meta["owner"]),
        built_by=str(meta["built_by"]),
        depends_on=tuple(meta["depends_on"] or ()),
        columns={str(k): str(v).strip() for k, v in meta["columns"].items()},
        partition_field=partitioning.get("field"),
        partition_column_type=str(partitioning.get("column_type", "DATE")).upper(),
        require_partition_filter=bool(partitioning.get("require_filter", False)),
        clustering=tuple(meta.get("clustering") or ()),
        builds_on_previous_day=bool(meta.get("builds_on_previous_day", False)),
    )


def _in_dependency_order(tables: dict[str, Table]) -> list[Table]:
    """Every table after the tables it depends on (then by name); unknown or circular dependencies are errors."""
    for table in tables.values():
        unknown = [d for d in table.depends_on if d not in tables]
        if unknown:
            raise CatalogueError(f"{table.folder}/metadata.yaml: depends_on names unknown table(s) {unknown}")
    ordered: list[Table] = []
    placed: set[str] = set()
    remaining = sorted(tables)
    while remaining:
        ready = [n for n in remaining if set(tables[n].depends_on) <= placed]
        if not ready:
            raise CatalogueError(f"circular depends_on among {remaining}")
        for name in ready:
            ordered.append(tables[name])
            placed.add(name)
        remaining = [n for n in remaining if n not in placed]
    return ordered


class Catalogue:
    """The tables of one SQL folder, in dependency order."""

    def __init__(self, sql_dir: Path):
        self.sql_dir = Path(sql_dir)
        folders = [p for p in sorted(self.sql_dir.iterdir()) if p.is_dir() and not p.name.startswith("_")]
        self._tables = {t.name: t for t in _in_dependency_order({f.name: _table(f) for f in folders})}

    def __iter__(self) -> Iterator[Table]:
        return iter(self._tables.values())

    def __getitem__(self, name: str) -> Table:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r} in {self.sql_dir} (tables: {', '.join(self._tables)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def names(self, **where: object) -> list[str]:
        """Names of the tables whose attributes equal ``where`` (e.g. ``kind="metric"``), in dependency order."""
        return [t.name for t in self if all(getattr(t, k) == v for k, v in where.items())]

    def created(self) -> list[Table]:
        """The tables the set-up step creates (those with a schema.sql)."""
        return [t for t in self if t.schema_sql]

    def upstream(self, name: str) -> list[str]:
        """Every table ``name`` reads, directly or through other tables, in dependency order."""
        seen: set[str] = set()
        stack = list(self[name].depends_on)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self[current].depends_on)
        return [t.name for t in self if t.name in seen]


def load_catalogue(settings: Settings | None = None) -> Catalogue:
    """The catalogue of the SQL folder of ``settings`` (default: the environment's), the one ``render_sql`` reads."""
    from game_analytics.warehouse.sql_templates import find_sql_dir

    return Catalogue(find_sql_dir(settings or load_settings()))
