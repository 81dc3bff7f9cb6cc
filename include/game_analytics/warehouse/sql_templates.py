"""Render the repository's SQL templates the way Airflow renders them, with one way to inline a value.

The `.sql` files under ``sql/`` are Jinja templates. Airflow renders them inside tasks (the DAG passes
:func:`sql_context` as ``user_defined_macros``, and adds ``ds`` etc.); tests, the setup step, the ingestion and the
benchmark render them here with the same variables, so what is tested is what runs.

The folder is a setting (``GA_SQL_DIR``), because an installed package does not know where the SQL was put (the
image sets it to /opt/airflow/sql); without the setting it is the repository's ``sql/`` next to ``include/``, where
a checkout (editable install, or ``include/`` on PYTHONPATH) finds it.

A value a template inlines goes through :func:`sql_string` (the ``sql_string`` filter): the ingestion's scripts
cannot use query parameters (the emulator ignores them inside multi-statement scripts), so topic and consumer-group
names, dates and timestamps are written into the SQL as GoogleSQL string literals, quoted in this one place.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from game_analytics.config import Settings, load_settings
from game_analytics.events.contract import MAX_AGE_SQL

# Where a checkout keeps the SQL: <repo>/sql, next to <repo>/include/game_analytics/warehouse/ (this file).
_CHECKOUT_SQL_DIR = Path(__file__).resolve().parents[3] / "sql"

# What a GoogleSQL '...' literal cannot hold as is: its quote, the escape character, and a line break (BigQuery
# rejects a raw one as an unclosed literal). Everything else, other control characters and non-ASCII text included,
# stands for itself: the emulator decodes only the simple escapes (\n, \t; not \x01 or \u00e9), BigQuery all.
_ESCAPES = {ord("\\"): "\\\\", ord("'"): "\\'", ord("\n"): "\\n", ord("\r"): "\\r"}


def sql_string(value: str) -> str:
    """``value`` as a GoogleSQL string literal: ``o'brien\\x`` -> ``'o\\'brien\\\\x'``. Text only (a date or a
    number passed by mistake would otherwise be quoted as its Python repr)."""
    if not isinstance(value, str):
        raise TypeError(f"sql_string quotes text, got {type(value).__name__} {value!r}")
    return "'" + value.translate(_ESCAPES) + "'"


# The filters every template may use; sqlfluff gets the same ones (sql/_jinja, named in .sqlfluff).
SQL_FILTERS = {"sql_string": sql_string}


def find_sql_dir(settings: Settings) -> Path:
    """The folder of the pipeline's SQL: ``GA_SQL_DIR`` if set, else the checkout's ``sql/``."""
    if settings.sql_dir:
        folder = Path(settings.sql_dir)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"GA_SQL_DIR={settings.sql_dir!r} is not a folder (it must hold the pipeline's SQL)"
            )
        return folder
    if _CHECKOUT_SQL_DIR.is_dir():
        return _CHECKOUT_SQL_DIR
    raise FileNotFoundError(
        f"no SQL folder: {_CHECKOUT_SQL_DIR} does not exist (the package is installed without the repository); "
        "set GA_SQL_DIR to the folder that holds the repository's sql/"
    )


# The SQL folder of this process's settings, for code that lists the files (the catalogue, the DAG's searchpath).
SQL_DIR = find_sql_dir(load_settings())


def sql_context(settings: Settings) -> dict[str, object]:
    """Variables every SQL template may use besides Airflow's own (``ds``, ``params``)."""
    return {
        "project": settings.bq_project,
        "dataset": settings.bq_dataset,
        "features_bucket": settings.features_bucket,
        "completeness_grace_minutes": settings.completeness_grace_minutes,
        "volume_drop_warn_ratio": settings.volume_drop_warn_ratio,
        "dlq_share_warn": settings.dlq_share_warn,
        "dlq_share_fail": settings.dlq_share_fail,
        # the de-duplication scope of `events`: the validator's maximum event age (events/deduplicate.sql)
        "event_max_age": MAX_AGE_SQL,
    }


@functools.cache
def _environment(sql_dir: Path) -> jinja2.Environment:
    # StrictUndefined, like Airflow: an undefined variable is an error, not an empty string. One environment per
    # folder keeps the compiled templates (the ingestion renders its script once per batch).
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(sql_dir)), undefined=jinja2.StrictUndefined)
    environment.filters.update(SQL_FILTERS)
    return environment


def render_sql(relative_path: str, settings: Settings, **variables: object) -> str:
    """Render ``<SQL folder>/<relative_path>`` with the pipeline's context plus ``variables`` (e.g. ``ds``)."""
    template = _environment(find_sql_dir(settings)).get_template(relative_path)
    return template.render(**sql_context(settings), **variables)
